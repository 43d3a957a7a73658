// Drives KeyBrake with the real resend client, pointed at KeyBrake through RESEND_BASE_URL.
import { Resend } from 'resend';

const resend = new Resend(process.env.KEYBRAKE_TOKEN);
const { data, error } = process.env.MODE === 'denied'
  ? await resend.domains.list()
  : await resend.emails.send({ from: 'ops@example.com', to: ['jane@example.com'], subject: 'Run 447', html: '<p>done</p>' });
console.log(JSON.stringify(error ? { ok: false, error } : { ok: true, id: data.id }));
