// KeyBrake dashboard: confirmations for destructive forms, and live audit tails over Server-Sent Events.
// No framework, no build: the pages are rendered on the server; this only adds what HTML cannot do alone.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

const MAX_ROWS = 500;

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  row.appendChild(td);
}

function money(micros) {
  return micros === null || micros === undefined ? "" : "$" + (micros / 1e6).toFixed(2);
}

function startTail(table) {
  const body = table.querySelector("tbody");
  const state = document.getElementById("tail-state");
  const source = new EventSource(table.getAttribute("data-stream"));
  source.onopen = () => { if (state) state.textContent = "live"; };
  source.onerror = () => { if (state) state.textContent = "reconnecting…"; };
  source.addEventListener("audit", (message) => {
    const entry = JSON.parse(message.data);
    const row = document.createElement("tr");
    row.className = entry.outcome ?? "";
    row.dataset.seq = entry.seq;
    row.dataset.type = entry.type;
    cell(row, entry.seq);
    cell(row, entry.ts);
    cell(row, entry.type);
    cell(row, entry.method ? entry.method + " " + entry.path : "", "mono");
    cell(row, entry.decision);
    cell(row, entry.http_status);
    cell(row, money(entry.cost_usd_micros));
    cell(row, entry.reason);
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
  });
}

document.querySelectorAll("table[data-stream]").forEach(startTail);
