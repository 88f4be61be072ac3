import type { Decision } from '../../lib';

/**
 * How one step ended, for the agent to read:
 * - `allowed`: the tool ran (by rule, or after a human approved it);
 * - `blocked`: the policy said BLOCK; the tool did not run;
 * - `rejected`: a human rejected the escalation; the tool did not run;
 * - `expired`: nobody decided in time; the tool did not run;
 * - `error`: no decision could be had (the gateway failed), or the tool itself threw.
 */
export type StepOutcome = 'allowed' | 'blocked' | 'rejected' | 'expired' | 'error';

export interface StepReport {
  index: number;
  tool: string;
  args: Record<string, unknown>;
  outcome: StepOutcome;
  /** The final decision, or null when none was given. */
  decision: Decision | null;
  reason: string | null;
  eventId: string | null;
  escalationId: string | null;
  /** The human who approved or rejected it, when one did. */
  actorHumanId: string | null;
  /** What the tool returned, when it ran. */
  result?: unknown;
  error?: string;
}

export interface AgentRunReport {
  sessionId: string;
  steps: StepReport[];
  /** The session's own counts (an escalated call also counts as allowed or blocked). */
  counts: { allowed: number; blocked: number; escalated: number };
  /** True when a gateway failure stopped the plan; the remaining steps were not attempted. */
  stoppedEarly: boolean;
}
