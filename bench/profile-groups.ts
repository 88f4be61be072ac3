/**
 * `node -r ./scripts/swc-register.js bench/profile-groups.ts [--http] <file.cpuprofile>`
 * The self time of a V8 CPU profile by where it goes in a gated call (the
 * groups of BENCHMARKS.md's "where the time goes" tables), as shares of the
 * busy time: idle and module loading (startup) are left out. `--http`: the
 * groups of an HTTP-mode client (a profile of bench/http-client-profile.ts).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const LEFT_OUT = new Set(['idle', 'startup']);

const ASYNC_HOOKS: readonly [string, RegExp] = [
  "async hooks (the sessions' AsyncLocalStorage)",
  /promiseInitHook|promiseBeforeHook|promiseAfterHook|_propagate|async_hooks/,
];

/** First match wins; a function matched by none counts as 'other'. */
const GROUPS: ReadonlyArray<readonly [string, RegExp]> = [
  [
    'startup',
    /transformSync|wrapSafe|compileForInternalLoader|internalModuleStat|realpathSync|Module\.|readPackage|readFileUtf8|toRealPath|resolve node:path|compileFunction|dlopen|package_json/,
  ],
  ['idle', /\(idle\)/],
  ['garbage collector', /garbage collector/],
  ['sha256 (payload hash and event hash)', /^hash node|normalizeAlgorithm|sha256Hex/],
  [
    'canonical text (event text, quote, the parameter walker)',
    /canonicalEventText|canonicalEventParts|policyText|quote |json-walk|python-json|canonical-json|recordText|chainedKeysFor/,
  ],
  [
    'event copy (parseCanonical, prepareEvent, chaining)',
    /parseCanonical|prepareEvent|chainEvent|copyPrepared|canonical-stamp|chainBatch/,
  ],
  ['rxjs (Observable, Subscriber, lastValueFrom)', /node_modules\/rxjs/],
  ASYNC_HOOKS,
  ['UUIDs', /randomUUID|randomFillSync|getBufferedUUID|serializeUUID|newUuid|protocol\/uuid/],
  ['audit log queue, flush, memory store', /audit-log|memory-store|audit-append/],
  ['engine (evaluate, recorder, tracking)', /lib\/engine\//],
  [
    'gateway (prepare, decide path, results, sessions, decided calls)',
    /lib\/(gateway|call|session|transport|telemetry|protocol)\//,
  ],
];

/** The client side of an HTTP-mode call: by library, then our own layers. */
const HTTP_GROUPS: ReadonlyArray<readonly [string, RegExp]> = [
  ...GROUPS.slice(0, 3),
  ['axios', /node_modules\/axios\//],
  ['follow-redirects, proxy-from-env', /node_modules\/(follow-redirects|proxy-from-env)\//],
  ['rxjs', /node_modules\/rxjs\//],
  ['Nest', /node_modules\/@nestjs\//],
  ASYNC_HOOKS,
  [
    'node:http, sockets, streams, events, timers',
    /node:(_http|http|net|stream|events|timers|buffer|internal\/(streams|stream_base|http|net|timers|url|util|buffer|event_target|errors))|writev|writeUtf8String/,
  ],
  ['URL and query parsing', /node:(url|internal\/url|querystring)/],
  ['ours: HTTP transport (lib/transport/http)', /lib\/transport\/http\//],
  ['ours: the rest of lib/', /lib\//],
];

function main(): void {
  const http = process.argv[2] === '--http';
  const file = process.argv[http ? 3 : 2];
  const groups = http ? HTTP_GROUPS : GROUPS;
  if (file === undefined) throw new Error('usage: profile-groups [--http] <file.cpuprofile>');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url.replace(/^.*\/(node_modules|lib|bench)\//, '$1/');
    const key = `${frame.functionName || '(anonymous)'} ${where}`;
    const group = groups.find(([, pattern]) => pattern.test(key))?.[0] ?? 'other';
    totals.set(group, (totals.get(group) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const busy = [...totals].filter(([group]) => !LEFT_OUT.has(group));
  const all = busy.reduce((sum, [, us]) => sum + us, 0);
  console.log(`busy ${(all / 1000).toFixed(0)} ms sampled`);
  for (const [group, us] of busy.sort((a, b) => b[1] - a[1])) {
    console.log(`${((100 * us) / all).toFixed(1).padStart(5)} %  ${group}`);
  }
}

main();
