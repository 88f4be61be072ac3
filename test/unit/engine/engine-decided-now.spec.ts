/**
 * A call without an idempotency key whose verdict is final is recorded and
 * answered in the call that asked, when the audit log stores events at once
 * (a memory store): `executeNowOrLater` returns the answer itself, with its
 * event already in the log. Everything else, and every failure, stays a promise.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog } from '../../../lib/engine/audit/audit-log';
import { MemoryAuditStore } from '../../../lib/engine/audit/audit-log.memory-store';
import { ProvenanceEngine } from '../../../lib/engine/provenance-engine';
import type { GatewayResponse } from '../../../lib/protocol/gateway.types';
import {
  GatewayClosedError,
  InvalidParametersError,
} from '../../../lib/protocol/provenance.errors';
import { ENGINE_POLICY, engineRequest } from './engine.fixtures';

const policy = ENGINE_POLICY;
const request = engineRequest;

async function memoryEngine(): Promise<{ engine: ProvenanceEngine; audit: AuditLog }> {
  const audit = new AuditLog({ store: new MemoryAuditStore() });
  await audit.open();
  return { engine: new ProvenanceEngine({ policy, audit, escalationTimeoutMs: 60_000 }), audit };
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}

describe('ProvenanceEngine: a final verdict decided in the call', () => {
  it('answers ALLOW and BLOCK at once on a memory store, their events already in the log', async () => {
    const { engine, audit } = await memoryEngine();
    try {
      const allowed = engine.executeNowOrLater(request());
      const blocked = engine.executeNowOrLater(request({ action: 'files.delete' }));
      expect(isPromise(allowed)).toBe(false);
      expect(isPromise(blocked)).toBe(false);
      expect(audit.size).toBe(2);
      const [first, second] = await audit.list();
      expect(allowed).toEqual({
        eventId: first.id,
        decision: 'ALLOW',
        reason: 'No rule matched; default ALLOW',
        escalationId: null,
        actorHumanId: null,
      });
      expect((blocked as GatewayResponse).eventId).toBe(second.id);
      expect(second).toMatchObject({
        decision: 'BLOCK',
        reason: 'deleting files is not allowed',
        position: 1,
      });
      await expect(audit.verify({ live: true })).resolves.toMatchObject({ valid: true });
      // execute() answers with a promise of the same, whatever path it took.
      await expect(engine.execute(request())).resolves.toMatchObject({ decision: 'ALLOW' });
      expect(audit.size).toBe(3);
    } finally {
      await engine.close();
    }
  });

  it('keeps a promise for an escalation, a keyed call and a file store', async () => {
    const { engine, audit } = await memoryEngine();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decided-now-'));
    const fileAudit = await AuditLog.openFile(path.join(dir, 'audit.jsonl'), { durable: false });
    const onFile = new ProvenanceEngine({ policy, audit: fileAudit, escalationTimeoutMs: 60_000 });
    try {
      const held = engine.executeNowOrLater(
        request({ action: 'payments.initiate', parameters: { amount: 5000 } }),
      );
      expect(isPromise(held)).toBe(true);
      const keyed = engine.executeNowOrLater(request({ idempotencyKey: 'k-1' }));
      expect(isPromise(keyed)).toBe(true);
      await expect(keyed).resolves.toMatchObject({ decision: 'ALLOW' });
      const fromFile = onFile.executeNowOrLater(request());
      expect(isPromise(fromFile)).toBe(true);
      await expect(fromFile).resolves.toMatchObject({ decision: 'ALLOW' });
      expect(fileAudit.size).toBe(1);
      while (engine.pending().length === 0) await new Promise((r) => setImmediate(r));
      await engine.decide(engine.pending()[0].id, 'REJECT', { approverId: 'alice' });
      await expect(held).resolves.toMatchObject({ decision: 'BLOCK' });
      // Two independent calls: each event is where it was recorded, not where its call began.
      expect((await audit.list()).map((event) => event.kind).sort()).toEqual([
        'decision',
        'escalation.pending',
        'escalation.rejected',
      ]);
    } finally {
      await engine.close();
      await onFile.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects, never throws, and records nothing for what it cannot decide or record', async () => {
    const { engine, audit } = await memoryEngine();
    const bad = engine.executeNowOrLater(request({ parameters: { n: 10n } }));
    expect(isPromise(bad)).toBe(true);
    await expect(bad).rejects.toBeInstanceOf(InvalidParametersError);
    expect(audit.size).toBe(0);

    const said = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await audit.store.close(); // the store now refuses every event
      const refused = engine.executeNowOrLater(request());
      expect(isPromise(refused)).toBe(true);
      await expect(refused).rejects.toThrow(/closed/);
      expect(audit.size).toBe(0);
    } finally {
      said.mockRestore();
    }
    await engine.close();
    const closed = engine.executeNowOrLater(request());
    await expect(closed).rejects.toBeInstanceOf(GatewayClosedError);
  });
});
