/**
 * `node -r ./scripts/swc-register.js bench/profile-top.ts <file.cpuprofile> [count]`
 * Prints the functions with the most self time (and their share) from a V8 CPU profile.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function main(): void {
  const [file, countText] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: profile-top <file.cpuprofile> [count]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totals = new Map<string, number>();
  let all = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const where =
      frame.url === ''
        ? ''
        : ` ${frame.url.replace(/^.*\/(node_modules|lib|bench)\//, '$1/')}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName || '(anonymous)'}${where}`;
    totals.set(key, (totals.get(key) ?? 0) + us);
    all += us;
  }
  const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(countText ?? 30));
  console.log(`total ${(all / 1000).toFixed(0)} ms sampled`);
  for (const [key, us] of rows) {
    console.log(
      `${((100 * us) / all).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(1).padStart(8)} ms  ${key}`,
    );
  }
}

main();
