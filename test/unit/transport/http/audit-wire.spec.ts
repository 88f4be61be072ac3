import { AuditLog } from '../../../../lib/engine/audit/audit-log';
import { WireFormatError } from '../../../../lib/protocol/wire';
import { toWireAuditEvent, toWireIntegrity } from '../../../../lib/server/audit-wire';
import {
  fromWireAuditEvent,
  fromWireAuditListing,
  fromWireIntegrity,
  toWireAuditQuery,
} from '../../../../lib/transport/http/audit.wire';

/** The server's wire mapping read back by the remote reader: what comes back is what went out. */
describe('audit wire format, read back', () => {
  async function logWithEvents(): Promise<AuditLog> {
    const log = new AuditLog();
    const base = {
      tenantId: 't',
      sessionId: 'sess_w',
      agentId: 'a',
      action: 'x.y',
      parameters: { n: 1 },
      reason: 'r',
    };
    await log.append({ ...base, decision: 'ALLOW', kind: 'decision' });
    await log.append({
      ...base,
      decision: 'BLOCK',
      kind: 'escalation.rejected',
      approverReason: null,
    });
    await log.append({
      ...base,
      decision: 'BLOCK',
      kind: 'escalation.rejected',
      approverReason: 'no',
    });
    return log;
  }

  it('every event, with or without approverReason (none, null or text), comes back equal', async () => {
    const log = await logWithEvents();
    const events = await log.list();
    const back = events.map((event, index) =>
      fromWireAuditEvent(JSON.parse(JSON.stringify(toWireAuditEvent(event))), index),
    );
    expect(back).toEqual(events);
    expect(back.map((e) => Object.keys(e))).toEqual(events.map((e) => Object.keys(e)));
    expect('approverReason' in back[0]).toBe(false);
    expect(back[1].approverReason).toBeNull();
  });

  it('a verification comes back equal, violations included', async () => {
    const verification = {
      valid: false,
      eventsChecked: 2,
      firstBrokenPosition: 1,
      violations: [
        {
          position: 1,
          eventId: 'e1',
          problem: 'prev-hash-mismatch' as const,
          message: 'broken',
          expected: 'aa',
          actual: 'bb',
        },
      ],
      anchor: { position: 1, hash: 'cc' },
      checkpoints: {
        found: 2,
        verified: 1,
        signedThrough: 0,
        unsignedEvents: 1,
        lastReason: 'count',
        keyIds: ['k'],
      },
    };
    expect(
      fromWireIntegrity(JSON.parse(JSON.stringify(toWireIntegrity('t', verification)))),
    ).toEqual(verification);
  });

  it('refuses what is not the format, naming the event or member', () => {
    expect(() => fromWireAuditListing({ items: [] })).toThrow(WireFormatError);
    expect(() => fromWireAuditListing({ events: [{ id: 'x' }] })).toThrow(/audit event 0/);
    expect(() => fromWireIntegrity({ integrity: { valid: 'yes' } })).toThrow(/valid/);
  });

  it('sends the query in snake_case, dates as ISO text', () => {
    expect(
      toWireAuditQuery({ sessionId: 's', since: new Date(0), limit: 5, decision: 'BLOCK' }),
    ).toEqual({ session_id: 's', since: '1970-01-01T00:00:00.000Z', limit: 5, decision: 'BLOCK' });
  });
});
