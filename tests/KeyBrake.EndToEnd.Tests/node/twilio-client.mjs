// Drives KeyBrake with the real twilio-node client: the vault key is the auth token, the API base is KeyBrake.
import twilio from 'twilio';

const client = twilio(process.env.TWILIO_ACCOUNT_SID, process.env.KEYBRAKE_TOKEN, { autoRetry: false });
client.api.baseUrl = process.env.KEYBRAKE_BASE_URL + '/twilio';

try {
  const result = process.env.MODE === 'denied'
    ? await client.calls.create({ to: '+15555550100', from: '+15555550199', url: 'https://example.com/twiml' })
    : await client.messages.create({ to: '+15555550100', from: '+15555550199', body: 'Your code is 123456' });
  console.log(JSON.stringify({ ok: true, sid: result.sid, status: result.status }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, status: e.status, code: e.code ?? null, message: e.message }));
}
