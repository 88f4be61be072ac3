import { resolve } from 'node:path';
import { PolicySourceMessages as M } from './policy-source.messages';

/**
 * What a policy given as a string is: the path of a policy file, or the
 * policy itself as YAML (or JSON) text (docs/policy.md, "Inline policies").
 *
 * The rule cannot mistake a path the loader could read: the loader reads
 * only files whose names end in `.yml`, `.yaml` or `.json`, so every string
 * ending so is a path. Any other string is inline text when it holds a line
 * break or, leading white space aside, starts with `{` (a flow mapping or a
 * JSON object); the rest is a path (and refused for its extension, as before).
 */

const POLICY_FILE = /\.(ya?ml|json)$/i;

/** True when the string is the text of a policy rather than the path of a policy file. */
export function isInlinePolicyText(value: string): boolean {
  if (POLICY_FILE.test(value)) return false;
  return /[\r\n]/.test(value) || value.trimStart().startsWith('{');
}

/** What error messages and the start-up banner call an inline policy instead of a file name. */
export const INLINE_POLICY_LABEL = 'inline';

/**
 * Why a policy file could not be found: the path resolved against the working
 * directory, and that directory (a relative path is the usual cause); for a
 * string with a line break, why it was taken as a path.
 */
export function missingFileProblem(file: string): string {
  const hint = /[\r\n]/.test(file) ? M.textTakenAsPath() : '';
  return M.missingFile(resolve(file), process.cwd()) + hint;
}
