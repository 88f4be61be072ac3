import type { GatewayRequest } from '../../protocol/gateway.types';
import { parametersTextOf } from '../../protocol/canonical-stamp';
import { toWireRequest } from '../../protocol/wire';

/**
 * The JSON text of `POST /v1/gateway/execute` (the fields of `toWireRequest`,
 * in its order). Parameters the module normalised carry their canonical JSON
 * text (canonical-stamp.ts): it is spliced in as it is rather than written a
 * second time, so the gateway receives, byte for byte, the parameters that
 * were normalised and hashed here. Anything else is written by JSON.stringify.
 */
export function executeBodyText(request: GatewayRequest): string {
  const parameters = request.parameters ?? null;
  const text = parametersTextOf(parameters);
  if (text === undefined) return JSON.stringify(toWireRequest(request));
  let body =
    `{"session_id":${JSON.stringify(request.sessionId)}` +
    `,"agent_id":${JSON.stringify(request.agentId)}` +
    `,"action":${JSON.stringify(request.action)}` +
    `,"parameters":${text}` +
    `,"decision":${JSON.stringify(request.decision)}`;
  if (request.tenantPolicyId != null) {
    body += `,"tenant_policy_id":${JSON.stringify(request.tenantPolicyId)}`;
  }
  if (request.idempotencyKey != null) {
    body += `,"idempotency_key":${JSON.stringify(request.idempotencyKey)}`;
  }
  return `${body}}`;
}
