import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import {
  AUDIT_OPTION_SPECS,
  CLIENT_OPTION_SPECS,
} from '../../../lib/gateway/options/client-option-specs';
import type { OptionTable } from '../../../lib/gateway/options/option-spec';

const FILE = join(__dirname, '../../../lib/gateway/provenance-client.options.ts');

/** The doc comment of each member of `name` in FILE, whitespace-normalised, tags left out. */
function memberDocs(name: string): Record<string, string> {
  const source = ts.createSourceFile(
    FILE,
    readFileSync(FILE, 'utf8'),
    ts.ScriptTarget.ES2022,
    true,
  );
  const found = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name,
  );
  if (!found) throw new Error(`no interface ${name} in ${FILE}`);
  const docs: Record<string, string> = {};
  for (const member of found.members) {
    if (!member.name || !ts.isIdentifier(member.name)) continue;
    const comment = ts
      .getJSDocCommentsAndTags(member)
      .filter(ts.isJSDoc)
      .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
      .join(' ');
    docs[member.name.text] = normalise(comment);
  }
  return docs;
}

function normalise(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function tableDocs(table: OptionTable): Record<string, string> {
  return Object.fromEntries(Object.entries(table).map(([k, spec]) => [k, normalise(spec.doc)]));
}

describe('option docs: the table and the interfaces say the same', () => {
  it.each([
    ['ProvenanceClientOptions', CLIENT_OPTION_SPECS],
    ['AuditOptions', AUDIT_OPTION_SPECS],
  ] as const)('%s', (name, table) => {
    expect(tableDocs(table)).toEqual(memberDocs(name));
  });
});
