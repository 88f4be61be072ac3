import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Pool } from 'pg';
import * as ts from 'typescript';
import * as library from '../../../lib';
import {
  createPostgresEngine,
  Decision,
  LATEST_VERSION,
  migrate,
  PostgresContext,
  PostgresReplica,
  resolvePostgresOptions,
  type GatewayResponse,
  type PolicyDocument,
} from '../../../lib';
import { AuditFindingMessages } from '../../../lib/engine/audit/audit.messages';
import { SINGLE_USE_GRANT_MS } from '../../../lib/engine/grants/grant-book';
import { PostgresEscalationStore } from '../../../lib/postgres/postgres-escalation-store';
import { SHARED_WAIT_POLL_MS } from '../../../lib/server/escalation-waitable';
import { describeWithPostgres, usePostgres } from '../../fixtures/postgres.fixture';

/*
 * docs/deployment.md is checked against the code it describes: its TypeScript
 * examples typecheck against the package's public API (lib/index.ts, imported
 * as 'nestjs-provenance'), the names, variables, scripts and files it
 * mentions exist, the defaults it lists are the ones the code uses, and its
 * SQL runs on a migrated schema and shows what it says it shows.
 */

const ROOT = path.join(__dirname, '../../..');
const DOC = 'docs/deployment.md';
const markdown = readFileSync(path.join(ROOT, DOC), 'utf8');

interface FencedBlock {
  info: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
}

function fencedBlocks(text: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[i]);
    if (open === null) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].trim().startsWith(open[2])) body.push(lines[j++]);
    blocks.push({ info: open[3].toLowerCase(), body: body.join('\n'), line: i + 1 });
    i = j;
  }
  return blocks;
}

const blocks = fencedBlocks(markdown);
const tsBlocks = blocks.filter((block) => block.info === 'ts' || block.info === 'typescript');
const sqlBlocks = blocks.filter((block) => block.info === 'sql');
/** The text outside code blocks and inside them, as one string, for name lookups. */
const prose = markdown;

/** The cells of the table row whose first cell is `` `name` `` (or the plain name). */
function tableRow(name: string): string[] {
  const row = markdown
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    )
    .find((cells) => cells[0] === `\`${name}\`` || cells[0] === name);
  if (row === undefined) throw new Error(`${DOC} has no table row for ${name}`);
  return row;
}

/** The default column of a row, as a number of ms (`1000` ms, `1` h) or the text in backticks. */
function documentedDefault(name: string): string | number {
  const cell = tableRow(name)[1];
  const amount = /^`([\d_]+)`\s*(ms|h)?$/.exec(cell);
  if (amount !== null) {
    const value = Number(amount[1].replace(/_/g, ''));
    return amount[2] === 'h' ? value * 3_600_000 : value;
  }
  const text = /^`([^`]*)`$/.exec(cell);
  if (text === null) throw new Error(`${DOC}: the default of ${name} is not a value: ${cell}`);
  return text[1];
}

function filesUnder(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) filesUnder(full, out);
    else if (/\.(ts|json)$/.test(entry)) out.push(full);
  }
  return out;
}

describe(`${DOC}: the TypeScript examples`, () => {
  it('has examples, each importing from nestjs-provenance', () => {
    expect(tsBlocks.length).toBeGreaterThanOrEqual(5);
    for (const block of tsBlocks) {
      expect({ line: block.line, imports: /from 'nestjs-provenance'/.test(block.body) }).toEqual({
        line: block.line,
        imports: true,
      });
    }
  });

  it('every value they import from nestjs-provenance is exported by the package', () => {
    const exported = library as unknown as Record<string, unknown>;
    const missing: string[] = [];
    for (const block of tsBlocks) {
      for (const match of block.body.matchAll(/import\s*\{([^}]*)\}\s*from 'nestjs-provenance'/g)) {
        for (const raw of match[1].split(',')) {
          const name = raw.trim();
          if (name === '' || name.startsWith('type ')) continue;
          if (exported[name] === undefined) missing.push(`line ${block.line}: ${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('typecheck against lib/index.ts (strict, as the project)', () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(
      path.join(ROOT, 'tsconfig.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
    );
    if (parsed === undefined) throw new Error('tsconfig.json cannot be read');
    const options: ts.CompilerOptions = {
      ...parsed.options,
      noEmit: true,
      declaration: false,
      sourceMap: false,
      types: ['node'],
      baseUrl: ROOT,
      paths: { 'nestjs-provenance': ['lib/index.ts'] },
    };
    const virtual = new Map<string, string>();
    for (const block of tsBlocks) {
      virtual.set(path.join(ROOT, 'docs', `deployment.md.line-${block.line}.ts`), block.body);
    }
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.readFile = (file) => virtual.get(path.resolve(file)) ?? readFile(file);
    host.fileExists = (file) => virtual.has(path.resolve(file)) || fileExists(file);
    host.getSourceFile = (file, language, onError, fresh) => {
      const text = virtual.get(path.resolve(file));
      return text === undefined
        ? getSourceFile(file, language, onError, fresh)
        : ts.createSourceFile(file, text, language, true);
    };
    const program = ts.createProgram([...virtual.keys()], options, host);
    const problems: string[] = [];
    for (const file of virtual.keys()) {
      const source = program.getSourceFile(file);
      if (source === undefined) throw new Error(`${file} was not compiled`);
      const diagnostics = [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ];
      for (const diagnostic of diagnostics) {
        const at =
          diagnostic.start === undefined
            ? ''
            : `:${source.getLineAndCharacterOfPosition(diagnostic.start).line + 1}`;
        const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
        problems.push(`${path.basename(file)}${at}: ${text}`);
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);
});

describe(`${DOC}: what it names exists`, () => {
  it('every PROVENANCE_* variable is read somewhere in the code, the tests or the tools', () => {
    const names = [...new Set(prose.match(/PROVENANCE_[A-Z_]+[A-Z]/g) ?? [])];
    expect(names.length).toBeGreaterThan(5);
    const sources = ['lib', 'test', 'sample', 'bench']
      .flatMap((dir) => filesUnder(path.join(ROOT, dir)))
      .filter((file) => !file.endsWith(path.join('docs', 'deployment.spec.ts')))
      .map((file) => readFileSync(file, 'utf8'));
    sources.push(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const unknown = names.filter((name) => !sources.some((text) => text.includes(name)));
    expect(unknown).toEqual([]);
  });

  it('every `npm run` script is in package.json', () => {
    const scripts = Object.keys(
      (
        JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
          scripts: Record<string, string>;
        }
      ).scripts,
    );
    const named = [...prose.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1]);
    expect(named.length).toBeGreaterThan(2);
    expect(named.filter((name) => !scripts.includes(name))).toEqual([]);
  });

  it('every file and test it cites exists, and every relative link resolves', () => {
    const missing: string[] = [];
    for (const [, file] of prose.matchAll(
      /`((?:lib|test|sample|bench|docs)\/[\w./-]+\.(?:ts|md))`/g,
    )) {
      if (!existsSync(path.join(ROOT, file))) missing.push(file);
    }
    const tests = filesUnder(path.join(ROOT, 'test')).map((file) => path.basename(file));
    for (const [, name] of prose.matchAll(/`([\w-]+\.e2e-spec\.ts)`/g)) {
      if (!tests.includes(name)) missing.push(name);
    }
    for (const [, target] of prose.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      if (!existsSync(path.join(ROOT, 'docs', target))) missing.push(target);
    }
    expect(missing).toEqual([]);
  });

  it('every in-page link names a heading of the page', () => {
    const anchors = markdown
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) =>
        line
          .replace(/^#+ /, '')
          .toLowerCase()
          .replace(/[^\w\s-]/g, '')
          .trim()
          .replace(/\s/g, '-'),
      );
    const used = [...markdown.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]);
    expect(used.length).toBeGreaterThan(3);
    expect(used.filter((anchor) => !anchors.includes(anchor))).toEqual([]);
  });
});

describe(`${DOC}: the defaults it lists are the code's`, () => {
  let pool: Pool;
  let context: PostgresContext;
  beforeAll(() => {
    // A pool that never connects: the objects below only read their settings.
    pool = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    context = new PostgresContext({ pool });
  });
  afterAll(async () => {
    await pool.end();
  });

  it('postgres.schema, postgres.migrate, postgres.maxConnections', () => {
    const resolved = resolvePostgresOptions(true, {
      PROVENANCE_DATABASE_URL: 'postgres://app@db.internal:5432/app',
    });
    expect(documentedDefault('postgres.schema')).toBe(resolved.schema);
    expect(documentedDefault('postgres.migrate')).toBe(String(resolved.migrate));
    expect(documentedDefault('postgres.maxConnections')).toBe(resolved.maxConnections);
  });

  it('every postgres.* field in the table is one the option accepts', () => {
    const fields = [...markdown.matchAll(/^\|\s*`postgres\.(\w+)`/gm)].map((match) => match[1]);
    expect(fields.length).toBeGreaterThanOrEqual(5);
    const samples: Record<string, unknown> = {
      connectionString: 'postgres://app@db.internal:5432/app',
      pool,
      schema: 'provenance_docs',
      migrate: false,
      maxConnections: 3,
    };
    for (const field of fields) {
      expect({ field, known: field in samples }).toEqual({ field, known: true });
      expect(() =>
        resolvePostgresOptions(
          { [field]: samples[field] },
          {
            PROVENANCE_DATABASE_URL: 'postgres://app@db.internal:5432/app',
          },
        ),
      ).not.toThrow();
    }
    // The check the page promises: an unknown field is refused, naming it.
    expect(() => resolvePostgresOptions({ scheme: 'x' }, {})).toThrow(/postgres\.scheme/);
  });

  it('the heartbeat, staleness, pending limit, grant lifetime and /wait poll', () => {
    const replica = new PostgresReplica(context);
    expect(documentedDefault('timing.heartbeatMs')).toBe(replica.heartbeatMs);
    expect(documentedDefault('timing.staleAfterMs')).toBe(replica.staleAfterMs);
    const escalations = new PostgresEscalationStore(context, { tenantId: 't', replica });
    expect(documentedDefault('maxPendingEscalations')).toBe(escalations.maxPending);
    expect(documentedDefault('single-use grant lifetime')).toBe(SINGLE_USE_GRANT_MS);
    expect(documentedDefault('`/wait` poll on a server')).toBe(SHARED_WAIT_POLL_MS);
  });

  it('the schema version it names is the newest migration', () => {
    expect(/this release is at v(\d+)/.exec(markdown)?.[1]).toBe(String(LATEST_VERSION));
  });
});

describe("the log lines docs/deployment.md and docs/audit.md quote are the code's", () => {
  const audit = readFileSync(path.join(ROOT, 'docs/audit.md'), 'utf8');
  const textBlocks = (text: string) =>
    fencedBlocks(text)
      .filter((block) => block.info === 'text')
      .map((block) => block.body.replace(/\s+/g, ' ').trim());

  it('a second writer of a file: the refusal', () => {
    const file = '.provenance/audit.jsonl';
    const since = '2025-01-01T09:00:00.000Z';
    const said = `${file}: ${AuditFindingMessages.lockHeld(`${file}.lock`, 4242, 'replica-a', since)}`;
    expect(textBlocks(markdown)).toContain(said);
  });

  it("a dead writer's lock taken over: the warning", () => {
    const said = AuditFindingMessages.staleLockTakenOver('/x/a.jsonl.lock', 4242, 'hostA', 'SINCE')
      .replace('/x/a.jsonl', '<file>')
      .replace('4242', 'N')
      .replace('hostA', 'H')
      .replace('SINCE', 'T');
    expect(textBlocks(audit)).toContain(said);
  });

  it('a store that refuses: the one error line', () => {
    const said = AuditFindingMessages.storeRefuses('/x/a.jsonl', 'WHY', 7, '/x/a.jsonl')
      .split('/x/a.jsonl')
      .join('<file>')
      .replace('position 7 (line 8)', 'position P (line P+1)')
      .replace('WHY', '<why>');
    expect(textBlocks(audit)).toContain(said);
  });
});

const POLICY: PolicyDocument = {
  name: 'deployment-doc',
  rules: [{ action: 'payments.send', on_match: 'ESCALATE', reason: 'a human decides' }],
};

describeWithPostgres(`${DOC}: its SQL, on a migrated schema`, () => {
  const db = usePostgres();
  const onSchema = (sql: string) => sql.split('provenance.').join(`"${db.schema}".`);
  const block = (marker: RegExp): string => {
    const found = sqlBlocks.filter((candidate) => marker.test(candidate.body));
    if (found.length !== 1) throw new Error(`expected one sql block matching ${String(marker)}`);
    return onSchema(found[0].body);
  };

  beforeAll(async () => {
    await migrate(db.pool, { schema: db.schema });
  });

  it('has SQL examples, and every table it lists is a table of the schema', async () => {
    expect(sqlBlocks.length).toBeGreaterThanOrEqual(4);
    const tables = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [db.schema],
    );
    const lines = markdown.split('\n');
    const header = lines.findIndex((line) => /^\|\s*table\s*\|\s*one row per/.test(line));
    expect(header).toBeGreaterThan(0);
    const listed: string[] = [];
    for (let i = header + 2; i < lines.length && lines[i].startsWith('|'); i++) {
      listed.push(/^\|\s*`([a-z_]+)`/.exec(lines[i])?.[1] ?? `unreadable row: ${lines[i]}`);
    }
    listed.sort();
    expect(listed).toEqual(tables.rows.map((row) => row.table_name));
  });

  it('every block runs', async () => {
    for (const sql of sqlBlocks) await db.pool.query(onSchema(sql.body));
  });

  it('shows a held call, its live holder and the head; then its ending and the answer', async () => {
    const built = createPostgresEngine({
      policy: POLICY,
      tenantId: 'docs',
      postgres: { pool: db.newPool(), schema: db.schema },
    });
    await built.start();
    const pending = new Promise<{ id: string }>((resolve) => {
      const off = built.engine.onEscalation((event) => {
        if (event.type !== 'pending') return;
        off();
        resolve(event.record);
      });
    });
    const answer: Promise<GatewayResponse | Error> = built.engine
      .execute({
        sessionId: 'sess_docs',
        agentId: 'docs-agent',
        action: 'payments.send',
        parameters: { amount: 900 },
        decision: Decision.ALLOW,
      })
      .catch((error: Error) => error);
    const held = await pending;

    const replicas = await db.pool.query(block(/FROM provenance\.replicas\s+ORDER BY/));
    expect(replicas.rows.map((row) => row.id)).toEqual([built.replica.id]);

    const waiting = await db.pool.query(block(/e\.status = 'PENDING'/));
    expect(waiting.rows).toHaveLength(1);
    expect(waiting.rows[0]).toMatchObject({
      id: held.id,
      tenant_id: 'docs',
      agent_id: 'docs-agent',
      action: 'payments.send',
      holder: built.replica.id,
      caller_waiting: true,
      holder_alive: true,
    });

    const heads = await db.pool.query(block(/FROM provenance\.audit_heads/));
    // One event so far: the escalation's pending event.
    expect(heads.rows).toHaveLength(1);
    expect(heads.rows[0]).toMatchObject({ tenant_id: 'docs', events: '1' });

    // Closing the replica ends its own hold as expired ('gateway closed') and removes its row.
    await built.engine.close();
    const response = await answer;
    expect(response).toMatchObject({ decision: 'BLOCK', escalationOutcome: 'expired' });

    const ended = await db.pool.query(block(/status <> 'PENDING'/));
    expect(ended.rows).toHaveLength(1);
    expect(ended.rows[0]).toMatchObject({
      id: held.id,
      status: 'TIMEOUT',
      approver_reason: 'gateway closed',
      answer: 'BLOCK',
      outcome_event_id: (response as GatewayResponse).eventId,
    });
    expect((await db.pool.query(block(/FROM provenance\.replicas\s+ORDER BY/))).rows).toEqual([]);
    expect((await db.pool.query(block(/e\.status = 'PENDING'/))).rows).toEqual([]);
  });
});
