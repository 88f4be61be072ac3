import { Logger } from '@nestjs/common';
import type { ProvenanceEngine } from '../engine/provenance-engine';
import { EscalationWebhooks, type EscalationSource } from '../notify/escalation-webhooks';
import { escalationEventFromRecord } from '../protocol/escalation-event';
import type { ProvenanceGatewayServerOptions } from './options';

/**
 * The `notify` webhooks of one tenant of the server: its engine's escalation
 * steps, with `tenant` its id; null when `notify` names no receiver.
 */
export function startTenantWebhooks(
  engine: ProvenanceEngine,
  tenantId: string,
  options: ProvenanceGatewayServerOptions,
): EscalationWebhooks | null {
  if (options.notify === undefined || options.notify.length === 0) return null;
  const source: EscalationSource = {
    subscribe: ({ next }) => ({
      unsubscribe: engine.onEscalation((event) =>
        next(escalationEventFromRecord(event.type, event.record)),
      ),
    }),
  };
  return EscalationWebhooks.start(source, options.notify, {
    tenant: tenantId,
    logger: options.logger ?? new Logger('ProvenanceGatewayServer'),
  });
}
