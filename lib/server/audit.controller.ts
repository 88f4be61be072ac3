import {
  Controller,
  Get,
  Inject,
  Param,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ServerMessages } from '../protocol/provenance.messages';
import { ApiKeyGuard, scopeOf } from './auth.guard';
import { toWireAuditEvent, toWireIntegrity } from './audit-wire';
import { WireHttpError } from './errors';
import { WireExceptionFilter } from './exception-filter';
import { WireReply } from './reply';
import { GatewayServerTenants, type Tenant } from './tenants';
import { queryInteger } from './validation';

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

  /** Re-reads the tenant's audit file, so an edit made behind the server's back is found. */
  @Get('integrity/:tenantId')
  async integrity(
    @Req() req: unknown,
    @Param('tenantId') tenantId: string,
    @Res() res: unknown,
  ): Promise<void> {
    const tenant = this.tenantFor(req, tenantId);
    const verification = await tenant.audit.verify();
    this.reply.send(res, 200, toWireIntegrity(tenant.id, verification));
  }

  /** `?limit=100`: the most recent events, oldest first. */
  @Get(':tenantId')
  async events(
    @Req() req: unknown,
    @Param('tenantId') tenantId: string,
    @Query() query: Record<string, unknown>,
    @Res() res: unknown,
  ): Promise<void> {
    const tenant = this.tenantFor(req, tenantId);
    const limit = queryInteger(query, 'limit', 100, 0, 10_000);
    const events = await tenant.audit.list({ limit });
    this.reply.send(res, 200, { events: events.map(toWireAuditEvent) });
  }

  private tenantFor(req: unknown, tenantId: string): Tenant {
    const scope = scopeOf(req);
    if (tenantId !== scope.tenantId) {
      throw WireHttpError.message(403, ServerMessages.otherTenant(tenantId));
    }
    const tenant = this.tenants.get(scope.tenantId);
    if (tenant === undefined) throw WireHttpError.message(401, ServerMessages.invalidKey());
    return tenant;
  }
}
