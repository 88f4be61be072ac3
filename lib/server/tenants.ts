import { Logger } from '@nestjs/common';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { ServerMessages } from '../protocol/provenance.messages';
import type { AuditLog } from '../engine/audit/audit-log';
import type { PostgresContext } from '../postgres/postgres-context';
import { compiledPolicyOf } from '../engine/engine.factory';
import type { ProvenanceEngine } from '../engine/provenance-engine';
import type { CompiledPolicy } from '../engine/policy/policy.types';
import type {
  EscalationRecord,
  EscalationTicket,
  GatewayRequest,
  GatewayResponse,
} from '../protocol/gateway.types';
import { serverKeys } from './api-keys';
import { WireHttpError } from './errors';
import type { ApiKeyScope } from './api-keys';
import type { ProvenanceGatewayServerOptions } from './options';
import { TenantEngines } from './tenant-engines';
import { startTenantWebhooks } from './tenant-webhooks';

/** Tenant ids become file names: no separators, no dot-only names. */
const TENANT_ID = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;
/** How many ended escalations `/wait` still answers for. */
const KEEP_ENDED = 10_000;

export interface Tenant {
  readonly id: string;
  readonly gateway: ProvenanceEngine;
  readonly audit: AuditLog;
  /** Where the tenant's rows are, on PostgreSQL (shared with other servers); null otherwise. */
  readonly postgres: PostgresContext | null;
}

/** An escalation raised through this server, for `/wait`: its tenant and the held call's answer. */
export interface ServedEscalation {
  readonly tenantId: string;
  readonly final: Promise<GatewayResponse>;
  /** Set once the call has its final answer (approved, rejected or expired). */
  response: GatewayResponse | null;
}

/** The answer of one execute: final, or (asked for with `Prefer: respond-async`) the escalation ticket. */
export type ServedExecution =
  { kind: 'decided'; response: GatewayResponse } | { kind: 'accepted'; ticket: EscalationTicket };

/**
 * One embedded gateway per tenant: its own policy, audit chain, escalation
 * holds and idempotency keys, so that one tenant can neither see nor disturb
 * another's. Also remembers the escalations raised through the server, so
 * that a client told 202 can collect the answer at `/wait`.
 */
export class GatewayServerTenants {
  private readonly tenants = new Map<string, Tenant>();
  private readonly escalations = new Map<string, ServedEscalation>();
  private readonly ended: string[] = [];
  private closing: Promise<void> | null = null;
  private readonly engines: TenantEngines;
  /** The `notify` webhooks, one set per tenant (docs/webhooks.md). */
  private readonly webhooks: Array<{ close(): Promise<void> }> = [];
  private announceClosing: () => void = () => undefined;
  /** Resolves when close() begins: waits on escalations other servers hold are then let go. */
  readonly whenClosing = new Promise<void>((resolve) => (this.announceClosing = resolve));

  constructor(options: ProvenanceGatewayServerOptions) {
    const policies = new Map<string, unknown>();
    const compiled = new Map<unknown, CompiledPolicy>();
    this.engines = new TenantEngines(options);
    const keys = serverKeys(options);
    keys.forEach((entry, index) => {
      if (typeof entry.tenantId !== 'string' || !TENANT_ID.test(entry.tenantId)) {
        throw new ProvenanceConfigError(
          `keys[${index}].tenantId`,
          ServerMessages.badServerOption(
            `keys[${index}].tenantId`,
            '1-128 characters from [A-Za-z0-9._-]',
            entry.tenantId,
          ),
        );
      }
      const source = entry.policy;
      if (source === undefined || source === null) {
        // A reviewer key may leave the policy to its tenant's agent keys (checked below).
        if (entry.role === 'reviewer') return;
        throw new ProvenanceConfigError(
          `keys[${index}].policy`,
          ServerMessages.badServerOption(
            `keys[${index}].policy`,
            'a policy file, document or compiled policy',
            source,
          ),
        );
      }
      const known = policies.get(entry.tenantId);
      if (known !== undefined) {
        if (known !== source) {
          throw new ProvenanceConfigError(
            `keys[${index}].policy`,
            ServerMessages.tenantPolicyClash(entry.tenantId, index),
          );
        }
        return;
      }
      policies.set(entry.tenantId, source);
      // Compile each distinct policy once, even when tenants share it.
      let policy = compiled.get(source);
      if (policy === undefined) {
        policy = compiledPolicyOf(source);
        compiled.set(source, policy);
      }
      const built = this.engines.build(entry.tenantId, policy);
      if (policy.document.rules.length === 0) {
        (options.logger ?? new Logger('ProvenanceGatewayServer')).warn(
          ServerMessages.emptyPolicyAllowed(entry.tenantId),
        );
      }
      this.tenants.set(entry.tenantId, {
        id: entry.tenantId,
        gateway: built.engine,
        audit: built.audit,
        postgres: built.postgres,
      });
      const webhooks = startTenantWebhooks(built.engine, entry.tenantId, options);
      if (webhooks !== null) this.webhooks.push(webhooks);
    });
    keys.forEach((entry, index) => {
      if (!this.tenants.has(entry.tenantId)) {
        throw new ProvenanceConfigError(
          `keys[${index}].tenantId`,
          ServerMessages.reviewerTenantWithoutPolicy(index, entry.tenantId),
        );
      }
    });
  }

  get(tenantId: string): Tenant | undefined {
    return this.tenants.get(tenantId);
  }

  /** The tenant a valid key acts for; a key whose tenant is gone is answered as an invalid key (401). */
  of(scope: ApiKeyScope): Tenant {
    const tenant = this.tenants.get(scope.tenantId);
    if (tenant === undefined) throw WireHttpError.message(401, ServerMessages.invalidKey());
    return tenant;
  }

  all(): Tenant[] {
    return [...this.tenants.values()];
  }

  /**
   * Opens every audit log (and, on PostgreSQL, the schema and this replica's
   * row), so that a broken file or an unreachable database fails at start-up
   * rather than on the first call.
   */
  async open(): Promise<void> {
    await this.engines.open();
    await Promise.all(this.all().map((tenant) => tenant.audit.open()));
  }

  /**
   * Decides one call for a tenant. With `respondAsync`, an escalation answers
   * at once with its ticket; otherwise the promise settles with the final
   * answer, as the reference server holds the request. A retried idempotency
   * key of an escalated call gets no ticket (the gateway answers it from its
   * cache): it waits for the final answer.
   */
  execute(
    tenant: Tenant,
    request: GatewayRequest,
    respondAsync: boolean,
    held?: (ticket: EscalationTicket) => void,
  ): Promise<ServedExecution> {
    return new Promise<ServedExecution>((resolve, reject) => {
      let final: Promise<GatewayResponse> | null = null;
      let ticketSeen: EscalationTicket | null = null;
      const onEscalated = (ticket: EscalationTicket): void => {
        ticketSeen = ticket;
        held?.(ticket);
        if (final !== null) this.track(tenant.id, ticket.escalationId, final);
        if (respondAsync) resolve({ kind: 'accepted', ticket });
      };
      final = tenant.gateway.execute(request, { onEscalated });
      // The hook runs after an await inside the gateway; this covers a synchronous call anyway.
      if (ticketSeen !== null)
        this.track(tenant.id, (ticketSeen as EscalationTicket).escalationId, final);
      final.then((response) => resolve({ kind: 'decided', response }), reject);
    });
  }

  /** An escalation raised through this server, if its tenant is `tenantId`. */
  escalation(tenantId: string, escalationId: string): ServedEscalation | undefined {
    const served = this.escalations.get(escalationId);
    return served?.tenantId === tenantId ? served : undefined;
  }

  /**
   * Every escalation of a tenant this server still remembers (pending ones,
   * and the last ended ones), oldest first. With files, all of a tenant's
   * escalations go through this server, since its embedded gateway is private
   * to it; on PostgreSQL, the pending ones of every server sharing the schema
   * are listed too (ended ones only when raised through this server).
   */
  async escalationRecords(tenant: Tenant): Promise<EscalationRecord[]> {
    const records = new Map<string, EscalationRecord>();
    if (tenant.postgres !== null) {
      for (const record of await tenant.gateway.listPending()) records.set(record.id, record);
    }
    for (const [id, served] of Array.from(this.escalations)) {
      if (served.tenantId !== tenant.id) continue;
      const record = await tenant.gateway.escalation(id);
      if (record !== undefined) records.set(id, record);
    }
    return [...records.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Ends every held call as expired (blocked), then closes the audit logs (and the database pieces). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.announceClosing();
      const closed = await Promise.allSettled(this.all().map((tenant) => tenant.gateway.close()));
      // The expiries close() announced are sent too, for a short while; then given up.
      await Promise.all(this.webhooks.map((webhooks) => webhooks.close()));
      await this.engines.close();
      const failed = closed.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    })();
    return this.closing;
  }

  private track(tenantId: string, escalationId: string, final: Promise<GatewayResponse>): void {
    if (this.escalations.has(escalationId)) return;
    const served: ServedEscalation = { tenantId, final, response: null };
    this.escalations.set(escalationId, served);
    final.then(
      (response) => {
        served.response = response;
        this.ended.push(escalationId);
        if (this.ended.length > KEEP_ENDED) this.escalations.delete(this.ended.shift() as string);
      },
      // A call that failed (audit log broken) has no answer to give: forget it, /wait answers 404.
      () => this.escalations.delete(escalationId),
    );
  }
}
