import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { loadPolicy, type PolicyDocument } from '../lib/engine';
import type { Call } from './policy.generator';

const SAMPLE = path.join(__dirname, '..', 'sample', 'policy.yml');
const FALLBACK = path.join(__dirname, 'policies', 'sample-shape.yml');

/** The sample app's policy when it exists, else bench's copy of its shape. */
export function samplePolicy(): { document: PolicyDocument; source: string } {
  const file = existsSync(SAMPLE) ? SAMPLE : FALLBACK;
  return { document: loadPolicy(file), source: path.relative(path.join(__dirname, '..'), file) };
}

/**
 * What an agent under the sample policy sends, in a fixed mix: every outcome
 * and every rule kind (conditions that pass, fail, read a missing field; a
 * glob; the catch-all).
 */
export const SAMPLE_CALLS: readonly Call[] = [
  { action: 'payments.initiate', parameters: { amount: 120, currency: 'GBP', to: 'acct_1' } },
  { action: 'email.send', parameters: { to: 'ops@example.com', template: 'weekly' } },
  { action: 'payments.initiate', parameters: { amount: 900, currency: 'USD', to: 'acct_2' } },
  { action: 'data.delete', parameters: { table: 'users', id: 42 } },
  { action: 'payments.initiate', parameters: { amount: 50, currency: 'JPY', to: 'acct_3' } },
  { action: 'email.send', parameters: { to: 'cfo@example.com', template: 'invoice' } },
  { action: 'search.web', parameters: { query: 'exchange rates' } },
  { action: 'payments.initiate', parameters: { currency: 'EUR', to: 'acct_4' } },
];

/** The call the gated-call and HTTP groups repeat: a payment the policy ALLOWs after two conditions. */
export const ALLOWED_PAYMENT: Call = {
  action: 'payments.initiate',
  parameters: { amount: 120, currency: 'GBP', to: 'acct_1842', memo: 'invoice 7781' },
};

/** A payment the policy escalates (amount over 500). */
export const ESCALATED_PAYMENT: Call = {
  action: 'payments.initiate',
  parameters: { amount: 900, currency: 'GBP', to: 'acct_1842', memo: 'invoice 7782' },
};
