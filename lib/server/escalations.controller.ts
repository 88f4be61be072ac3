import {
  Controller,
  Get,
  Inject,
  Logger,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApprovalForbiddenError, EscalationNotFoundError } from '../protocol/provenance.errors';
import { ServerMessages } from '../protocol/provenance.messages';
import type { EscalationRecord } from '../protocol/gateway.types';
import { toWireEscalationRecord, toWireResponse } from '../protocol/wire';
import { ApiKeyGuard, scopeOf } from './auth.guard';
import type { ApiKeyScope } from './api-keys';
import { readJsonBody } from './body';
import { RequireRole } from './roles';
import { WireHttpError } from './errors';
import { WireExceptionFilter } from './exception-filter';
import { GATEWAY_SERVER_OPTIONS } from './module-definition';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_WAIT_MS,
  type ProvenanceGatewayServerOptions,
} from './options';
import { WireReply, rawResponse } from './reply';
import { GatewayServerTenants, type Tenant } from './tenants';
import { servedWaitable, sharedWaitable, type Waitable } from './escalation-waitable';
import { parseDecideBody, queryInteger } from './validation';

type Query = Record<string, unknown>;

/**
 * Escalation review (docs/protocol.md, "Escalation review") and the long poll of the async extension.
 * Roles (lib/server/roles.ts): the lists and `/decide` need a reviewer key, `/wait` an agent key;
 * a decision is recorded as the reviewer key's principal, whatever the body says.
 * Tenant scoping: a key sees and decides only its own tenant's escalations.
 * Naming another tenant in `tenant_id` is a 403; an escalation id of another
 * tenant is answered exactly like an unknown one (404), so ids do not leak.
 */
@Controller('v1/escalations')
@UseGuards(ApiKeyGuard)
@UseFilters(WireExceptionFilter)
export class GatewayEscalationsController {
  private readonly maxBodyBytes: number;
  private readonly maxWaitMs: number;

  constructor(
    @Inject(GatewayServerTenants) private readonly tenants: GatewayServerTenants,
    @Inject(WireReply) private readonly reply: WireReply,
    @Inject(GATEWAY_SERVER_OPTIONS) options: ProvenanceGatewayServerOptions,
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    if (options.reviewAnyKey === true) {
      (options.logger ?? new Logger('ProvenanceGatewayServer')).warn(
        ServerMessages.reviewAnyKeyInsecure(),
      );
    }
  }

  /** `?tenant_id=&offset=0&limit=100`; `tenant_id` defaults to the key's tenant (the reference requires it). */
  @Get('pending')
  @RequireRole('reviewer', { insecureAnyKey: true })
  async pending(@Req() req: unknown, @Query() query: Query, @Res() res: unknown): Promise<void> {
    const tenant = this.tenantFor(scopeOf(req), query);
    this.sendList(res, query, await tenant.gateway.listPending());
  }

  /** Every escalation the server remembers for the tenant: pending, and the last 10 000 ended ones. */
  @Get()
  @RequireRole('reviewer', { insecureAnyKey: true })
  async all(@Req() req: unknown, @Query() query: Query, @Res() res: unknown): Promise<void> {
    const tenant = this.tenantFor(scopeOf(req), query);
    this.sendList(res, query, await this.tenants.escalationRecords(tenant));
  }

  /**
   * A reviewer key decides as its principal: `approver_id` may be left out
   * (the principal is used) or given as exactly the principal; any other name
   * is a 403 and nothing is decided. (With `reviewAnyKey`, an agent key
   * decides as the reference server lets it: in the body's `approver_id`.)
   */
  @Post(':id/decide')
  @RequireRole('reviewer', { insecureAnyKey: true })
  async decide(@Req() req: unknown, @Param('id') id: string, @Res() res: unknown): Promise<void> {
    const scope = scopeOf(req);
    const tenant = this.ownTenant(scope);
    const raw = await readJsonBody(req, this.maxBodyBytes);
    const body = parseDecideBody(
      scope.principal === null ? raw : withApprover(raw, scope.principal),
    );
    if (scope.principal !== null && body.approverId !== scope.principal) {
      throw WireHttpError.message(403, ServerMessages.approverNotPrincipal(scope.principal));
    }
    if ((await tenant.gateway.escalation(id))?.tenantId !== tenant.id) {
      throw WireHttpError.message(404, ServerMessages.escalationNotFound(id));
    }
    try {
      await tenant.gateway.decide(id, body.verdict, {
        approverId: body.approverId,
        reason: body.reason,
      });
    } catch (error) {
      if (error instanceof EscalationNotFoundError) {
        throw WireHttpError.message(404, ServerMessages.escalationNotFound(id));
      }
      // Four eyes (the engine's rule): the agent whose call it is cannot approve it.
      if (error instanceof ApprovalForbiddenError) throw WireHttpError.message(403, error.message);
      throw error;
    }
    this.reply.send(res, 200, {
      escalation_id: id,
      decision: body.verdict,
      approver_id: body.approverId,
      reason: body.reason,
    });
  }

  /**
   * Long poll: 200 with the final execute answer as soon as there is one,
   * 204 after `timeout_ms` (at most `maxWaitMs`, default 60 s) while still
   * pending, 404 for an escalation this key's tenant did not raise here.
   */
  @Get(':id/wait')
  @RequireRole('agent')
  async wait(
    @Req() req: unknown,
    @Param('id') id: string,
    @Query() query: Query,
    @Res() res: unknown,
  ): Promise<void> {
    const tenant = this.ownTenant(scopeOf(req));
    const served = this.tenants.escalation(tenant.id, id);
    // On PostgreSQL, an escalation another server holds is waited for in the shared table.
    const waitable =
      served !== undefined ? servedWaitable(served) : await sharedWaitable(tenant, id);
    if (waitable === undefined) {
      throw WireHttpError.message(404, ServerMessages.escalationUnknown(id));
    }
    if (waitable.response !== null) {
      this.reply.send(res, 200, toWireResponse(waitable.response));
      return;
    }
    const requested = Number(
      Array.isArray(query.timeout_ms) ? query.timeout_ms[0] : query.timeout_ms,
    );
    const holdMs = Number.isFinite(requested)
      ? Math.max(0, Math.min(requested, this.maxWaitMs))
      : this.maxWaitMs;
    // A hold of this server ends when it closes; one of another server's is let go (204).
    const letGo = served === undefined ? this.tenants.whenClosing : null;
    const outcome = await waitFor(waitable, holdMs, rawResponse(res), letGo);
    if (outcome === 'gone') return;
    if (outcome === 'decided' && waitable.response !== null) {
      this.reply.send(res, 200, toWireResponse(waitable.response));
    } else if (outcome === 'failed') {
      throw WireHttpError.message(500, ServerMessages.internal());
    } else {
      this.reply.send(res, 204);
    }
  }

  private ownTenant(scope: ApiKeyScope): Tenant {
    return this.tenants.of(scope);
  }

  private tenantFor(scope: ApiKeyScope, query: Query): Tenant {
    const asked = query.tenant_id;
    if (asked !== undefined && asked !== '' && asked !== scope.tenantId) {
      throw WireHttpError.message(403, ServerMessages.otherTenant(String(asked)));
    }
    return this.ownTenant(scope);
  }

  private sendList(res: unknown, query: Query, records: EscalationRecord[]): void {
    const offset = queryInteger(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = queryInteger(query, 'limit', 100, 0, 1000);
    this.reply.send(res, 200, {
      escalations: records.slice(offset, offset + limit).map(toWireEscalationRecord),
    });
  }
}

/**
 * Waits at most `holdMs` for the answer, until the client goes away, or until
 * `letGo` (the server closing) resolves; then stops watching.
 */
function waitFor(
  waitable: Waitable,
  holdMs: number,
  raw: ReturnType<typeof rawResponse>,
  letGo: Promise<void> | null,
): Promise<'decided' | 'timeout' | 'gone' | 'failed'> {
  return new Promise((resolve) => {
    let done = false;
    const timer = setTimeout(() => finish('timeout'), holdMs);
    const onClose = () => finish('gone');
    const finish = (how: 'decided' | 'timeout' | 'gone' | 'failed') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      raw.off('close', onClose);
      waitable.stop();
      resolve(how);
    };
    raw.on('close', onClose);
    void letGo?.then(() => finish('timeout'));
    waitable.final.then(
      () => finish('decided'),
      () => finish('failed'),
    );
  });
}

/**
 * The decide body with the reviewer's principal as `approver_id` when the
 * body leaves it out (absent, not null: a null is the reference's 422).
 */
function withApprover(raw: unknown, principal: string): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const body = raw as Record<string, unknown>;
  return body.approver_id === undefined ? { ...body, approver_id: principal } : body;
}
