import { compileGlob } from './fnmatch';
import { ANY, STAR, parseGlob, type GlobToken } from './fnmatch.tokens';
import type { CompiledPolicy, PolicyDocument } from './policy.types';

/**
 * Coverage of a policy (docs/policy.md, "Coverage"): is every action an
 * application can ask about matched by a rule written for it, or does it
 * fall through to the default ALLOW, or reach only a catch-all?
 *
 * A rule *covers* an action when its glob matches the action, whatever its
 * conditions: the author thought of the action, and the conditions say when.
 * A *catch-all* is a glob that matches every valid action name (one or more
 * characters, lib/protocol/action.ts): nothing but stars, or stars and at
 * most one single-character token (`?`, or a set that excludes nothing such
 * as `[!z-a]`). `*`, `**`, `?*` and `*?*` are catch-alls; `*.*`, `??*` and
 * `payments.*` are not (each leaves some name out).
 */

/** An action no rule but a catch-all matches. */
export interface UncoveredAction {
  action: string;
  /** `default`: no rule matches it at all; `catch-all`: only catch-all rules do. */
  fallsTo: 'default' | 'catch-all';
  /** The first catch-all rule that matches it (its index in `rules`), or null for `default`. */
  ruleIndex: number | null;
}

/** True when the glob matches every valid action name (see above). */
export function isCatchAllRuleGlob(glob: string): boolean {
  const tokens = parseGlob(glob);
  let stars = 0;
  let singles = 0;
  for (const token of tokens) {
    if (token === STAR) stars++;
    else if (matchesAnyOneCharacter(token)) singles++;
    else return false;
  }
  return stars > 0 && singles <= 1;
}

function matchesAnyOneCharacter(token: GlobToken): boolean {
  if (token === ANY) return true;
  return typeof token === 'object' && token.negate && token.items.length === 0;
}

/**
 * The actions of `actions` (each once, in their first order) that no rule
 * other than a catch-all matches. Pure: reads the policy's rules only.
 */
export function uncoveredActions(
  policy: CompiledPolicy | PolicyDocument,
  actions: Iterable<string>,
): UncoveredAction[] {
  const rules = 'evaluate' in policy ? policy.document.rules : policy.rules;
  const compiled = rules.map((rule, index) => ({
    index,
    matches: compileGlob(rule.action),
    catchAll: isCatchAllRuleGlob(rule.action),
  }));
  const specific = compiled.filter((rule) => !rule.catchAll);
  const catchAlls = compiled.filter((rule) => rule.catchAll);
  const seen = new Set<string>();
  const uncovered: UncoveredAction[] = [];
  for (const action of actions) {
    if (seen.has(action)) continue;
    seen.add(action);
    if (specific.some((rule) => rule.matches(action))) continue;
    const catchAll = catchAlls.find((rule) => rule.matches(action));
    uncovered.push(
      catchAll === undefined
        ? { action, fallsTo: 'default', ruleIndex: null }
        : { action, fallsTo: 'catch-all', ruleIndex: catchAll.index },
    );
  }
  return uncovered;
}
