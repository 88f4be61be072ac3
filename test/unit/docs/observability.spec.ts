import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as health from '../../../lib/health';
import { TelemetryNames } from '../../../lib/telemetry/telemetry.names';

/*
 * docs/observability.md names what the library records: every name the
 * code records under is on the page, every `provenance.*` / `gen_ai.*` name
 * on the page is one the code records, and what it imports from
 * `nestjs-provenance/health` is exported there.
 */

const ROOT = path.join(__dirname, '../../..');
const markdown = readFileSync(path.join(ROOT, 'docs/observability.md'), 'utf8');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('docs/observability.md', () => {
  const recorded = new Set<string>(Object.values(TelemetryNames));

  it('names every span, instrument and attribute the code records', () => {
    const missing = [...recorded].filter((name) => !markdown.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('names nothing the code does not record', () => {
    const named = new Set(
      [...markdown.matchAll(/`((?:provenance|gen_ai)\.[a-z_.]+)`/g)].map((m) => m[1]),
    );
    expect(named.size).toBeGreaterThanOrEqual(15);
    expect([...named].filter((name) => !recorded.has(name))).toEqual([]);
  });

  it("imports from 'nestjs-provenance/health' only what that sub-path exports", () => {
    const imports = [
      ...markdown.matchAll(/import\s*\{([^}]*)\}\s*from 'nestjs-provenance\/health'/g),
    ];
    expect(imports.length).toBeGreaterThanOrEqual(1);
    for (const m of imports) {
      for (const name of m[1].split(',').map((n) => n.trim())) {
        if (name !== '') expect(health).toHaveProperty(name);
      }
    }
  });

  it('is linked from the README', () => {
    expect(readme).toContain('](docs/observability.md)');
  });
});
