import { Logger, type LoggerService } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { AuditReader } from '../transport/audit-reader';
import type { EscalationEvent } from '../protocol/escalation-event';
import type { ExecutionResult } from '../protocol/execution-result';
import {
  GatewayError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../protocol/provenance.errors';
import { Messages } from '../protocol/provenance.messages';
import { isValidSessionId, newSessionId } from '../protocol/session-id';
import {
  ProvenanceSession,
  type ExecuteOptions,
  type SessionGateway,
} from '../session/provenance.session';
import { SessionContext } from '../session/session.context';
import type { GatewayTransport } from '../transport/gateway-transport';
import type { GuardOptions } from '../call/guard.options';
import type { CallDefaults, DeferredExecuteOptions, GateCall } from './call-request';
import { decideCall, decideCallPromise, type DecisionContext } from './decide-call';
import { refuseChangedArguments } from './changed-arguments-refusal';
import { GatewayFailureLog } from './gateway-failure-log';
import { GatewayRegistry } from './gateway.registry';
import type { ChangedArguments } from './gate';
import { guardFunction, type GuardedFunction } from './guard-function';
import { reloadPolicyOn, shadowReportOf } from './policy-control';
import type { PolicyReload, PolicySource } from '../engine/policy/policy-in-force';
import type { ShadowReport } from '../engine/policy/shadow-policy';
import { EscalationWebhooks } from '../notify/escalation-webhooks';
import type { WebhookStats } from '../notify/webhook-dispatcher';
import { ProvenanceClient } from './provenance.client';
import { announceStartup } from './startup-banner';
import type { ProvenanceClientOptions } from './provenance-client.options';

export type { ExecuteOptions } from '../session/provenance.session';
export type { DeferredExecuteOptions, GateCall } from './call-request';

/**
 * The gateway service: every gated call, from `execute()`, a session handle
 * or `@Guarded`, goes through `decide$`, so session choice, errors, fail-open
 * and audit parameters are decided in exactly one place. It talks only to the
 * transport contract, whatever decides (docs/architecture.md).
 *
 * Works without Nest, like the Python SDK:
 * `new ProvenanceGateway(new ProvenanceClient({ gatewayUrl, agentId, apiKey }))`.
 */
export class ProvenanceGateway implements SessionGateway {
  readonly client: ProvenanceClient;
  private readonly transport: GatewayTransport;
  private readonly logger: LoggerService;
  private readonly decisions: DecisionContext;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Why calls fail (a GatewayError's cause, a store's refusal), logged once per distinct cause. */
  private readonly failures: GatewayFailureLog;

  /**
   * A hot stream of the escalations this gateway's transport knows of:
   * `pending`, then one of `approved`, `rejected`, `expired`. Completes when
   * the gateway closes. The engine reports every escalation it holds; a
   * remote gateway only those of this process's calls, and a reference
   * server (which holds the request) only their final step.
   */
  readonly escalations$: Observable<EscalationEvent>;
  /** The `notify` option's webhooks (docs/webhooks.md); null without receivers. */
  private readonly webhooks: EscalationWebhooks | null;

  constructor(client: ProvenanceClient | ProvenanceClientOptions) {
    this.client = client instanceof ProvenanceClient ? client : new ProvenanceClient(client);
    this.transport = this.client.transport;
    this.escalations$ = this.transport.escalations$;
    const { options } = this.client;
    this.logger = options.logger ?? new Logger('Provenance');
    this.failures = new GatewayFailureLog(this.logger, options.apiKey);
    this.webhooks = EscalationWebhooks.start(this.escalations$, options.notify, {
      tenant: options.mode === 'embedded' ? options.tenantId : options.tenantPolicyId,
      logger: this.logger,
    });
    const { agentId, defaultSession, tenantPolicyId, maxParametersBytes } = options;
    const defaults: CallDefaults = { agentId, defaultSession, tenantPolicyId, maxParametersBytes };
    this.decisions = {
      transport: this.transport,
      defaults,
      assertOpen: () => {
        if (this.closed) throw new ProvenanceError(Messages.gatewayClosed());
      },
      failsOpen: (error, action): error is GatewayError => this.failsOpen(error, action),
    };
    GatewayRegistry.register(this);
  }

  get agentId(): string {
    return this.client.options.agentId;
  }

  get defaultSessionId(): string {
    return this.client.options.defaultSession;
  }

  /**
   * Embedded gateway: puts a new policy in force (a path, a document, a
   * compiled policy; without one, the policy file read again), recorded as a
   * `policy.loaded` audit event first. A policy that fails validation is
   * refused (its PolicyValidationError is thrown and logged) and the old one
   * stays. Throws for a remote gateway, which owns its policy.
   */
  reloadPolicy(policy?: PolicySource): Promise<PolicyReload> {
    return reloadPolicyOn(this.transport, policy, this.logger);
  }

  /**
   * Embedded gateway: where the `shadowPolicy` would have decided otherwise
   * (counts by change such as `ALLOW→BLOCK`, examples without parameter
   * values); null without a shadow policy. Throws for a remote gateway.
   */
  shadowReport(): ShadowReport | null {
    return shadowReportOf(this.transport);
  }

  /** The transport decisions come from (for the reviewer and the server module). */
  get gatewayTransport(): GatewayTransport {
    return this.transport;
  }

  /**
   * The audit trail: list, count, verify, in the same camelCase shapes in
   * both modes. Embedded, it is the engine's AuditLog (`instanceof AuditLog`
   * for append, store, size); remote, the gateway's audit API read with this
   * client's key (RemoteAuditReader; docs/server.md, "The audit trail from a remote app").
   */
  get audit(): AuditReader {
    return this.transport.audit;
  }

  /** Gates one call. Resolves on ALLOW; rejects with PolicyBlockedError, EscalationTimeoutError, GatewayError. */
  execute(
    action: string,
    parameters?: unknown,
    options?: ExecuteOptions,
  ): Promise<ExecutionResult> {
    return this.decideCall({ action, parameters, options });
  }

  /**
   * As `execute()`, but an ESCALATE resolves at once with the interim result once the hold is
   * detached; an approval then allows the identical `execute()` once (docs/escalations.md).
   */
  executeDeferred(
    action: string,
    parameters?: unknown,
    options?: DeferredExecuteOptions,
  ): Promise<ExecutionResult> {
    return this.decideCall({ action, parameters, options, deferred: true });
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

  /** Per `notify` receiver: webhooks delivered, failed, dropped (queue full) and queued. */
  webhookStats(): WebhookStats[] {
    return this.webhooks?.stats() ?? [];
  }

  /** The escalations of `escalations$` that no one has decided yet. */
  pendingEscalationEvents(): EscalationEvent[] {
    return this.transport.pendingEscalations();
  }

  /** @internal SessionGateway: a session handle's calls. */
  executeIn(
    session: ProvenanceSession,
    action: string,
    parameters: unknown,
    options?: Omit<ExecuteOptions, 'sessionId'>,
  ): Promise<ExecutionResult> {
    return this.decideCall({ action, parameters, options, session });
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
    const { id, allowedCount, blockedCount, escalatedCount, results } = session;
    const line = Messages.sessionSummary(
      id,
      allowedCount,
      blockedCount,
      escalatedCount,
      results.length,
    );
    // Every HTTP request has a session; one that gated nothing is not news.
    if (results.length === 0) this.logger.debug?.(line);
    else this.logger.log(line);
  }

  /**
   * The one code path of every gated call (see `decideCall`). Cold; emits
   * interim ESCALATE results, then exactly one ALLOW result, or errors.
   */
  decide$(call: GateCall): Observable<ExecutionResult> {
    // Without the module (which logs it at bootstrap), the start-up banner comes with the first call.
    announceStartup(this.client, this.logger);
    return decideCall(this.decisions, call);
  }

  /**
   * The same path as a promise (`execute()`, session handles, `@Guarded`
   * methods that return a promise): the ALLOW result, or the error. No
   * Observable per call; interim ESCALATE results are not seen.
   */
  decideCall(call: GateCall): Promise<ExecutionResult> {
    announceStartup(this.client, this.logger);
    return decideCallPromise(this.decisions, call);
  }

  /** @internal GateDecider: the body's arguments changed after the decision. */
  refuseChangedArguments(
    call: GateCall,
    result: ExecutionResult,
    changed: ChangedArguments,
  ): Promise<Error> {
    return refuseChangedArguments(this.transport, this.logger, call, result, changed);
  }

  /** Closes the gateway: escalation streams complete, sockets and files are released. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      GatewayRegistry.unregister(this);
      // The transport ends held calls as expired, announces those endings on
      // escalations$, then completes it.
      await this.client.close();
      // The endings close() announced are sent too, for a short while (WEBHOOK_FLUSH_ON_CLOSE_MS).
      await this.webhooks?.close();
    })();
    return this.closing;
  }

  /** Only a failure the error marks as eligible (docs/protocol.md, "Fail-open"), and only with onGatewayError 'open'. */
  private failsOpen(error: unknown, action: string): error is GatewayError {
    this.failures.sayOnce(error);
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
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
