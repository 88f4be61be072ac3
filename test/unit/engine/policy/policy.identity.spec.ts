import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePolicy } from '../../../../lib/engine/policy';

// The policy's identity (hash and version) that audit events and the start-up banner name.
describe('CompiledPolicy hash and version', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-identity-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const document = {
    name: 'payments',
    version: 7,
    rules: [{ action: 'payments.*', on_match: 'ESCALATE', reason: 'needs a human' }],
  };

  it('is the SHA-256 of the canonical JSON of the validated document, keys sorted', () => {
    const compiled = compilePolicy(document);
    // Written out by hand: keys in code-point order, no whitespace, defaults the validator fills.
    const canonical = JSON.stringify(
      compiled.document,
      Object.keys(flatKeys(compiled.document)).sort(),
    );
    expect(compiled.hash).toBe(createHash('sha256').update(canonical).digest('hex'));
    expect(compiled.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for a YAML file and the object it holds, whatever the key order', () => {
    const file = join(dir, 'policy.yml');
    writeFileSync(
      file,
      [
        'rules:',
        '  - reason: needs a human',
        '    on_match: ESCALATE',
        "    action: 'payments.*'",
        'version: 7',
        'name: payments',
        '',
      ].join('\n'),
    );
    expect(compilePolicy(file).hash).toBe(compilePolicy(document).hash);
  });

  it('changes when a rule changes', () => {
    const changed = { ...document, rules: [{ ...document.rules[0], on_match: 'BLOCK' }] };
    expect(compilePolicy(changed).hash).not.toBe(compilePolicy(document).hash);
  });

  it('names the version as text, or null when the document has none', () => {
    expect(compilePolicy(document).version).toBe('7');
    expect(compilePolicy({ ...document, version: '2026-12' }).version).toBe('2026-12');
    const { version: _dropped, ...unversioned } = document;
    expect(compilePolicy(unversioned).version).toBeNull();
  });
});

/** Every key at any depth: JSON.stringify writes an allow-list's keys in the list's order, so a sorted list sorts every object. */
function flatKeys(value: unknown, into: Record<string, true> = {}): Record<string, true> {
  if (Array.isArray(value)) value.forEach((item) => flatKeys(item, into));
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      into[key] = true;
      flatKeys(inner, into);
    }
  }
  return into;
}
