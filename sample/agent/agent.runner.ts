import { Injectable } from '@nestjs/common';
import {
  EscalationRejectedError,
  EscalationTimeoutError,
  GatewayError,
  PolicyBlockedError,
  ProvenanceGateway,
  type ExecutionResult,
  type ProvenanceSession,
} from '../../lib';
import { DataService } from '../tools/data.service';
import { EmailService } from '../tools/email.service';
import { PaymentsService } from '../tools/payments.service';
import type { AgentPlan, PlanStep } from './agent-plan';
import type { AgentRunReport, StepOutcome, StepReport } from './agent-run.report';

type Tool = (args: Record<string, unknown>) => Promise<unknown>;

/**
 * Runs a plan the way an agent loop does: one tool call at a time, each
 * result (or refusal) fed back before the next. A blocked, rejected or
 * expired step is reported and the plan goes on, as an agent would go on
 * with the answer "you may not do that"; only a gateway failure stops it,
 * since without a gateway no later step could be decided either.
 */
@Injectable()
export class AgentRunner {
  /** The tools this agent knows. Arguments are passed as they came: the policy judges them. */
  private readonly tools: Record<string, Tool> = {
    'payments.initiate': (a) =>
      this.payments.initiate(a.amount as number, a.currency as string, a.recipientId as string),
    'email.send': (a) => this.email.send(a.to as string, a.template as string),
    'data.delete': (a) => this.data.delete(a.table as string, a.id as string),
  };

  constructor(
    private readonly gateway: ProvenanceGateway,
    private readonly payments: PaymentsService,
    private readonly email: EmailService,
    private readonly data: DataService,
  ) {}

  /**
   * Runs in the current session (ProvenanceModule opens one per HTTP request,
   * named by the X-Provenance-Session header), or in a new one when called
   * outside a request.
   */
  run(plan: AgentPlan, sessionId?: string): Promise<AgentRunReport> {
    const current = this.gateway.currentSession();
    if (current && (sessionId === undefined || sessionId === current.id)) {
      return this.runIn(current, plan);
    }
    return this.gateway.runInSession(sessionId, (session) => this.runIn(session, plan));
  }

  private async runIn(session: ProvenanceSession, plan: AgentPlan): Promise<AgentRunReport> {
    const steps: StepReport[] = [];
    let stoppedEarly = false;
    for (const [index, step] of plan.plan.entries()) {
      const { report, gatewayFailed } = await this.runStep(session, index, step);
      steps.push(report);
      if (gatewayFailed) {
        stoppedEarly = true;
        break;
      }
    }
    return {
      sessionId: session.id,
      steps,
      counts: {
        allowed: session.allowedCount,
        blocked: session.blockedCount,
        escalated: session.escalatedCount,
      },
      stoppedEarly,
    };
  }

  private async runStep(
    session: ProvenanceSession,
    index: number,
    step: PlanStep,
  ): Promise<{ report: StepReport; gatewayFailed: boolean }> {
    const report = (
      fields: Omit<StepReport, 'index' | 'tool' | 'args'>,
      gatewayFailed = false,
    ) => ({
      report: { index, tool: step.tool, args: step.args, ...fields },
      gatewayFailed,
    });
    const tool = this.tools[step.tool];
    // The decision of this step is the first result the session records from
    // here on: the gate records it before the tool body runs.
    const recordedBefore = session.results.length;
    try {
      if (!tool) {
        // No such tool: still ask, so the attempt is decided and audited. The
        // sample policy blocks anything it does not name.
        const result = await this.gateway.execute(step.tool, step.args);
        return report({ ...fromResult('error', result), error: 'This agent has no such tool' });
      }
      const value = await tool(step.args);
      const result = session.results[recordedBefore];
      return report({ ...fromResult('allowed', result), result: value });
    } catch (error) {
      if (error instanceof EscalationRejectedError) {
        return report(fromResult('rejected', error.result));
      }
      if (error instanceof PolicyBlockedError) {
        return report(fromResult('blocked', error.result));
      }
      if (error instanceof EscalationTimeoutError) {
        return report(fromResult('expired', error.result));
      }
      if (error instanceof GatewayError) {
        return report({ ...fromResult('error', undefined), error: error.message }, true);
      }
      // The tool itself failed after it was allowed to run.
      const result = session.results[recordedBefore];
      const message = error instanceof Error ? error.message : String(error);
      return report({ ...fromResult('error', result), error: message });
    }
  }
}

function fromResult(
  outcome: StepOutcome,
  result: ExecutionResult | undefined,
): Omit<StepReport, 'index' | 'tool' | 'args'> {
  return {
    outcome,
    decision: result?.decision ?? null,
    reason: result?.reason ?? null,
    eventId: result?.eventId ?? null,
    escalationId: result?.escalationId ?? null,
    actorHumanId: result?.actorHumanId ?? null,
  };
}
