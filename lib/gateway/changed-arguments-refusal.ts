import type { LoggerService } from '@nestjs/common';
import { normalizedPayloadHash } from '../protocol/canonical-json';
import type { ExecutionResult } from '../protocol/execution-result';
import type { GatewayRequest } from '../protocol/gateway.types';
import { ArgumentsChangedError } from '../protocol/provenance.errors';
import { Messages } from '../protocol/provenance.messages';
import type { GatewayTransport } from '../transport/gateway-transport';
import type { GateCall } from './call-request';
import type { ChangedArguments } from './gate';

/**
 * A guarded body's arguments changed after their ALLOW: the refusal
 * (ArgumentsChangedError, naming both hashes), recorded in the audit trail
 * where the transport can. A refusal that could not be recorded is logged.
 */
export async function refuseChangedArguments(
  transport: GatewayTransport,
  logger: LoggerService,
  call: GateCall,
  result: ExecutionResult,
  changed: ChangedArguments,
): Promise<Error> {
  const sent = call.sent as GatewayRequest;
  const decidedHash = normalizedPayloadHash(sent.parameters);
  const currentHash =
    changed.current === undefined ? '(unreadable)' : normalizedPayloadHash(changed.current);
  const reason = Messages.argumentsChanged(call.action, decidedHash, currentHash);
  const error = new ArgumentsChangedError(result, decidedHash, currentHash, reason);
  try {
    const eventId = await transport.recordRefusal(sent, reason);
    if (eventId === null) logger.warn(Messages.refusalNotRecorded(reason, transport.target));
  } catch (recordError) {
    const why = recordError instanceof Error ? recordError.message : String(recordError);
    logger.error(Messages.refusalNotRecorded(`${reason} (${why})`, transport.target));
  }
  return error;
}
