import {
  Controller,
  Get,
  Inject,
  Param,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { GrantNotFoundError, ProvenanceConfigError } from '../protocol/provenance.errors';
import { ServerMessages } from '../protocol/provenance.messages';
import { fromWireGrantRequest, toWireGrant } from '../protocol/wire-grants';
import { ApiKeyGuard, scopeOf } from './auth.guard';
import type { ApiKeyScope } from './api-keys';
import { readJsonBody } from './body';
import { WireHttpError } from './errors';
import { WireExceptionFilter } from './exception-filter';
import { GATEWAY_SERVER_OPTIONS } from './module-definition';
import { DEFAULT_MAX_BODY_BYTES, type ProvenanceGatewayServerOptions } from './options';
import { WireReply } from './reply';
import { RequireRole } from './roles';
import { GatewayServerTenants, type Tenant } from './tenants';

/**
 * Standing grants (ours; docs/protocol.md, "Grants"): a reviewer key grants,
 * lists and revokes, always as its own principal — a body `granted_by` or
 * `revoked_by` that names someone else is a 403. Every change is audited in
 * the tenant's chain, and so is every use.
 */
@Controller('v1/grants')
@UseGuards(ApiKeyGuard)
@UseFilters(WireExceptionFilter)
export class GatewayGrantsController {
  private readonly maxBodyBytes: number;

  constructor(
    @Inject(GatewayServerTenants) private readonly tenants: GatewayServerTenants,
    @Inject(WireReply) private readonly reply: WireReply,
    @Inject(GATEWAY_SERVER_OPTIONS) options: ProvenanceGatewayServerOptions,
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  @Get()
  @RequireRole('reviewer')
  async list(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    const tenant = this.ownTenant(scopeOf(req));
    this.reply.send(res, 200, { grants: (await tenant.gateway.grants()).map(toWireGrant) });
  }

  @Post()
  @RequireRole('reviewer')
  async create(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    const scope = scopeOf(req);
    const tenant = this.ownTenant(scope);
    const raw = await readJsonBody(req, this.maxBodyBytes);
    const principal = this.principalOf(scope, raw, 'granted_by');
    let input;
    try {
      input = fromWireGrantRequest(raw);
    } catch (error) {
      throw WireHttpError.message(422, (error as Error).message);
    }
    try {
      const grant = await tenant.gateway.grant(input, principal);
      this.reply.send(res, 200, toWireGrant(grant));
    } catch (error) {
      if (error instanceof ProvenanceConfigError) throw WireHttpError.message(422, error.message);
      throw error;
    }
  }

  @Post(':id/revoke')
  @RequireRole('reviewer')
  async revoke(@Req() req: unknown, @Param('id') id: string, @Res() res: unknown): Promise<void> {
    const scope = scopeOf(req);
    const tenant = this.ownTenant(scope);
    const raw = await readJsonBody(req, this.maxBodyBytes);
    const principal = this.principalOf(scope, raw, 'revoked_by');
    try {
      const grant = await tenant.gateway.revokeGrant(id, principal);
      this.reply.send(res, 200, toWireGrant(grant));
    } catch (error) {
      if (error instanceof GrantNotFoundError) throw WireHttpError.message(404, error.message);
      throw error;
    }
  }

  /** The reviewer key's principal; a body naming another person is refused. */
  private principalOf(scope: ApiKeyScope, raw: unknown, field: string): string {
    const principal = scope.principal;
    if (principal === null) {
      throw WireHttpError.message(403, ServerMessages.wrongRole(scope.role, ['reviewer']));
    }
    const named =
      typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)[field] : undefined;
    if (named !== undefined && named !== null && named !== principal) {
      throw WireHttpError.message(403, ServerMessages.approverNotPrincipal(principal));
    }
    return principal;
  }

  private ownTenant(scope: ApiKeyScope): Tenant {
    return this.tenants.of(scope);
  }
}
