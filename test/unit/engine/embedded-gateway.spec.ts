import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import {
  EscalationNotFoundError,
  InvalidParametersError,
} from '../../../lib/protocol/provenance.errors';
import { AuditLog } from '../../../lib/engine/audit/audit-log';
import { ProvenanceEngine } from '../../../lib/engine/provenance-engine';
import type { EscalationLifecycleEvent } from '../../../lib/engine/provenance-engine.types';
import type { EscalationTicket } from '../../../lib/protocol/gateway.types';
import { ENGINE_POLICY, engineRequest } from './engine.fixtures';

const policy = ENGINE_POLICY;
const request = engineRequest;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('ProvenanceEngine', () => {
  let dir: string;
  let audit: AuditLog;
  let gateway: ProvenanceEngine;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-gateway-'));
    audit = await AuditLog.openFile(path.join(dir, 'audit.jsonl'), { durable: false });
    gateway = new ProvenanceEngine({ policy, audit, escalationTimeoutMs: 60_000 });
  });

  afterEach(async () => {
    await gateway.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ALLOWs by default and records one decision event', async () => {
    const response = await gateway.execute(request());
    expect(response).toEqual({
      eventId: expect.any(String),
      decision: 'ALLOW',
      reason: 'No rule matched; default ALLOW',
      escalationId: null,
      actorHumanId: null,
    });
    const events = await audit.list();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: response.eventId,
      kind: 'decision',
      decision: 'ALLOW',
      tenantId: 'local',
      sessionId: 'sess_0123456789abcdef',
      action: 'files.read',
      parameters: { path: '/tmp/a' },
      payloadHash: sha256('{"path":"/tmp/a"}'),
    });
  });

  it('BLOCKs with the rule reason', async () => {
    const response = await gateway.execute(request({ action: 'files.delete' }));
    expect(response).toMatchObject({ decision: 'BLOCK', reason: 'deleting files is not allowed' });
    expect((await audit.list())[0]).toMatchObject({ kind: 'decision', decision: 'BLOCK' });
  });

  it('holds an escalation until approved: ticket at once, ALLOW with the approver, two events', async () => {
    const tickets: EscalationTicket[] = [];
    const steps: EscalationLifecycleEvent[] = [];
    gateway.onEscalation((event) => steps.push(event));
    const call = gateway.execute(
      request({ action: 'payments.initiate', parameters: { amount: 5000 } }),
      {
        onEscalated: (ticket) => tickets.push(ticket),
      },
    );
    await waitFor(() => tickets.length === 1);
    const ticket = tickets[0];
    expect(ticket).toMatchObject({
      action: 'payments.initiate',
      parameters: { amount: 5000 },
      reason: 'payments of 1000 or more need a human',
    });
    expect(Date.parse(ticket.expiresAt as string) - Date.parse(ticket.createdAt)).toBe(60_000);
    expect(gateway.pending()).toEqual([
      expect.objectContaining({
        id: ticket.escalationId,
        status: 'PENDING',
        parametersHash: sha256('{"amount":5000}'),
      }),
    ]);

    await expect(
      gateway.decide(ticket.escalationId, 'APPROVE', {
        approverId: 'alice',
        reason: 'known vendor',
      }),
    ).resolves.toEqual({
      escalationId: ticket.escalationId,
      decision: 'APPROVE',
      approverId: 'alice',
      reason: 'known vendor',
    });
    const response = await call;
    expect(response).toMatchObject({
      decision: 'ALLOW',
      reason: 'Escalation APPROVED by alice',
      escalationId: ticket.escalationId,
      actorHumanId: 'alice',
      escalationOutcome: 'approved',
    });
    const events = await audit.list();
    expect(events.map((e) => [e.kind, e.decision])).toEqual([
      ['escalation.pending', 'ESCALATE'],
      ['escalation.approved', 'ALLOW'],
    ]);
    expect(events[1]).toMatchObject({
      id: response.eventId,
      escalationId: ticket.escalationId,
      actorHumanId: 'alice',
      approverReason: 'known vendor',
      reason: 'Escalation APPROVED by alice',
    });
    expect(steps.map((s) => s.type)).toEqual(['pending', 'approved']);
    await expect(
      gateway.decide(ticket.escalationId, 'REJECT', { approverId: 'bob' }),
    ).rejects.toThrow(EscalationNotFoundError);
    expect((await gateway.verify()).valid).toBe(true);
  });

  it('BLOCKs a rejected escalation with the reference reason text', async () => {
    let ticket: EscalationTicket | null = null;
    const call = gateway.execute(
      request({ action: 'payments.initiate', parameters: { amount: 5000 } }),
      {
        onEscalated: (t) => (ticket = t),
      },
    );
    await waitFor(() => ticket !== null);
    await gateway.decide(ticket!.escalationId, 'REJECT', { approverId: 'bob', reason: 'no' });
    await expect(call).resolves.toMatchObject({
      decision: 'BLOCK',
      reason: 'Escalation REJECT — action blocked',
      actorHumanId: 'bob',
      escalationOutcome: 'rejected',
    });
    const last = (await audit.list()).at(-1);
    expect(last).toMatchObject({
      kind: 'escalation.rejected',
      decision: 'BLOCK',
      approverReason: 'no',
    });
  });

  it('BLOCKs an escalation nobody decides in time', async () => {
    const quick = new ProvenanceEngine({
      policy,
      audit: new AuditLog(),
      escalationTimeoutMs: 30,
      tenantId: 'acme',
    });
    const response = await quick.execute(
      request({ action: 'payments.initiate', parameters: { amount: 5000 } }),
    );
    expect(response).toMatchObject({
      decision: 'BLOCK',
      reason: 'Escalation TIMEOUT — action blocked',
      actorHumanId: null,
      escalationOutcome: 'expired',
    });
    await quick.close();
  });

  it('refuses a decision word other than APPROVE/REJECT, and an unknown id', async () => {
    await expect(gateway.decide('x', 'MAYBE' as never, { approverId: 'a' })).rejects.toThrow(
      /APPROVE/,
    );
    await expect(gateway.decide('x', 'APPROVE', { approverId: 'a' })).rejects.toThrow(
      EscalationNotFoundError,
    );
  });

  it('answers a repeated idempotency key once (each replay audited as one), and blocks the key reused for another call', async () => {
    const first = gateway.execute(request({ idempotencyKey: 'k1' }));
    const again = gateway.execute(request({ idempotencyKey: 'k1' }));
    const response = await first;
    expect(await again).toEqual(response);
    await expect(gateway.execute(request({ idempotencyKey: 'k1' }))).resolves.toEqual(response);
    // Decided once; the two replays are recorded as replays of that event, not decided again.
    const events = await audit.list();
    expect(events.map((e) => e.kind)).toEqual([
      'decision',
      'decision.replayed',
      'decision.replayed',
    ]);
    expect(events[1].reason).toContain(response.eventId as string);
    expect(events[1].decision).toBe(response.decision);

    const other = await gateway.execute(request({ idempotencyKey: 'k1', action: 'files.delete' }));
    expect(other.decision).toBe('BLOCK');
    expect(other.reason).toMatch(/idempotency_key was already used/);
    expect(await audit.count()).toBe(4);
  });

  it('shares one in-flight escalation between calls with the same idempotency key', async () => {
    let ticket: EscalationTicket | null = null;
    const req = request({
      action: 'payments.initiate',
      parameters: { amount: 5000 },
      idempotencyKey: 'k2',
    });
    const a = gateway.execute(req, { onEscalated: (t) => (ticket = t) });
    const b = gateway.execute(req);
    await waitFor(() => ticket !== null);
    await gateway.decide(ticket!.escalationId, 'APPROVE', { approverId: 'alice' });
    expect(await a).toEqual(await b);
    // One hold (pending, approved), and b's answer recorded as a replay of it.
    expect((await audit.list()).map((e) => e.kind)).toEqual([
      'escalation.pending',
      'escalation.approved',
      'decision.replayed',
    ]);
  });

  it('validates the request minimally', async () => {
    await expect(gateway.execute(request({ action: '' }))).rejects.toThrow(InvalidParametersError);
    await expect(gateway.execute(request({ parameters: [] as never }))).rejects.toThrow(
      InvalidParametersError,
    );
    await expect(gateway.execute(request({ parameters: { n: 1n } }))).rejects.toMatchObject({
      path: '$.n',
    });
    expect(await audit.count()).toBe(0);
  });

  it('on close, blocks held calls as expired, then refuses new calls', async () => {
    let ticket: EscalationTicket | null = null;
    const call = gateway.execute(
      request({ action: 'payments.initiate', parameters: { amount: 5000 } }),
      {
        onEscalated: (t) => (ticket = t),
      },
    );
    await waitFor(() => ticket !== null);
    await gateway.close();
    await expect(call).resolves.toMatchObject({ decision: 'BLOCK', escalationOutcome: 'expired' });
    await expect(gateway.execute(request())).rejects.toThrow(/closed/);
    await gateway.close();
    const log = await AuditLog.openFile(path.join(dir, 'audit.jsonl'));
    expect((await log.list()).at(-1)).toMatchObject({
      kind: 'escalation.expired',
      approverReason: 'gateway closed',
    });
    await log.close();
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(condition()).toBe(true);
}
