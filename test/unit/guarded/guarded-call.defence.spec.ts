import { lastValueFrom, of } from 'rxjs';
import { ExecutionResult } from '../../../lib/protocol/execution-result';
import { ProvenanceError } from '../../../lib/protocol/provenance.errors';
import { gateObservable, gatePromise, type GateDecider } from '../../../lib/gateway/gate';

// The gateway's decide$ never completes on anything but ALLOW. These deciders
// break that contract on purpose: the body must still never run.
function deciderAnswering(decision: 'BLOCK' | 'ESCALATE'): GateDecider {
  const answer = () =>
    new ExecutionResult({
      decision,
      reason: 'misbehaving decider',
      action: 'x.y',
      eventId: null,
      sessionId: 'sess_test',
    });
  return {
    decide$: () => of(answer()),
    decideCall: async () => answer(),
    refuseChangedArguments: async () => new Error('not reached: the decision was not an ALLOW'),
  };
}

describe.each(['BLOCK', 'ESCALATE'] as const)('a decider that completes on %s', (decision) => {
  it('never runs the body of a promise method', async () => {
    let ran = 0;
    const outcome = gatePromise({
      gateway: deciderAnswering(decision),
      call: { action: 'x.y', parameters: {} },
      raiseOnBlock: true,
      body: async () => ++ran,
    });
    await expect(outcome).rejects.toBeInstanceOf(ProvenanceError);
    expect(ran).toBe(0);
  });

  it('never runs the body of an observable method', async () => {
    let ran = 0;
    const outcome = lastValueFrom(
      gateObservable(() => ({
        gateway: deciderAnswering(decision),
        call: { action: 'x.y', parameters: {} },
        raiseOnBlock: true,
        body: () => of(++ran),
      })),
      { defaultValue: 'none' },
    );
    if (decision === 'BLOCK') await expect(outcome).rejects.toBeInstanceOf(ProvenanceError);
    else await expect(outcome).resolves.toBe('none');
    expect(ran).toBe(0);
  });
});
