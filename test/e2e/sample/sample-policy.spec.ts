import * as path from 'node:path';
import { compilePolicy, evaluatePolicy, lintPolicy, type CompiledPolicy } from '../../../lib';

/**
 * sample/policy.yml against the sentence it encodes (issue 8): "small payments
 * in GBP/USD/EUR allowed, payments over 500 or in another currency escalated,
 * data mutations blocked, email allowed, everything else blocked". Each
 * expected decision below comes from that sentence, not from running the file.
 */
const POLICY_FILE = path.join(__dirname, '../../../sample/policy.yml');

describe('sample/policy.yml', () => {
  let policy: CompiledPolicy;

  beforeAll(() => {
    policy = compilePolicy(POLICY_FILE);
  });

  const pay = (amount: unknown, currency: unknown) => ({
    amount,
    currency,
    recipientId: 'rec_abc123',
  });

  it.each([
    ['50 GBP (the SDK example)', pay(50, 'GBP')],
    ['499.99 USD', pay(499.99, 'USD')],
    ['exactly 500 EUR: not "over 500"', pay(500, 'EUR')],
    ['1 USD', pay(1, 'USD')],
  ])('allows a small payment: %s', (_label, parameters) => {
    const decision = evaluatePolicy(policy, 'payments.initiate', parameters);
    expect(decision.decision).toBe('ALLOW');
    expect(decision.reason).toBe('Payment within approved parameters');
  });

  it.each([
    ['800 GBP (the SDK example)', pay(800, 'GBP')],
    ['500.01 USD', pay(500.01, 'USD')],
    ['1 000 000 EUR', pay(1_000_000, 'EUR')],
  ])('escalates a payment over 500: %s', (_label, parameters) => {
    const decision = evaluatePolicy(policy, 'payments.initiate', parameters);
    expect(decision.decision).toBe('ESCALATE');
    expect(decision.reason).toBe('Payments over 500 need human approval');
  });

  it.each([
    ['100 JPY (the SDK example)', pay(100, 'JPY')],
    ['900 JPY: the currency is named first', pay(900, 'JPY')],
    ['lower-case gbp is another currency', pay(50, 'gbp')],
    ['no currency at all', { amount: 50 }],
  ])('escalates a payment in another currency: %s', (_label, parameters) => {
    const decision = evaluatePolicy(policy, 'payments.initiate', parameters);
    expect(decision.decision).toBe('ESCALATE');
    expect(decision.reason).toBe(
      'Payments in a currency other than GBP, USD or EUR need human approval',
    );
  });

  it.each([
    ['no amount', { currency: 'GBP' }],
    ['an amount written as text', pay('50', 'GBP')],
    ['a zero amount', pay(0, 'GBP')],
    ['a negative amount', pay(-20, 'USD')],
  ])('blocks a payment with no usable amount: %s', (_label, parameters) => {
    const decision = evaluatePolicy(policy, 'payments.initiate', parameters);
    expect(decision.decision).toBe('BLOCK');
    expect(decision.reason).toBe('Payment amount must be a positive number');
  });

  it.each(['data.delete', 'data.update', 'data.insert', 'data.truncate'])(
    'blocks the data mutation %s',
    (action) => {
      const decision = evaluatePolicy(policy, action, { table: 'customers', id: 'cus_1' });
      expect(decision.decision).toBe('BLOCK');
      expect(decision.reason).toBe('Agents may not modify stored data (data.* is blocked)');
    },
  );

  it('allows email', () => {
    const decision = evaluatePolicy(policy, 'email.send', {
      to: 'customer@example.com',
      template: 'receipt',
    });
    expect(decision).toMatchObject({ decision: 'ALLOW', reason: 'Agents may send email' });
  });

  it.each([
    'payments.refund',
    'email.send_bulk',
    'Email.send',
    'shell.exec',
    'payments',
    'email.send.now',
  ])('blocks anything else: %s', (action) => {
    const decision = evaluatePolicy(policy, action, { amount: 1, currency: 'GBP' });
    expect(decision).toMatchObject({
      decision: 'BLOCK',
      reason: 'Not covered by the sample policy; blocked by default',
    });
  });

  it('never reaches the default ALLOW (the catch-all rule is last)', () => {
    const decision = evaluatePolicy(policy, 'anything.at.all', null);
    expect(decision.ruleIndex).toBe(policy.document.rules.length - 1);
  });

  it('has no linter findings', () => {
    expect(lintPolicy(policy.document)).toEqual([]);
  });
});
