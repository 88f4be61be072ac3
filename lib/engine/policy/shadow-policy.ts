import { PolicyLifecycleMessages as M } from './policy-lifecycle.messages';
import { identityOf, type PolicyIdentityOf } from './policy-in-force';
import type { CompiledPolicy, Outcome, PolicyDecision } from './policy.types';

/** The rule behind one side of a disagreement: its index and glob (-1 and null: the default ALLOW). */
export interface ShadowSide {
  decision: Outcome;
  ruleIndex: number;
  ruleAction: string | null;
}

/**
 * One kind of disagreement: an action and the pair of decisions, how often,
 * and the rules on each side the first time. No parameter values, and no
 * reason text (a "Condition failed" reason names the value it saw).
 */
export interface ShadowExample {
  action: string;
  /** `ALLOW→BLOCK`: the enforced decision, then the shadow policy's. */
  change: string;
  count: number;
  enforced: ShadowSide;
  shadow: ShadowSide;
  /** When it was first seen (ISO 8601). */
  firstSeen: string;
}

/** What `gateway.shadowReport()` says: never enforced, only counted. */
export interface ShadowReport {
  shadow: PolicyIdentityOf;
  /** Calls evaluated by both policies since start-up. */
  calls: number;
  /** Calls the two policies decided differently. */
  disagreements: number;
  /** Disagreements by change (`ALLOW→BLOCK`, `BLOCK→ESCALATE`, ...). */
  counts: Record<string, number>;
  /** One per action and change, most frequent first, at most MAX_SHADOW_EXAMPLES. */
  examples: ShadowExample[];
  /** Calls the shadow policy could not evaluate (an error of its own; the call was decided as usual). */
  errors: number;
}

/** Distinct action-and-change examples kept; beyond them, only the counts grow. */
export const MAX_SHADOW_EXAMPLES = 100;
/** Distinct action-and-change pairs logged and counted apart (the actions are the callers'). */
const MAX_TRACKED_PAIRS = 10_000;

/**
 * A candidate policy evaluated beside the enforced one on every call
 * (docs/policy.md, "Shadow mode"). Disagreements are counted and logged,
 * once per action and change and again at 10, 100, 1000... of them; the
 * shadow's decision is never enforced, and nothing it does can fail a call.
 */
export class ShadowPolicy {
  private calls = 0;
  private disagreements = 0;
  private errors = 0;
  private readonly counts = new Map<string, number>();
  private examples = 0;
  /**
   * Per action and change: how many, the count at which the next log line is
   * due, and its example for the report (the first MAX_SHADOW_EXAMPLES pairs).
   */
  private readonly seen = new Map<
    string,
    { count: number; logAt: number; example: ShadowExample | null }
  >();

  constructor(
    readonly policy: CompiledPolicy,
    private readonly log: (message: string) => void,
  ) {}

  /** Evaluates the shadow policy for a call `enforced` decided. Never throws. */
  compare(
    action: string,
    parameters: Record<string, unknown> | null,
    enforced: PolicyDecision,
    enforcedPolicy: CompiledPolicy,
  ): void {
    let candidate: PolicyDecision;
    try {
      candidate = this.policy.evaluate(action, parameters);
    } catch (error) {
      this.errors++;
      this.say(M.shadowFailed(action, error instanceof Error ? error.message : String(error)));
      return;
    }
    this.calls++;
    if (candidate.decision === enforced.decision) return;
    this.disagreements++;
    const change = `${enforced.decision}→${candidate.decision}`;
    this.counts.set(change, (this.counts.get(change) ?? 0) + 1);
    const key = `${change} ${action}`;
    let seen = this.seen.get(key);
    if (seen === undefined) {
      if (this.seen.size >= MAX_TRACKED_PAIRS) return; // counted above; no more per-pair lines
      let example: ShadowExample | null = null;
      if (this.examples < MAX_SHADOW_EXAMPLES) {
        this.examples++;
        example = {
          action,
          change,
          count: 0, // the pair's count, filled in by report()
          enforced: sideOf(enforced, enforcedPolicy),
          shadow: sideOf(candidate, this.policy),
          firstSeen: new Date().toISOString(),
        };
      }
      seen = { count: 0, logAt: 1, example };
      this.seen.set(key, seen);
    }
    seen.count++;
    if (seen.count === seen.logAt) {
      seen.logAt *= 10;
      const name = `'${this.policy.document.name}' (${this.policy.hash.slice(0, 12)})`;
      this.say(M.shadowDisagrees(name, action, enforced.decision, candidate.decision, seen.count));
    }
  }

  report(): ShadowReport {
    return {
      shadow: identityOf(this.policy),
      calls: this.calls,
      disagreements: this.disagreements,
      counts: Object.fromEntries(this.counts),
      examples: [...this.seen.values()]
        .flatMap(({ count, example }) =>
          example === null
            ? []
            : [
                {
                  ...example,
                  count,
                  enforced: { ...example.enforced },
                  shadow: { ...example.shadow },
                },
              ],
        )
        .sort((a, b) => b.count - a.count),
      errors: this.errors,
    };
  }

  private say(message: string): void {
    try {
      this.log(message);
    } catch {
      // A failing logger must not fail the call the shadow was only watching.
    }
  }
}

function sideOf(decision: PolicyDecision, policy: CompiledPolicy): ShadowSide {
  const rule = decision.ruleIndex >= 0 ? policy.document.rules[decision.ruleIndex] : undefined;
  return {
    decision: decision.decision,
    ruleIndex: decision.ruleIndex,
    ruleAction: rule?.action ?? null,
  };
}
