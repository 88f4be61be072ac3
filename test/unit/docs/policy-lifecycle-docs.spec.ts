/*
 * What docs/policy.md ("Shadow mode") and docs/audit.md ("What an event
 * holds") quote is the code's: the shadow log line, and every field an
 * event can have.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHAINED_KEYS_WITH_APPROVER_REASON_AND_POLICY } from '../../../lib/engine/audit/audit-event.text';
import { AUDIT_EVENT_KINDS } from '../../../lib/engine/audit/audit-event.types';
import { PolicyLifecycleMessages } from '../../../lib/engine/policy/policy-lifecycle.messages';

const ROOT = join(__dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const section = (markdown: string, heading: string) => {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  expect(start).toBeGreaterThan(-1);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
};

describe('docs of the policy lifecycle', () => {
  it("the shadow log line of docs/policy.md is the code's", () => {
    const shadow = section(read('docs/policy.md'), 'Shadow mode');
    const line = /```text\n(.*)\n```/.exec(shadow)?.[1];
    expect(line).toBe(
      PolicyLifecycleMessages.shadowDisagrees(
        "'billing' (1f0c9ab2e4d7)",
        'payments.send',
        'ALLOW',
        'BLOCK',
        1,
      ),
    );
  });

  it('docs/audit.md lists every field an event can have, and every kind', () => {
    const fields = section(read('docs/audit.md'), 'What an event holds');
    const listed = [...fields.matchAll(/^\| `(\w+)` +\|/gm)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...CHAINED_KEYS_WITH_APPROVER_REASON_AND_POLICY].sort());
    for (const kind of AUDIT_EVENT_KINDS) {
      expect(fields).toContain(kind.includes('.') ? `\`${kind.split('.')[0]}.` : `\`${kind}\``);
    }
  });

  it('docs/policy.md names every section this work added', () => {
    const policy = read('docs/policy.md');
    for (const heading of ['Policy identity in the audit trail', 'Hot reload', 'Shadow mode']) {
      expect(policy).toContain(`\n## ${heading}\n`);
    }
  });
});
