import { Controller, Inject, Param, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { endAgentHold } from './agent-hold';
import { ApiKeyGuard } from './auth.guard';
import { WireExceptionFilter } from './exception-filter';
import { WireReply } from './reply';
import { RequireRole } from './roles';
import { GatewayServerTenants } from './tenants';

/**
 * `POST /v1/escalations/{id}/withdraw` (ours): the agent whose call is held
 * stopped waiting on purpose, so the hold ends as withdrawn (audited, BLOCK)
 * and no reviewer can approve a call that will never run. Only an agent key
 * of the tenant, and when the key names its agent, only that agent's calls.
 */
@Controller('v1/escalations')
@UseGuards(ApiKeyGuard)
@UseFilters(WireExceptionFilter)
export class GatewayWithdrawController {
  constructor(
    @Inject(GatewayServerTenants) private readonly tenants: GatewayServerTenants,
    @Inject(WireReply) private readonly reply: WireReply,
  ) {}

  @Post(':id/withdraw')
  @RequireRole('agent')
  async withdraw(@Req() req: unknown, @Param('id') id: string, @Res() res: unknown): Promise<void> {
    await endAgentHold(this.tenants, req, id, (gateway, held) => gateway.withdraw(held));
    this.reply.send(res, 200, { escalation_id: id, status: 'WITHDRAWN' });
  }
}
