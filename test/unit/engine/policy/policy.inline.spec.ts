import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compilePolicy } from '../../../../lib/engine/policy/policy.compiler';
import { PolicyValidationError } from '../../../../lib/engine/policy/policy.errors';
import { loadPolicy } from '../../../../lib/engine/policy/policy.loader';
import { isInlinePolicyText } from '../../../../lib/engine/policy/policy-source';

const YAML_TEXT = [
  'name: inline-payments',
  'version: 2',
  'rules:',
  '  - action: payments.initiate',
  '    on_match: ESCALATE',
  '',
].join('\n');

function thrown(fn: () => unknown): PolicyValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyValidationError);
    return error as PolicyValidationError;
  }
  throw new Error('expected a PolicyValidationError');
}

describe('isInlinePolicyText', () => {
  it.each([
    YAML_TEXT,
    'name: p\r\nrules: []',
    '{"name":"p","rules":[]}',
    '  {name: p, rules: []}',
    'rules:\n  - action: export.csv\n    on_match: BLOCK\n',
  ])('takes %j as policy text', (text) => {
    expect(isInlinePolicyText(text)).toBe(true);
  });

  it.each([
    'policy.yml',
    './config/policy.yaml',
    '/etc/provenance/POLICY.JSON',
    '{braces}/policy.yml',
    'odd\nname.yml',
    'policy.txt',
    'name: p',
  ])('takes %j as a path', (text) => {
    expect(isInlinePolicyText(text)).toBe(false);
  });
});

describe('inline policies', () => {
  it('loads YAML text as the same document as the file holding it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-inline-'));
    try {
      const file = path.join(dir, 'p.yml');
      fs.writeFileSync(file, YAML_TEXT);
      expect(loadPolicy(YAML_TEXT)).toEqual(loadPolicy(file));
      const fromText = compilePolicy(YAML_TEXT);
      const fromFile = compilePolicy(file);
      expect(fromText.hash).toBe(fromFile.hash);
      expect(fromText.source).toBeNull();
      expect(fromFile.source).toBe(file);
      expect(fromText.version).toBe('2');
      expect(fromText.evaluate('payments.initiate', {}).decision).toBe('ESCALATE');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads JSON text', () => {
    const doc = loadPolicy('{"name":"j","rules":[{"action":"a.*","on_match":"BLOCK"}]}');
    expect(doc).toEqual({ name: 'j', rules: [{ action: 'a.*', on_match: 'BLOCK' }] });
  });

  it('reports invalid text with its line and no file name', () => {
    const error = thrown(() => loadPolicy('name: p\nrules:\n  - action: [unclosed\n'));
    expect(error.file).toBeNull();
    expect(error.message).toMatch(/^invalid YAML at line \d+: /);
    const invalid = thrown(() =>
      loadPolicy('name: p\nrules:\n  - action: x\n    on_match: allow\n'),
    );
    expect(invalid.message).toBe(
      "rules[0].on_match: must be one of ALLOW, BLOCK, ESCALATE (upper case, as on the wire); got 'allow'",
    );
  });

  it('names the resolved path and the working directory of a missing relative file', () => {
    const relative = path.join('no-such-dir', 'policy.yml');
    const error = thrown(() => loadPolicy(relative));
    expect(error.message).toContain(`looked for ${path.join(process.cwd(), relative)}`);
    expect(error.message).toContain(`the working directory is ${process.cwd()}`);
  });

  it('says why text ending in a policy file extension was read as a path', () => {
    const error = thrown(() => loadPolicy('name: p\nrules:\n  - action: export.json'));
    expect(error.message).toContain('end inline policy text with a line break');
    expect(loadPolicy('name: p\nrules:\n  - action: export.json\n    on_match: BLOCK\n').name).toBe(
      'p',
    );
  });
});
