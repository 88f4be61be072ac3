/**
 * The names this library records under (docs/observability.md). The
 * OpenTelemetry GenAI semantic conventions name the tool (`gen_ai.tool.name`:
 * the gated action) and the agent (`gen_ai.agent.id`); `error.type` is the
 * general convention; everything else is `provenance.*`.
 *
 * No parameter value is ever recorded: not the parameters, and not the
 * decision's reason either (a failed condition's reason names the value it saw).
 */
export const TelemetryNames = {
  /** The tracer's and the meter's name. */
  scope: 'nestjs-provenance',

  decideSpan: 'provenance.decide',
  escalationWaitSpan: 'provenance.escalation.wait',
  auditAppendSpan: 'provenance.audit.append',

  decisionsCounter: 'provenance.decisions',
  escalationsCounter: 'provenance.escalations',
  escalationWaitHistogram: 'provenance.escalation.wait.duration',
  gatewayErrorsCounter: 'provenance.gateway.errors',
  auditAppendHistogram: 'provenance.audit.append.duration',

  toolName: 'gen_ai.tool.name',
  agentId: 'gen_ai.agent.id',
  errorType: 'error.type',
  sessionId: 'provenance.session.id',
  decision: 'provenance.decision',
  eventId: 'provenance.event.id',
  escalationId: 'provenance.escalation.id',
  escalationOutcome: 'provenance.escalation.outcome',
  escalationWait: 'provenance.escalation.wait.duration',
  failedOpen: 'provenance.failed_open',
  gatewayStatus: 'provenance.gateway.status',
  auditKind: 'provenance.audit.kind',
  auditOutcome: 'provenance.audit.outcome',
} as const;
