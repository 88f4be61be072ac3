import type {
  EscalationRecord,
  GatewayRequest,
  GatewayResponse,
  ReviewVerdict,
} from '../../protocol/gateway.types';
import type { HoldDecisionInput, HoldListener, HoldTicket } from './escalation-holds';

/** A call the policy escalated, its pending event already recorded. */
export interface HeldCall {
  request: GatewayRequest;
  /** The call's normalised parameters (the engine's). */
  parameters: Record<string, unknown> | null;
  ticket: HoldTicket;
  /** How long it waits for a human, in ms. */
  timeoutMs: number;
}

/**
 * Where the engine's held calls live: in this process (LocalEscalationStore)
 * or in a database shared by replicas (lib/postgres). Whatever the store,
 * every hold ends exactly once (approved, rejected, expired or withdrawn),
 * its end is recorded in the audit log before anyone is answered, and an
 * approval whose caller stopped waiting becomes a single-use grant for the
 * identical call.
 */
export interface EscalationStore {
  /** How many calls may be held at once. */
  readonly maxPending: number;
  /** Throws `EscalationLimitError` when `maxPending` calls are held already. */
  assertRoom(action: string): void | Promise<void>;
  /**
   * Holds the call until it ends; resolves with the recorded answer (ALLOW
   * only for an approval). Calls `onHeld` once, as soon as every reviewer can
   * see the hold. Rejects when the ending cannot be recorded (fail closed).
   */
  hold(call: HeldCall, onHeld: () => void): Promise<GatewayResponse>;
  /**
   * Approves or rejects a held call; resolves once the ending is recorded
   * (and, when no caller waits, the single-use grant is in force). Throws
   * `EscalationNotFoundError` when it is unknown or already ended and
   * `ApprovalForbiddenError` when the approver is the agent that asked.
   */
  decide(escalationId: string, verdict: ReviewVerdict, input: HoldDecisionInput): Promise<void>;
  /** The caller gave up on purpose: the hold ends as withdrawn. False when it had already ended. */
  withdraw(escalationId: string): Promise<boolean>;
  /** The caller stopped waiting without withdrawing. False when the hold had already ended. */
  detach(escalationId: string): Promise<boolean>;
  /** The holds this store knows to be pending now, oldest first (copies; no I/O). */
  pending(): EscalationRecord[];
  /** Every pending hold of the tenant, read from where they are kept, oldest first. */
  listPending(): Promise<EscalationRecord[]>;
  /** A held or recently ended escalation, or undefined. */
  get(escalationId: string): Promise<EscalationRecord | undefined>;
  /** Escalation steps (pending, then one ending) as this store learns of them; returns the unsubscribe. */
  onEvent(listener: HoldListener): () => void;
  /** Ends this process's holds as expired ('gateway closed'), after recording them. Idempotent. */
  close(): Promise<void>;
}
