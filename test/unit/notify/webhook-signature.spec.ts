import { signatureHeader, verifyWebhookSignature, webhookSignatureProblem } from '../../../lib';

const SECRET = 'whsec_unit_0123456789abcdef';
const body = JSON.stringify({ type: 'pending', escalationId: 'esc_1', tenant: 'acme' });
const now = 1_800_000_000;

describe('verifyWebhookSignature', () => {
  it('accepts the body it was signed for, within the window', () => {
    const header = signatureHeader(body, SECRET, now - 10);
    expect(verifyWebhookSignature(body, header, SECRET, { now })).toBe(true);
    expect(verifyWebhookSignature(Buffer.from(body), header, SECRET, { now })).toBe(true);
  });

  it('refuses a tampered body', () => {
    const header = signatureHeader(body, SECRET, now);
    const tampered = body.replace('esc_1', 'esc_2');
    expect(verifyWebhookSignature(tampered, header, SECRET, { now })).toBe(false);
    expect(webhookSignatureProblem(tampered, header, SECRET, { now })).toMatch(/no v1 signature/);
  });

  it('refuses an old timestamp (a replay), and one from too far in the future', () => {
    const old = signatureHeader(body, SECRET, now - 301);
    expect(verifyWebhookSignature(body, old, SECRET, { now })).toBe(false);
    expect(webhookSignatureProblem(body, old, SECRET, { now })).toMatch(/outside the 300 s window/);
    expect(verifyWebhookSignature(body, old, SECRET, { now, toleranceSeconds: 600 })).toBe(true);
    const future = signatureHeader(body, SECRET, now + 301);
    expect(verifyWebhookSignature(body, future, SECRET, { now })).toBe(false);
  });

  it('refuses a timestamp changed in the header: it is signed with the body', () => {
    const header = signatureHeader(body, SECRET, now - 1000);
    const moved = header.replace(/^t=\d+/, `t=${now}`);
    expect(verifyWebhookSignature(body, moved, SECRET, { now })).toBe(false);
  });

  it('refuses another secret, and accepts either secret while rotating', () => {
    const header = signatureHeader(body, SECRET, now);
    expect(verifyWebhookSignature(body, header, 'whsec_other_0123456789ab', { now })).toBe(false);
    expect(
      verifyWebhookSignature(body, header, ['whsec_new_0123456789abcd', SECRET], { now }),
    ).toBe(true);
  });

  it.each([undefined, null, '', 'v1=abc', 't=123', 't=abc,v1=00', `t=${now},v1=zz`])(
    'refuses a missing or malformed header: %p',
    (header) => {
      expect(verifyWebhookSignature(body, header, SECRET, { now })).toBe(false);
    },
  );

  it('checks the HMAC-SHA256 of "<t>.<body>" (computed here independently)', () => {
    const { createHmac } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const v1 = createHmac('sha256', SECRET).update(`${now}.${body}`).digest('hex');
    expect(verifyWebhookSignature(body, `t=${now},v1=${v1}`, SECRET, { now })).toBe(true);
    expect(signatureHeader(body, SECRET, now)).toBe(`t=${now},v1=${v1}`);
  });
});
