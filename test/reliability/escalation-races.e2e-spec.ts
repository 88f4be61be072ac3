/*
 * Issue 7, item 7: "every held escalation ends exactly once" (docs/architecture.md), with
 * approve, reject and the 300 ms expiry racing on each of 1000 escalations,
 * through the module (embedded gateway). Checked from four sides: the caller,
 * `escalations$`, the reviewer's own calls, and the audit log. Afterwards no
 * timer or socket of ours is left.
 */
import { EscalationNotFoundError } from '../../lib/protocol/provenance.errors';
import {
  EscalationRejectedError,
  EscalationTimeoutError,
} from '../../lib/protocol/provenance.errors';
import type { EscalationEvent } from '../../lib/protocol/escalation-event';
import type { PolicyDocument } from '../../lib/engine/policy/policy.types';
import { bootToolApp } from './reliability.fixture';
import { trackOwnedHandles, type OwnedHandles } from './owned-handles';

const CALLS = Number(process.env.RELIABILITY_RACE_CALLS ?? 1000);
const TIMEOUT_MS = 300;

const policy: PolicyDocument = {
  name: 'races',
  rules: [{ action: 'payments.*', on_match: 'ESCALATE', reason: 'a human decides' }],
};

type Ending = 'approved' | 'rejected' | 'expired';

describe('approve, reject and expiry racing on 1000 escalations (item 7)', () => {
  let owned: OwnedHandles | undefined;
  // Also when an assertion failed halfway: the hook must not outlive this test.
  afterEach(() => owned?.stop());

  it('each ends exactly once, seen the same way by caller, stream, reviewer and audit; nothing is left running', async () => {
    // Every timer, immediate and socket created from here on, by the app or by this test.
    owned = trackOwnedHandles();
    const { app, gateway } = await bootToolApp({
      agentId: 'agent-races',
      policy,
      escalationTimeout: TIMEOUT_MS,
      audit: { store: 'memory' },
    });

    const stream: EscalationEvent[] = [];
    const streamDone = new Promise<void>((done) => {
      gateway.escalations$.subscribe({ next: (event) => stream.push(event), complete: done });
    });

    // Reviewer side: for each pending escalation, an approve and a reject at
    // random moments around the expiry, so all three outcomes win some races.
    const reviews: Array<Promise<void>> = [];
    const reviewWins = new Map<string, Array<'approved' | 'rejected'>>();
    const reviewTimers = new Set<NodeJS.Timeout>();
    const review = (id: string, verdict: 'APPROVE' | 'REJECT'): void => {
      reviews.push(
        new Promise<void>((done, fail) => {
          const timer = setTimeout(
            () => {
              reviewTimers.delete(timer);
              gateway.gatewayTransport
                .decide(id, verdict, { approverId: 'reviewer' })
                .then(
                  () => {
                    const wins = reviewWins.get(id) ?? [];
                    wins.push(verdict === 'APPROVE' ? 'approved' : 'rejected');
                    reviewWins.set(id, wins);
                  },
                  (error: unknown) => {
                    // The loser of a race is told the escalation is gone, nothing else.
                    if (!(error instanceof EscalationNotFoundError)) throw error;
                  },
                )
                .then(done, fail);
            },
            Math.floor(Math.random() * TIMEOUT_MS * 1.4),
          );
          reviewTimers.add(timer);
        }),
      );
    };
    const reviewer = gateway.escalations$.subscribe((event) => {
      if (event.type !== 'pending') return;
      review(event.escalationId, 'APPROVE');
      review(event.escalationId, 'REJECT');
    });

    // Caller side: count every notification of every call.
    const callers = Array.from({ length: CALLS }, (_, i) => {
      const seen = { finals: 0, errors: 0, completes: 0, interim: 0, escalationId: '' };
      let ending: Ending | 'other' | null = null;
      const done = new Promise<void>((resolve) => {
        gateway.execute$('payments.initiate', { i }).subscribe({
          next: (result) => {
            if (result.escalated) {
              seen.interim++;
              seen.escalationId = result.escalationId ?? '';
            } else {
              seen.finals++;
              ending = result.allowed ? 'approved' : 'other';
            }
          },
          error: (error: unknown) => {
            seen.errors++;
            ending =
              error instanceof EscalationRejectedError
                ? 'rejected'
                : error instanceof EscalationTimeoutError
                  ? 'expired'
                  : 'other';
            resolve();
          },
          complete: () => {
            seen.completes++;
            resolve();
          },
        });
      });
      return { seen, done, ending: () => ending };
    });

    await Promise.all(callers.map((caller) => caller.done));
    await Promise.all(reviews);
    reviewer.unsubscribe();

    // Callers: one interim ESCALATE, then exactly one ending.
    for (const { seen } of callers) {
      expect(seen.interim).toBe(1);
      expect(seen.errors + seen.completes).toBe(1);
      expect(seen.finals).toBe(seen.completes);
    }
    const endings = callers.map((caller) => caller.ending());
    expect(endings.filter((ending) => ending === 'other')).toEqual([]);

    // Stream: per id exactly one pending and one terminal event, matching the caller.
    const byId = new Map<string, EscalationEvent[]>();
    for (const event of stream) {
      byId.set(event.escalationId, [...(byId.get(event.escalationId) ?? []), event]);
    }
    expect(byId.size).toBe(CALLS);
    callers.forEach((caller, index) => {
      const events = byId.get(caller.seen.escalationId) ?? [];
      expect(events.map((event) => event.type)).toEqual(['pending', endings[index]]);
      // Reviewer: at most one decide() won, and it is the ending; none won means it expired.
      const wins = reviewWins.get(caller.seen.escalationId) ?? [];
      expect(wins.length).toBeLessThanOrEqual(1);
      expect(wins[0] ?? 'expired').toBe(endings[index]);
    });

    // Audit: per escalation exactly the pending event and one final event, of the same ending.
    const audit = await gateway.audit!.list();
    expect(audit).toHaveLength(2 * CALLS);
    const finals = new Map<string, string[]>();
    for (const event of audit) {
      const kinds = finals.get(event.escalationId as string) ?? [];
      kinds.push(event.kind);
      finals.set(event.escalationId as string, kinds);
    }
    callers.forEach((caller, index) => {
      expect(finals.get(caller.seen.escalationId)).toEqual([
        'escalation.pending',
        `escalation.${endings[index] as Ending}`,
      ]);
    });
    expect((await gateway.audit!.verify()).valid).toBe(true);

    // All three outcomes took part (with 1000 random races each wins some).
    const tally = { approved: 0, rejected: 0, expired: 0 };
    for (const ending of endings) tally[ending as Ending]++;
    if (CALLS >= 100) {
      expect(tally.approved).toBeGreaterThan(0);
      expect(tally.rejected).toBeGreaterThan(0);
      expect(tally.expired).toBeGreaterThan(0);
    }

    await app.close();
    await streamDone;
    expect(reviewTimers.size).toBe(0);
    // None of them is left: every timer ran or was cleared (unref'd ones too), every socket closed.
    const left = await owned.alive();
    owned.stop();
    expect(left).toEqual([]);
  }, 60_000);
});
