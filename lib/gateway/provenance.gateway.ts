import { Logger, type LoggerService } from '@nestjs/common';
import { Observable, Subject, lastValueFrom } from 'rxjs';
import { Decision, isDecision } from '../protocol/decision';
import { ExecutionResult } from '../protocol/execution-result';
import {
  EscalationError,
  EscalationRejectedError,
  EscalationTimeoutError,
  GatewayError,
  PolicyBlockedError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../protocol/provenance.errors';
import { Messages } from '../protocol/provenance.messages';
import { isValidAction } from '../protocol/action';
import type { EscalationEvent } from '../protocol/escalation-event';
import {
  ProvenanceSession,
  type ExecuteOptions,
  type SessionGateway,
} from '../session/provenance.session';
import { SessionContext } from '../session/session.context';
import { guardFunction, type GuardedFunction } from './guard-function';
import type { GuardOptions } from '../call/guard.options';
import type { GatewayTransport } from '../transport/gateway-transport';
import type { EscalationRecord, EscalationTicket, GatewayRequest, GatewayResponse } from '../protocol/gateway.types';
import type { AuditLog } from '../engine/audit/audit-log';
import { EmbeddedTransport } from '../transport/embedded/embedded.transport';
import { normalizeParameters } from '../protocol/call-parameters';
import { GatewayRegistry } from './gateway.registry';
import { ProvenanceClient } from './provenance.client';
import type { ProvenanceClientOptions } from './provenance-client.options';
import { isValidSessionId, newSessionId } from '../protocol/session-id';

export type { ExecuteOptions } from '../session/provenance.session';

/** One call to gate: what `execute()` and `@Guarded` both hand to `decide$`. */
export interface GateCall {
  action: string;
  parameters: unknown;
  options?: ExecuteOptions;
  /** Record into this session and use its id (a session handle's own calls). */
  session?: ProvenanceSession;
}

/**
 * The gateway service: every gated call, from `execute()`, a session handle
 * or `@Guarded`, goes through `decide$`, so session choice, errors, fail-open
 * and audit parameters are decided in exactly one place.
 *
 * Works without Nest, like the Python SDK:
 * `new ProvenanceGateway(new ProvenanceClient({ gatewayUrl, agentId, apiKey }))`.
 */
export class ProvenanceGateway implements SessionGateway {
  readonly client: ProvenanceClient;
  private readonly transport: GatewayTransport;
  private readonly logger: LoggerService;
  private readonly escalationSubject = new Subject<EscalationEvent>();
  private readonly pendingEscalations = new Map<string, EscalationEvent>();
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Set when decisions come from the in-process gateway, which also keeps the escalation list. */
  private readonly embedded: EmbeddedTransport | null;
  private detachEngine: (() => void) | null = null;

  /**
   * A hot stream of every escalation this gateway raised: `pending`, then one
   * of `approved`, `rejected`, `expired`. Completes when the gateway closes.
   * Against a reference server, which holds the request, only the final event is seen.
   */
  readonly escalations$: Observable<EscalationEvent> = this.escalationSubject.asObservable();

  constructor(client: ProvenanceClient | ProvenanceClientOptions) {
    this.client = client instanceof ProvenanceClient ? client : new ProvenanceClient(client);
    this.transport = this.client.transport;
    this.logger = this.client.options.logger ?? new Logger('Provenance');
    // The embedded gateway knows every escalation's whole life, including
    // calls whose caller stopped waiting and holds ended by shutdown, so its
    // lifecycle feeds escalations$. A remote gateway is only seen per call.
    this.embedded = this.transport instanceof EmbeddedTransport ? this.transport : null;
    if (this.embedded !== null) {
      this.detachEngine = this.embedded.gateway.onEscalation((event) =>
        this.publish(escalationEventFromRecord(event.type, event.record)),
      );
    }
    GatewayRegistry.register(this);
  }

  get agentId(): string {
    return this.client.options.agentId;
  }

  get defaultSessionId(): string {
    return this.client.options.defaultSession;
  }

  /** The transport decisions come from (for the reviewer and the server module). */
  get gatewayTransport(): GatewayTransport {
    return this.transport;
  }

  /**
   * The embedded gateway's audit log (list, count, verify); null when
   * decisions come from a remote gateway, which keeps its own.
   */
  get audit(): AuditLog | null {
    return this.embedded?.audit ?? null;
  }

  /** Gates one call. Resolves on ALLOW; rejects with PolicyBlockedError, EscalationTimeoutError, GatewayError. */
  execute(
    action: string,
    parameters?: unknown,
    options?: ExecuteOptions,
  ): Promise<ExecutionResult> {
    return lastValueFrom(this.decide$({ action, parameters, options }));
  }

  /**
   * The same as a cold Observable: nothing is sent until subscribed, and
   * unsubscribing abandons the call (an HTTP request is aborted; nothing is
   * approved). While a human decides it first emits an interim result whose
   * `decision` is ESCALATE (with `escalationId`), then the final ALLOW result.
   */
  execute$(
    action: string,
    parameters?: unknown,
    options?: ExecuteOptions,
  ): Observable<ExecutionResult> {
    return this.decide$({ action, parameters, options });
  }

  /**
   * Wraps a function so that its body runs only after this gateway said
   * ALLOW, the Python SDK's `@gateway.guard`, for code outside Nest:
   * `const send = gateway.guard('email.send')(async (to, template) => mailer.send(to, template))`.
   * The audit parameters are the arguments by parameter name (`{ to, template }`);
   * the wrapper always returns a Promise of the body's value. Options as `@Guarded`.
   */
  guard(
    action: string,
    options?: GuardOptions,
  ): <F extends (...args: any[]) => any>(fn: F) => GuardedFunction<F> {
    return guardFunction(this, action, options);
  }

  /** Opens a session handle (the Python SDK's pattern 3). Close it to log its summary. */
  session(id?: string): ProvenanceSession {
    if (id !== undefined && !isValidSessionId(id)) {
      throw new ProvenanceConfigError('sessionId', Messages.badSessionId('sessionId', id));
    }
    return new ProvenanceSession(id ?? newSessionId(), this);
  }

  /**
   * Runs `fn` with a session current: every `execute()` and `@Guarded` call
   * inside it, however deep, is grouped under that session and recorded in it.
   * A session opened inside another replaces it for the inner callback only;
   * the outer one is current again afterwards, and inner calls count only in
   * the inner session. The session is closed (summary logged) when `fn`
   * returns, or when the promise it returns settles.
   */
  runInSession<R>(
    session: string | ProvenanceSession | undefined,
    fn: (session: ProvenanceSession) => R,
  ): R {
    const current = session instanceof ProvenanceSession ? session : this.session(session);
    let result: R;
    try {
      result = SessionContext.run({ session: current, owner: this }, () => fn(current));
    } catch (error) {
      current.close();
      throw error;
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).finally(() => current.close()) as R;
    }
    current.close();
    return result;
  }

  /** The session current in this async context, if any. */
  currentSession(): ProvenanceSession | undefined {
    return SessionContext.current()?.session;
  }

  /** Escalations raised through this gateway that no one has decided yet. */
  pendingEscalationEvents(): EscalationEvent[] {
    // The embedded gateway keeps the list itself; a copy here would cost
    // memory for every held call.
    if (this.embedded !== null) {
      return this.embedded.gateway
        .pending()
        .map((record) => escalationEventFromRecord('pending', record));
    }
    return [...this.pendingEscalations.values()];
  }

  /** @internal SessionGateway: a session handle's calls. */
  executeIn(
    session: ProvenanceSession,
    action: string,
    parameters: unknown,
    options?: Omit<ExecuteOptions, 'sessionId'>,
  ): Promise<ExecutionResult> {
    return lastValueFrom(this.decide$({ action, parameters, options, session }));
  }

  /** @internal SessionGateway */
  executeIn$(
    session: ProvenanceSession,
    action: string,
    parameters: unknown,
    options?: Omit<ExecuteOptions, 'sessionId'>,
  ): Observable<ExecutionResult> {
    return this.decide$({ action, parameters, options, session });
  }

  /** @internal SessionGateway */
  summarize(session: ProvenanceSession): void {
    const line = Messages.sessionSummary(
      session.id,
      session.allowedCount,
      session.blockedCount,
      session.escalatedCount,
      session.results.length,
    );
    // Every HTTP request has a session; one that gated nothing is not news.
    if (session.results.length === 0) this.logger.debug?.(line);
    else this.logger.log(line);
  }

  /**
   * The one code path of every gated call. Cold; emits interim ESCALATE
   * results, then exactly one ALLOW result, or errors. The final result (and a
   * BLOCK that raises) is recorded in the session that the call belongs to.
   */
  decide$(call: GateCall): Observable<ExecutionResult> {
    // One hand-written Observable rather than an operator chain: this runs on
    // every gated call, and each operator costs a subscriber and closures per
    // call (and memory for every call held by an escalation).
    return new Observable<ExecutionResult>((subscriber) => {
      let prepared: { request: GatewayRequest; session: ProvenanceSession | undefined };
      try {
        prepared = this.prepare(call);
      } catch (error) {
        subscriber.error(error);
        return;
      }
      const { request, session } = prepared;
      let decided = false;
      let heldId: string | null = null;
      const inner = this.transport.execute(request).subscribe({
        next: (event) => {
          if (decided) return;
          if (event.type === 'escalated') {
            heldId = event.escalation.escalationId;
            subscriber.next(this.escalatedResult(request, event.escalation));
            return;
          }
          decided = true;
          let result: ExecutionResult;
          try {
            // Records a BLOCK in the session, then throws its error.
            result = this.finalResult(request, event.response, session);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          session?.record(result);
          subscriber.next(result);
        },
        error: (error: unknown) => {
          if (decided) return;
          if (this.mayFailOpen(error, request.action)) {
            decided = true;
            const result = this.failedOpenResult(request, error as GatewayError);
            session?.record(result);
            subscriber.next(result);
            subscriber.complete();
            return;
          }
          subscriber.error(error);
        },
        complete: () => {
          if (decided) {
            subscriber.complete();
            return;
          }
          subscriber.error(
            new GatewayError(
              `Gateway at ${this.transport.target} gave no decision for '${request.action}'`,
              { url: this.transport.target, kind: 'protocol' },
            ),
          );
        },
      });
      return () => {
        inner.unsubscribe();
        // A remote escalation whose caller stopped waiting: its end will
        // never be seen here, so it must not stay listed as pending.
        if (!decided && heldId !== null && this.embedded === null) {
          this.pendingEscalations.delete(heldId);
        }
      };
    });
  }

  /** Validates a call and builds its wire request; throws before anything is sent. */
  private prepare(call: GateCall): {
    request: GatewayRequest;
    session: ProvenanceSession | undefined;
  } {
    if (this.closed) throw new ProvenanceError(Messages.gatewayClosed());
    const { action } = call;
    if (!isValidAction(action)) {
      throw new ProvenanceError(Messages.badAction(action));
    }
    const options = call.options ?? {};
    const explicit = options.sessionId;
    if (explicit !== undefined && !isValidSessionId(explicit)) {
      throw new ProvenanceConfigError('sessionId', Messages.badSessionId('sessionId', explicit));
    }
    if (options.decision !== undefined && !isDecision(options.decision)) {
      throw new ProvenanceConfigError(
        'decision',
        Messages.badOption('decision', 'ALLOW, BLOCK or ESCALATE', options.decision),
      );
    }
    if (options.idempotencyKey !== undefined && typeof options.idempotencyKey !== 'string') {
      throw new ProvenanceConfigError(
        'idempotencyKey',
        Messages.badOption('idempotencyKey', 'a string', options.idempotencyKey),
      );
    }
    const parameters = normalizeParameters(
      action,
      call.parameters,
      this.client.options.maxParametersBytes,
    );

    // Precedence: explicit sessionId > the session handle > the current session > defaultSession.
    const current = SessionContext.current()?.session;
    let session: ProvenanceSession | undefined;
    if (call.session) session = call.session;
    else if (explicit === undefined) session = current;
    else if (current?.id === explicit) session = current;
    const sessionId = explicit ?? session?.id ?? this.client.options.defaultSession;

    const request: GatewayRequest = {
      sessionId,
      agentId: this.client.options.agentId,
      action,
      parameters,
      decision: options.decision ?? Decision.BLOCK,
      tenantPolicyId: this.client.options.tenantPolicyId,
      idempotencyKey: options.idempotencyKey ?? null,
    };
    return { request, session };
  }

  /** Closes the gateway: escalation streams complete, sockets and files are released. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      GatewayRegistry.unregister(this);
      // Close the transport first: the embedded gateway ends held calls as
      // expired, and subscribers must see those endings before completion.
      try {
        await this.client.close();
      } finally {
        this.detachEngine?.();
        this.escalationSubject.complete();
        this.pendingEscalations.clear();
      }
    })();
    return this.closing;
  }

  /** The one place escalation events are emitted; keeps the pending list in step. */
  private publish(event: EscalationEvent): void {
    if (this.embedded === null) {
      if (event.type === 'pending') this.pendingEscalations.set(event.escalationId, event);
      else this.pendingEscalations.delete(event.escalationId);
    }
    if (!this.closed || event.type !== 'pending') this.escalationSubject.next(event);
  }

  /** DESIGN.md: only an unreachable gateway or a 5xx, and only with onGatewayError 'open'. */
  private mayFailOpen(error: unknown, action: string): boolean {
    if (
      error instanceof GatewayError &&
      error.failOpenEligible &&
      this.client.options.onGatewayError === 'open'
    ) {
      this.logger.warn(Messages.failedOpen(action, this.transport.target, error.message));
      return true;
    }
    return false;
  }

  private failedOpenResult(request: GatewayRequest, error: GatewayError): ExecutionResult {
    return new ExecutionResult({
      decision: Decision.ALLOW,
      reason: Messages.failedOpenReason(
        error.kind === 'status' ? `HTTP ${error.status}` : error.kind,
      ),
      action: request.action,
      eventId: null,
      sessionId: request.sessionId,
      failedOpen: true,
    });
  }

  private escalatedResult(request: GatewayRequest, ticket: EscalationTicket): ExecutionResult {
    // Embedded: the engine's lifecycle already announced it (see the constructor).
    if (this.embedded === null) {
      this.publish({
        type: 'pending',
        escalationId: ticket.escalationId,
        action: request.action,
        parameters: request.parameters,
        agentId: request.agentId,
        sessionId: request.sessionId,
        createdAt: ticket.createdAt,
        decidedAt: null,
        approverId: null,
        reason: ticket.reason,
      });
    }
    return new ExecutionResult({
      decision: Decision.ESCALATE,
      reason: ticket.reason,
      action: request.action,
      eventId: null,
      sessionId: request.sessionId,
      escalationId: ticket.escalationId,
    });
  }

  /** Reads a final answer. Only an explicit ALLOW lets the call through. */
  private finalResult(
    request: GatewayRequest,
    response: GatewayResponse,
    session: ProvenanceSession | undefined,
  ): ExecutionResult {
    const result = new ExecutionResult({
      decision: response.decision,
      reason: response.reason,
      action: request.action,
      eventId: response.eventId,
      sessionId: request.sessionId,
      escalationId: response.escalationId,
      actorHumanId: response.actorHumanId,
    });
    if (response.escalationId !== null && this.embedded === null) {
      this.escalationEnded(request, response);
    }
    if (response.decision === Decision.ALLOW) return result;
    if (response.decision === Decision.BLOCK) {
      session?.record(result);
      if (response.escalationId !== null && response.escalationOutcome === 'expired') {
        throw new EscalationTimeoutError(result);
      }
      if (response.escalationId !== null) throw new EscalationRejectedError(result);
      throw new PolicyBlockedError(result);
    }
    if (response.decision === Decision.ESCALATE) {
      throw new EscalationError(Messages.finalEscalate(request.action), {
        action: request.action,
        escalationId: response.escalationId,
      });
    }
    throw new GatewayError(`Gateway at ${this.transport.target} answered an unknown decision`, {
      url: this.transport.target,
      kind: 'protocol',
    });
  }

  private escalationEnded(request: GatewayRequest, response: GatewayResponse): void {
    const id = response.escalationId as string;
    const pending = this.pendingEscalations.get(id);
    const type =
      response.decision === Decision.ALLOW
        ? 'approved'
        : response.escalationOutcome === 'expired'
          ? 'expired'
          : 'rejected';
    this.publish({
      type,
      escalationId: id,
      action: request.action,
      parameters: request.parameters,
      agentId: request.agentId,
      sessionId: request.sessionId,
      createdAt: pending?.createdAt ?? null,
      decidedAt: new Date().toISOString(),
      approverId: response.actorHumanId,
      reason: response.reason,
    });
  }
}

function escalationEventFromRecord(
  type: EscalationEvent['type'],
  record: EscalationRecord,
): EscalationEvent {
  return {
    type,
    escalationId: record.id,
    action: record.action,
    parameters: record.parameters ?? null,
    agentId: record.agentId,
    sessionId: record.sessionId ?? '',
    createdAt: record.createdAt,
    decidedAt: type === 'pending' ? null : record.decidedAt,
    approverId: record.approverId,
    reason: record.reason,
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
