import { Controller, Inject, Param, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { endAgentHold } from './agent-hold';
import { ApiKeyGuard } from './auth.guard';
import { WireExceptionFilter } from './exception-filter';
import { WireReply } from './reply';
import { RequireRole } from './roles';
import { GatewayServerTenants } from './tenants';

/**
 * `POST /v1/escalations/{id}/detach` (ours): the agent whose call was
 * answered 202 stops waiting *without* withdrawing (a deferred call,
 * docs/escalations.md). The hold stays pending for a reviewer; an approval
 * then becomes a single-use grant for the identical call, which the agent's
 * next identical execute uses. The same keys and checks as withdraw: only an
 * agent key of the tenant, and when the key names its agent, only that
 * agent's calls. 404 when the hold is unknown or has already ended.
 */
@Controller('v1/escalations')
@UseGuards(ApiKeyGuard)
@UseFilters(WireExceptionFilter)
export class GatewayDetachController {
  constructor(
    @Inject(GatewayServerTenants) private readonly tenants: GatewayServerTenants,
    @Inject(WireReply) private readonly reply: WireReply,
  ) {}

  @Post(':id/detach')
  @RequireRole('agent')
  async detach(@Req() req: unknown, @Param('id') id: string, @Res() res: unknown): Promise<void> {
    await endAgentHold(this.tenants, req, id, (gateway, held) => gateway.detach(held));
    this.reply.send(res, 200, { escalation_id: id, status: 'PENDING' });
  }
}
