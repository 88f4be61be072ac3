import { Decision } from '../protocol/decision';
import type { GatewayRequest, GatewayResponse } from '../protocol/gateway.types';
import type { EnginePolicies } from './engine-policies';
import { escalateCall, type EscalationPath } from './engine-hold';
import type { InFlight } from './engine-in-flight';
import type { CompiledPolicy, PolicyDecision } from './policy/policy.types';
import type { ExecuteHooks } from './provenance-engine.types';

/**
 * How the engine decides a call it accepted: the policy in force gives the
 * verdict (the shadow policy's is compared beside it); a final verdict is
 * recorded and answered, an ESCALATE goes the escalation path (engine-hold.ts).
 * `parameters`: the call's, normalised; no event walks them again.
 */
export class EngineDecisions {
  constructor(
    private readonly policies: EnginePolicies,
    private readonly escalating: EscalationPath,
    private readonly inFlight: InFlight,
  ) {}

  /**
   * A call without an idempotency key. A final verdict is recorded in this
   * call when the audit log can store its event at once (a memory store,
   * AuditLog.appendNow): answered at once, without a promise chain or anything
   * left in flight. Anything else goes through `decide`, tracked in flight.
   */
  now(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    hooks: ExecuteHooks,
  ): GatewayResponse | Promise<GatewayResponse> {
    const policy = this.policies.current;
    let verdict: PolicyDecision;
    let response: GatewayResponse | null = null;
    try {
      verdict = this.verdictOf(policy, request.action, parameters);
      if (verdict.decision !== Decision.ESCALATE) {
        const { decision, reason } = verdict;
        response = this.escalating.recorder.decisionNow(
          request,
          decision,
          reason,
          parameters,
          policy,
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return (
      response ?? this.inFlight.track(this.decide(request, parameters, hooks, policy, verdict))
    );
  }

  /** The call decided and recorded (or held), as a promise; `policy` and `verdict` when already known. */
  async decide(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    hooks: ExecuteHooks,
    policy = this.policies.current,
    verdict = this.verdictOf(policy, request.action, parameters),
  ): Promise<GatewayResponse> {
    if (verdict.decision !== Decision.ESCALATE) {
      const { recorder } = this.escalating;
      return recorder.decision(request, verdict.decision, verdict.reason, parameters, policy);
    }
    return escalateCall(this.escalating, request, parameters, verdict.reason, policy, hooks);
  }

  /** The policy's verdict, compared with the shadow policy's (if any). */
  private verdictOf(
    policy: CompiledPolicy,
    action: string,
    parameters: Record<string, unknown> | null,
  ): PolicyDecision {
    const verdict = policy.evaluate(action, parameters);
    this.policies.shadow?.compare(action, parameters, verdict, policy);
    return verdict;
  }
}
