import { compilePolicy } from '../../../lib/engine/policy';
import type { GatewayRequest } from '../../../lib/protocol/gateway.types';

/** A policy with one of each outcome: files.delete BLOCKs, a payment of 1000 or more ESCALATEs, the rest ALLOWs. */
export const ENGINE_POLICY = compilePolicy({
  name: 'test',
  rules: [
    { action: 'files.delete', on_match: 'BLOCK', reason: 'deleting files is not allowed' },
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<', value: 1000 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'payments of 1000 or more need a human',
    },
  ],
});

/** A request the engine accepts: `files.read` of one path (ALLOWed by default), with `over` applied. */
export const engineRequest = (over: Partial<GatewayRequest> = {}): GatewayRequest => ({
  sessionId: 'sess_0123456789abcdef',
  agentId: 'agent-1',
  action: 'files.read',
  parameters: { path: '/tmp/a' },
  decision: 'BLOCK',
  ...over,
});
