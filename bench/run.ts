/**
 * `npm run bench [-- --json] [--quick] [--group evaluation,gated,http,server,memory,audit,postgres] [--cpu-prof]`
 *
 * Each group runs in its own child process (fresh heap, fresh JIT, no
 * timers or sockets left over from another group), one after the other, so
 * groups do not disturb each other on a small machine. The table goes to
 * stdout; with --json stdout carries only one JSON object, and progress goes to stderr.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { budgetFor, GATED_CONCURRENCIES } from './bench.budget';
import type { GroupReport } from './bench.figures';
import { renderTable } from './bench.report';
import { throughputChart } from './bench.chart';

const GROUPS = ['evaluation', 'gated', 'http', 'server', 'memory', 'audit', 'postgres'] as const;
type Group = (typeof GROUPS)[number];

const HOOK = path.join(__dirname, '..', 'scripts', 'swc-register.js');
const PROFILE_DIR = path.join(__dirname, 'results', 'profiles');
const CHART = path.join(__dirname, '..', 'docs', 'bench', 'throughput.svg');

interface Args {
  json: boolean;
  quick: boolean;
  cpuProf: boolean;
  groups: Group[];
  child: Group | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    json: false,
    quick: false,
    cpuProf: false,
    groups: [...GROUPS],
    child: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') args.json = true;
    else if (arg === '--quick') args.quick = true;
    else if (arg === '--cpu-prof') args.cpuProf = true;
    else if (arg === '--group' || arg === '--child') {
      const value = argv[++i] ?? '';
      const names = value.split(',').filter((name) => name !== '');
      const unknown = names.filter((name) => !(GROUPS as readonly string[]).includes(name));
      if (names.length === 0 || unknown.length > 0) {
        throw new Error(`${arg} takes ${GROUPS.join(', ')} (got '${value}')`);
      }
      if (arg === '--child') args.child = names[0] as Group;
      else args.groups = names as Group[];
    } else throw new Error(`unknown option ${arg}`);
  }
  return args;
}

async function runChild(group: Group, quick: boolean): Promise<void> {
  const module = (await import(`./groups/${groupFile(group)}`)) as {
    run(budget: ReturnType<typeof budgetFor>): Promise<GroupReport>;
  };
  const report = await module.run(budgetFor(quick));
  await new Promise<void>((resolve, reject) =>
    process.send!(report, (error: Error | null) => (error ? reject(error) : resolve())),
  );
  process.disconnect?.();
}

function groupFile(group: Group): string {
  return {
    evaluation: 'evaluation.bench',
    gated: 'gated-call.bench',
    http: 'http-overhead.bench',
    server: 'server-throughput.bench',
    memory: 'memory.bench',
    audit: 'audit-verify.bench',
    postgres: 'postgres.bench',
  }[group];
}

function spawnGroup(group: Group, args: Args): Promise<GroupReport> {
  const execArgv = ['--expose-gc', '-r', HOOK];
  if (args.cpuProf) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    execArgv.push(
      '--cpu-prof',
      '--cpu-prof-dir',
      PROFILE_DIR,
      '--cpu-prof-name',
      `${group}.cpuprofile`,
    );
  }
  const childArgs = ['--child', group, ...(args.quick ? ['--quick'] : [])];
  // With --json, stdout belongs to the one JSON object: a child's own output goes to stderr.
  const child = fork(__filename, childArgs, {
    execArgv,
    stdio: ['ignore', args.json ? 2 : 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let report: GroupReport | null = null;
    child.on('message', (message) => {
      report = message as GroupReport;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (report !== null) resolve(report);
      else reject(new Error(`bench group '${group}' ended (${signal ?? code}) without a report`));
    });
  });
}

function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a checkout: leave it unknown
  }
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    commit,
    date: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child !== null) return runChild(args.child, args.quick);

  const started = Date.now();
  const reports: GroupReport[] = [];
  for (const group of args.groups) {
    process.stderr.write(`bench: ${group}...\n`);
    reports.push(await spawnGroup(group, args));
  }
  const seconds = (Date.now() - started) / 1000;
  const meta: Record<string, string | number | boolean> = {
    ...machine(),
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
    quick: args.quick,
    totalSeconds: Math.round(seconds * 10) / 10,
  };
  const figures = reports.flatMap((r) => r.figures);
  if (args.json) {
    const out = {
      meta,
      context: Object.fromEntries(reports.map((r) => [r.group, r.context])),
      figures: Object.fromEntries(figures.map(({ id, ...rest }) => [id, rest])),
      summary: {
        pass: figures.filter((f) => f.pass === true).length,
        miss: figures.filter((f) => f.pass === false).map((f) => f.id),
      },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const header = [
      `nestjs-provenance benchmarks — node ${meta.node}, ${meta.cpu} × ${meta.cores}, ${meta.platform}, commit ${meta.commit}`,
      `load average (1 min) at the end ${meta.loadAverage1m}; total ${seconds.toFixed(1)} s${args.quick ? ' (--quick: smoke run, figures not meaningful)' : ''}`,
    ];
    process.stdout.write(`${renderTable(reports, header)}\n`);
  }
  if (args.cpuProf) process.stderr.write(`bench: profiles in ${PROFILE_DIR}\n`);
  // The chart of BENCHMARKS.md, from this run's gated figures (not from a smoke run).
  const chart = args.quick
    ? null
    : throughputChart(
        figures,
        GATED_CONCURRENCIES,
        `commit ${meta.commit}, ${String(meta.date).slice(0, 16)} UTC, node ${meta.node}, ${meta.cores} cores, load average ${meta.loadAverage1m}`,
      );
  if (chart !== null) {
    mkdirSync(path.dirname(CHART), { recursive: true });
    writeFileSync(CHART, chart);
    process.stderr.write(`bench: chart in ${path.relative(process.cwd(), CHART)}\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
