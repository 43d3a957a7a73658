using System.Globalization;
using System.Text;
using KeyBrake.Admin;
using KeyBrake.Proxy;
using KeyBrake.Access;

namespace KeyBrake.Audit;

/// <summary>The audit API (SPEC §7), role <c>auditor</c>, on the admin listener.</summary>
internal static class AuditEndpoints
{
    internal static readonly HashSet<string> QueryParameters =
        ["label", "label_prefix", "key_id", "vendor", "type", "outcome", "http_status", "from", "to", "min_cost_usd", "max_cost_usd", "after_seq", "limit"];
    private static readonly HashSet<string> StreamParameters = ["label", "label_prefix", "key_id", "after_seq"];
    private static readonly HashSet<string> ExportParameters = ["format", "from", "to"];
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private const int StreamBatch = 500;

    public static IServiceCollection AddKeyBrakeAudit(this IServiceCollection services)
    {
        services.AddSingleton<AuditLog>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditLog>());
        return services;
    }

    public static IEndpointRouteBuilder MapKeyBrakeAudit(this IEndpointRouteBuilder app)
    {
        var audit = app.MapGroup("/v1/audit").AdminListenerOnly().RequireRoles(Roles.Auditor);
        audit.MapGet("/", QueryAsync);
        audit.MapGet("/stream", StreamAsync);
        audit.MapGet("/export", ExportAsync);
        audit.MapGet("/verify", Verify);
        audit.MapGet("/checkpoints", (AuditLog log) => AdminJson.Ok(new { checkpoints = log.Writer.AllCheckpoints() }));
        audit.MapGet("/public-key", (AuditLog log) => Results.Text(SigningKeys.PublicKeyPem(log.SigningKey), "application/x-pem-file"));
        return app;
    }

    private static async Task<IResult> QueryAsync(HttpContext context, IAuditReader reader)
    {
        var errors = new List<FieldError>();
        var query = AuditQuery.Parse(context.Request.Query, QueryParameters, errors);
        if (query is null)
        {
            return KeyBrakeError.InvalidRequest(errors);
        }
        var entries = await reader.QueryAsync(query.Filter, query.Limit, context.RequestAborted);
        var json = new StringBuilder("{\"entries\":[");
        for (var i = 0; i < entries.Count; i++)
        {
            json.Append(i == 0 ? "" : ",").Append(AuditHash.ToJson(entries[i]));
        }
        json.Append("],\"next_after_seq\":")
            .Append(entries.Count == query.Limit ? entries[^1].Seq.ToString(CultureInfo.InvariantCulture) : "null")
            .Append('}');
        return Results.Text(json.ToString(), "application/json", Encoding.UTF8);
    }

    /// <summary>
    /// Server-Sent Events. Each client reads the store from its own cursor and sleeps until the commit signal says
    /// something new is committed, so a slow or vanished client only ever delays itself, never the writer or other clients.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, IAuditReader reader, IAuditCommitSignal commits, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        var errors = new List<FieldError>();
        var query = AuditQuery.Parse(context.Request.Query, StreamParameters, errors);
        long? lastEventId = null;
        if (context.Request.Headers.TryGetValue("Last-Event-ID", out var header))
        {
            if (long.TryParse(header.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                lastEventId = id;
            }
            else
            {
                errors.Add(new("Last-Event-ID", "must be the seq of an entry"));
            }
        }
        if (query is null || errors.Count > 0)
        {
            await KeyBrakeError.InvalidRequest(errors).WriteAsync(context);
            return;
        }
        // Replay from Last-Event-ID or after_seq; with neither, follow from now.
        // "Now" is the stored head: on replicas (SPEC §9) another process's commits may not have been signalled here yet.
        var cursor = lastEventId ?? (context.Request.Query.ContainsKey("after_seq") ? query.Filter.AfterSeq : Math.Max(commits.HeadSeq, reader.ReadHead().Seq));
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(context.RequestAborted);

        // Ends when the client goes away or the host stops (a live tail must not hold up a graceful shutdown).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var aborted = stop.Token;
        var text = new StringBuilder();
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                var head = commits.HeadSeq; // everything up to here is committed, so the query below sees it
                var entries = await reader.QueryAsync(query.Filter with { AfterSeq = cursor }, StreamBatch, aborted);
                if (entries.Count > 0)
                {
                    text.Clear();
                    foreach (var entry in entries)
                    {
                        text.Append("id: ").Append(entry.Seq.ToString(CultureInfo.InvariantCulture))
                            .Append("\nevent: audit\ndata: ").Append(AuditHash.ToJson(entry)).Append("\n\n");
                    }
                    await response.WriteAsync(text.ToString(), aborted);
                    await response.Body.FlushAsync(aborted);
                    cursor = entries[^1].Seq;
                    if (entries.Count == StreamBatch)
                    {
                        continue;
                    }
                }
                cursor = Math.Max(cursor, head);
                try
                {
                    await commits.WaitForCommitAfterAsync(cursor, aborted).WaitAsync(KeepAlive, time, aborted);
                }
                catch (TimeoutException)
                {
                    await response.WriteAsync(": keep-alive\n\n", aborted);
                    await response.Body.FlushAsync(aborted);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static async Task ExportAsync(HttpContext context, IAuditReader reader, TimeProvider time)
    {
        var errors = new List<FieldError>();
        var query = AuditQuery.Parse(context.Request.Query, ExportParameters, errors);
        var format = context.Request.Query["format"].ToString();
        if (format.Length == 0)
        {
            format = "ndjson";
        }
        if (format is not ("ndjson" or "csv"))
        {
            errors.Add(new("format", "must be ndjson or csv"));
        }
        if (query is null || errors.Count > 0)
        {
            await KeyBrakeError.InvalidRequest(errors).WriteAsync(context);
            return;
        }
        var csv = format == "csv";
        var response = context.Response;
        response.ContentType = csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
        response.Headers.ContentDisposition =
            $"attachment; filename=\"keybrake-audit-{time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.{format}\"";
        response.Headers.CacheControl = "no-store";

        var chunk = new StringBuilder(64 * 1024);
        if (csv)
        {
            chunk.Append(AuditCsv.Header).Append("\r\n");
        }
        await foreach (var entry in reader.ExportAsync(query.Filter, context.RequestAborted))
        {
            if (csv)
            {
                AuditCsv.AppendRow(chunk, entry);
            }
            else
            {
                chunk.Append(AuditHash.ToJson(entry)).Append('\n');
            }
            if (chunk.Length >= 60 * 1024)
            {
                await response.WriteAsync(chunk.ToString(), context.RequestAborted);
                chunk.Clear();
            }
        }
        await response.WriteAsync(chunk.ToString(), context.RequestAborted);
    }

    private static IResult Verify(AuditLog log)
    {
        var result = log.VerifyNow();
        return AdminJson.Ok(new
        {
            ok = result.Ok,
            entries = result.Entries,
            head = new { seq = result.HeadSeq, hash = result.HeadHash },
            first_bad_seq = result.FirstBadSeq,
            problem = result.Problem,
        });
    }
}
