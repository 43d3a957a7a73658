// Drives KeyBrake with the real stripe-node client. stripe-node cannot add a path prefix, so it talks to the
// stripe vendor port (SPEC §1). Prints one JSON line: what the client returned or the error it surfaced.
import Stripe from 'stripe';

const stripe = new Stripe(process.env.KEYBRAKE_TOKEN, {
  host: '127.0.0.1',
  port: Number(process.env.KEYBRAKE_STRIPE_PORT),
  protocol: 'http',
  maxNetworkRetries: 0,
  telemetry: false,
});

try {
  const result = process.env.MODE === 'denied'
    ? await stripe.charges.list({ limit: 3 })
    : await stripe.paymentIntents.create({ amount: 500, currency: 'usd' }, { idempotencyKey: 'run-447-pi-1' });
  console.log(JSON.stringify({ ok: true, id: result.id ?? null, object: result.object }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, status: e.statusCode, code: e.code ?? null, type: e.raw?.type ?? null, message: e.message }));
}
