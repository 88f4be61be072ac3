import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * A file that ships with the sample (policy.yml). Found next to this module
 * when it runs from source, or in the source tree when it runs compiled from
 * dist/sample (tsc copies no YAML). (The review page is the library's.)
 */
export function sampleFile(relative: string): string {
  const candidates = [
    path.join(__dirname, relative),
    path.join(__dirname, '..', '..', 'sample', relative),
  ];
  return candidates.find((file) => existsSync(file)) ?? candidates[0];
}
