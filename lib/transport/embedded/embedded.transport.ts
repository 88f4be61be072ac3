import { Observable } from 'rxjs';
import { GatewayError, ProvenanceError } from '../../protocol/provenance.errors';
import { AuditLog } from '../../engine/audit/audit-log';
import { AuditStoreError } from '../../engine/audit/audit.errors';
import { FileAuditStore } from '../../engine/audit/audit-log.file-store';
import { MemoryAuditStore } from '../../engine/audit/audit-log.memory-store';
import { ProvenanceEngine } from '../../engine/provenance-engine';
import { PolicyMessages } from '../../engine/engine.messages';
import { compilePolicy } from '../../engine/policy/policy.compiler';
import { PolicyValidationError } from '../../engine/policy/policy.errors';
import type { CompiledPolicy, PolicyDocument } from '../../engine/policy/policy.types';
import type { ResolvedClientOptions } from '../../gateway/provenance-client.options';
import { GatewayTransport } from '../gateway-transport';
import { type EscalationRecord, type GatewayEvent, type GatewayRequest, type ReviewInput, type ReviewOutcome, type ReviewVerdict } from '../../protocol/gateway.types';

export const EMBEDDED_TARGET = 'embedded gateway';

/**
 * Decisions from the in-process gateway: no server, no socket. An escalation
 * is announced at once (`escalated`), then the call waits for the hold to end.
 * Unsubscribing stops waiting; the hold stays for a human and ends as usual.
 */
export class EmbeddedTransport extends GatewayTransport {
  readonly kind = 'embedded' as const;
  readonly target = EMBEDDED_TARGET;
  private closing: Promise<void> | null = null;

  constructor(
    readonly gateway: ProvenanceEngine,
    /** The gateway's audit log, for listing and verification. */
    readonly audit: AuditLog,
  ) {
    super();
  }

  execute(request: GatewayRequest): Observable<GatewayEvent> {
    return new Observable<GatewayEvent>((subscriber) => {
      let active = true;
      this.gateway
        .execute(request, {
          onEscalated: (escalation) => {
            if (active) subscriber.next({ type: 'escalated', escalation });
          },
        })
        .then(
          (response) => {
            if (!active) return;
            subscriber.next({ type: 'decided', response });
            subscriber.complete();
          },
          (error: unknown) => {
            if (active) subscriber.error(asGatewayError(error));
          },
        );
      return () => {
        active = false;
      };
    });
  }

  async pending(): Promise<EscalationRecord[]> {
    return this.gateway.pending();
  }

  async decide(
    escalationId: string,
    verdict: ReviewVerdict,
    input: ReviewInput,
  ): Promise<ReviewOutcome> {
    return this.gateway.decide(escalationId, verdict, input);
  }

  close(): Promise<void> {
    this.closing ??= this.gateway.close();
    return this.closing;
  }
}

// A ProvenanceError (a refused parameter, an unknown escalation) keeps its own
// type; anything else means the gateway could not decide or record, which is
// never a reason to let a call through.
function asGatewayError(error: unknown): unknown {
  if (error instanceof ProvenanceError && !(error instanceof AuditStoreError)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GatewayError(`The embedded gateway could not decide: ${message}`, {
    url: EMBEDDED_TARGET,
    kind: 'internal',
    cause: error,
  });
}

function isCompiled(policy: unknown): policy is CompiledPolicy {
  return (
    typeof policy === 'object' &&
    policy !== null &&
    typeof (policy as CompiledPolicy).evaluate === 'function' &&
    typeof (policy as CompiledPolicy).explain === 'function'
  );
}

/** Builds the embedded gateway from resolved options. The policy is compiled here, so a bad one fails at start-up. */
export function createEmbeddedTransport(options: ResolvedClientOptions): EmbeddedTransport {
  const policy = options.policy as string | PolicyDocument | CompiledPolicy;
  const compiled = isCompiled(policy) ? policy : compilePolicy(policy);
  // A policy document may be empty, but a gate built on one lets everything
  // through: refuse to start rather than fail open by configuration.
  if (compiled.document.rules.length === 0) {
    throw new PolicyValidationError({
      file: compiled.source,
      ruleIndex: null,
      field: 'rules',
      problem: PolicyMessages.emptyRules(),
    });
  }
  const { store: kind, path, durable } = options.audit;
  const store =
    kind === 'memory'
      ? new MemoryAuditStore()
      : kind === 'file'
        ? new FileAuditStore(path, { durable })
        : kind;
  const audit = new AuditLog({ store });
  const gateway = new ProvenanceEngine({
    policy: compiled,
    audit,
    escalationTimeoutMs: options.escalationTimeout,
    tenantId: options.tenantId,
  });
  return new EmbeddedTransport(gateway, audit);
}
