// Source maps of a packed package: every `sources` entry of every .map file
// must either resolve to a file inside the package or carry its text in
// `sourcesContent`, so that stack traces (node --enable-source-maps) and
// debuggers never point at a file the package does not have.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

function mapsUnder(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...mapsUnder(path));
    else if (name.endsWith('.map')) found.push(path);
  }
  return found;
}

/**
 * The problems of the package unpacked at `packageDir` (one line each, at
 * most `limit`), and how many maps and sources were checked.
 */
export function checkSourceMaps(packageDir, limit = 10) {
  const root = resolve(packageDir);
  const problems = [];
  let maps = 0;
  let sources = 0;
  for (const file of mapsUnder(root)) {
    maps++;
    let map;
    try {
      map = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      problems.push(`${relative(root, file)}: not JSON`);
      continue;
    }
    const base = resolve(dirname(file), map.sourceRoot ?? '');
    (map.sources ?? []).forEach((source, index) => {
      sources++;
      if (typeof map.sourcesContent?.[index] === 'string') return;
      const target = resolve(base, source);
      const inside = target === root || target.startsWith(root + sep);
      if (inside && existsSync(target)) return;
      problems.push(
        `${relative(root, file)}: source ${source} ${inside ? 'is missing' : 'is outside the package'}`,
      );
    });
  }
  return { maps, sources, problems: problems.slice(0, limit), total: problems.length };
}
