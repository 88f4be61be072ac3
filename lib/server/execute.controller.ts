import { Controller, Inject, Logger, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { Decision } from '../protocol/decision';
import {
  EscalationLimitError,
  GatewayClosedError,
  InvalidParametersError,
} from '../protocol/provenance.errors';
import type { EscalationTicket } from '../protocol/gateway.types';
import { ServerMessages } from '../protocol/provenance.messages';
import { toWireResponse, type WireEscalationAccepted } from '../protocol/wire';
import { ApiKeyGuard, scopeOf } from './auth.guard';
import { readJsonBody } from './body';
import { RequireRole } from './roles';
import { WireHttpError } from './errors';
import { WireExceptionFilter } from './exception-filter';
import { GATEWAY_SERVER_OPTIONS } from './module-definition';
import { DEFAULT_MAX_BODY_BYTES, type ProvenanceGatewayServerOptions } from './options';
import { WireReply, rawResponse } from './reply';
import { GatewayServerTenants } from './tenants';
import { parseExecuteBody } from './validation';

const RESPOND_ASYNC = /(?:^|[\s,;])respond-async(?:$|[\s,;=])/i;

/** `POST /v1/gateway/execute` (docs/protocol.md), with the async escalation extension ("Async escalation"). */
@Controller('v1/gateway')
@UseGuards(ApiKeyGuard)
@UseFilters(WireExceptionFilter)
export class GatewayExecuteController {
  private readonly logger = new Logger('ProvenanceGatewayServer');
  private readonly maxBodyBytes: number;

  constructor(
    @Inject(GatewayServerTenants) private readonly tenants: GatewayServerTenants,
    @Inject(WireReply) private readonly reply: WireReply,
    @Inject(GATEWAY_SERVER_OPTIONS) options: ProvenanceGatewayServerOptions,
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /**
   * 200 with the decision. An escalation is held until a human decides or the
   * hold expires (the reference behaviour), unless the request says
   * `Prefer: respond-async`: then 202 with the escalation id at once, and the
   * answer is collected at `GET /v1/escalations/{id}/wait`. Agent keys only
   * (a reviewer key is 403), and a key bound to an agent id acts as that agent only.
   */
  @Post('execute')
  @RequireRole('agent')
  async execute(@Req() req: unknown, @Res() res: unknown): Promise<void> {
    const scope = scopeOf(req);
    const request = parseExecuteBody(await readJsonBody(req, this.maxBodyBytes));
    // A key bound to an agent (`agentId` on its entry) cannot put another agent's name in the audit.
    if (scope.agentId !== null && request.agentId !== scope.agentId) {
      throw WireHttpError.message(
        403,
        ServerMessages.agentNotBound(scope.agentId, request.agentId),
      );
    }
    if (request.tenantPolicyId != null && request.tenantPolicyId !== scope.policyId) {
      // The reference answers an unknown scope with a 200 BLOCK, not an error status.
      this.reply.send(res, 200, {
        event_id: null,
        decision: Decision.BLOCK,
        reason: ServerMessages.tenantPolicyNotFound(),
        escalation_id: null,
        actor_human_id: null,
      });
      return;
    }
    const tenant = this.tenants.of(scope);
    const prefer = (req as { headers: Record<string, unknown> }).headers.prefer;
    const respondAsync = typeof prefer === 'string' && RESPOND_ASYNC.test(prefer);

    // A held request (no respond-async) whose connection closes before the
    // answer: the caller stopped waiting without withdrawing (it timed out,
    // or died). The hold stays for a human; an approval then becomes a
    // single-use grant for the identical call.
    const raw = rawResponse(res);
    const held = respondAsync
      ? undefined
      : (ticket: EscalationTicket) =>
          raw.once('close', () => {
            if (!raw.writableEnded)
              void tenant.gateway.detach(ticket.escalationId).catch(() => false);
          });
    let served;
    try {
      served = await this.tenants.execute(tenant, request, respondAsync, held);
    } catch (error) {
      throw this.failure(error);
    }
    if (served.kind === 'decided') {
      this.reply.send(res, 200, toWireResponse(served.response, respondAsync));
      return;
    }
    const { ticket } = served;
    const accepted: WireEscalationAccepted = {
      escalation_id: ticket.escalationId,
      status: 'PENDING',
      action: ticket.action,
      reason: ticket.reason,
      created_at: ticket.createdAt,
      expires_at: ticket.expiresAt ?? null,
    };
    this.reply.send(res, 202, accepted, { 'Preference-Applied': 'respond-async' });
  }

  private failure(error: unknown): WireHttpError {
    if (error instanceof InvalidParametersError) {
      const path = error.path
        .replace(/^\$\.?/, '')
        .split('.')
        .filter(Boolean);
      return WireHttpError.validation([
        { type: 'value_error', loc: ['body', 'parameters', ...path], msg: error.message },
      ]);
    }
    if (error instanceof EscalationLimitError) {
      return WireHttpError.message(429, error.message);
    }
    if (error instanceof GatewayClosedError) {
      // The embedded gateway is closed: the server is shutting down, nothing was decided.
      return WireHttpError.message(503, ServerMessages.unavailable());
    }
    // Anything else (a store that cannot be read or written: the database is
    // away) may have happened after deciding: a 500, which no client may
    // answer for itself (a 503 would let a fail-open client ALLOW).
    this.logger.error(
      `could not decide or record a call: ${error instanceof Error ? error.message : String(error)}`,
    );
    return WireHttpError.message(500, ServerMessages.internal());
  }
}
