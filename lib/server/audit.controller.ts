import { Readable } from 'node:stream';
import {
  Controller,
  Get,
  Inject,
  Param,
  Query,
  Req,
  Res,
  StreamableFile,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { AuditEvent } from '../engine/audit/audit-event';
import { AUDIT_QUERY_PARAMS } from '../engine/audit/audit-query';
import { ServerMessages } from '../protocol/provenance.messages';
import { ApiKeyGuard, scopeOf } from './auth.guard';
import { toWireAuditEvent, toWireIntegrity } from './audit-wire';
import { WireHttpError } from './errors';
import { WireExceptionFilter } from './exception-filter';
import { WireReply } from './reply';
import { GatewayServerTenants, type Tenant } from './tenants';
import { queryInteger } from './validation';
import { auditFilterOf } from './audit-query.params';

/** Most events one listing returns (`?limit=`); more is a 422 naming this cap. */
export const MAX_AUDIT_PAGE = 1000;

/** Events serialised per chunk of a listing: the event loop runs between chunks. */
const EVENTS_PER_CHUNK = 50;

/**
 * The tenant's audit trail and its verification. A key reads only its own
 * tenant: another tenant id in the path is a 403 (the ids of tenants are not
 * secret, the events are).
 */
@Controller('v1/audit')
@UseGuards(ApiKeyGuard)
@UseFilters(WireExceptionFilter)
export class GatewayAuditController {
  constructor(
    @Inject(GatewayServerTenants) private readonly tenants: GatewayServerTenants,
    @Inject(WireReply) private readonly reply: WireReply,
  ) {}

  /**
   * Re-reads the tenant's audit file, so an edit made behind the server's back
   * is found, and compares it with the head the server holds in memory: a
   * consistent shorter file renamed over the log, or an event the server never
   * wrote, is not valid. A deleted file is `valid: false`, problem `missing`.
   */
  @Get('integrity/:tenantId')
  async integrity(
    @Req() req: unknown,
    @Param('tenantId') tenantId: string,
    @Res() res: unknown,
  ): Promise<void> {
    const tenant = this.tenantFor(req, tenantId);
    const verification = await tenant.audit.verify({ live: true });
    this.reply.send(res, 200, toWireIntegrity(tenant.id, verification));
  }

  /**
   * The key's own tenant's events (`{"tenant_id": …, "events": […]}`), with
   * the filters and paging of `GET /v1/audit/{tenant_id}`: a client learns
   * whose trail its key reads without knowing the tenant id (`gateway.audit`
   * of a remote gateway).
   */
  @Get()
  async ownEvents(
    @Req() req: unknown,
    @Query() query: Record<string, unknown>,
    @Res() res: unknown,
  ): Promise<void> {
    const tenant = this.tenants.of(scopeOf(req));
    await this.sendListing(res, tenant, query, tenant.id);
  }

  /** `{"count": n}`: how many events match the filters of a listing (no limit, no offset). */
  @Get('count/:tenantId')
  async count(
    @Req() req: unknown,
    @Param('tenantId') tenantId: string,
    @Query() query: Record<string, unknown>,
    @Res() res: unknown,
  ): Promise<void> {
    const tenant = this.tenantFor(req, tenantId);
    const count = await tenant.audit.count(auditFilterOf(query));
    this.reply.send(res, 200, { count });
  }

  /**
   * `?limit=100` (0-1000): the most recent events, oldest first; with
   * `&offset=N`, the first `limit` events from position N on. Filters, as
   * AuditLog.list takes them: `session_id`, `agent_id`, `action`, `decision`,
   * `kind`, `escalation_id`, `since`, `until` (ISO 8601). The answer is
   * streamed a few events at a time, so a large page neither holds the event
   * loop nor builds the whole body in memory at once.
   */
  @Get(':tenantId')
  async events(
    @Req() req: unknown,
    @Param('tenantId') tenantId: string,
    @Query() query: Record<string, unknown>,
    @Res() res: unknown,
  ): Promise<void> {
    await this.sendListing(res, this.tenantFor(req, tenantId), query, null);
  }

  private async sendListing(
    res: unknown,
    tenant: Tenant,
    query: Record<string, unknown>,
    tenantId: string | null,
  ): Promise<void> {
    const filter = auditFilterOf(query);
    const limit = queryInteger(query, AUDIT_QUERY_PARAMS.limit, 100, 0, MAX_AUDIT_PAGE);
    const offset =
      query[AUDIT_QUERY_PARAMS.offset] === undefined
        ? undefined
        : queryInteger(query, AUDIT_QUERY_PARAMS.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    const events = await tenant.audit.list({ ...filter, limit, offset });
    this.reply.send(
      res,
      200,
      new StreamableFile(Readable.from(listingChunks(events, tenantId)), {
        type: 'application/json; charset=utf-8',
      }),
    );
  }

  private tenantFor(req: unknown, tenantId: string): Tenant {
    const scope = scopeOf(req);
    if (tenantId !== scope.tenantId) {
      throw WireHttpError.message(403, ServerMessages.otherTenant(tenantId));
    }
    return this.tenants.of(scope);
  }
}

/**
 * `{"events":[…]}` (after `"tenant_id"` when given), a chunk of
 * EVENTS_PER_CHUNK events at a time (pulled as the socket drains).
 */
function* listingChunks(events: readonly AuditEvent[], tenantId: string | null): Generator<string> {
  const open =
    tenantId === null ? '{"events":[' : `{"tenant_id":${JSON.stringify(tenantId)},"events":[`;
  if (events.length === 0) {
    yield `${open}]}`;
    return;
  }
  for (let from = 0; from < events.length; from += EVENTS_PER_CHUNK) {
    const chunk = events
      .slice(from, from + EVENTS_PER_CHUNK)
      .map((event) => JSON.stringify(toWireAuditEvent(event)))
      .join(',');
    yield `${from === 0 ? open : ','}${chunk}`;
  }
  yield ']}';
}
