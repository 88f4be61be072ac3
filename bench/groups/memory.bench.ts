import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AuditLog,
  ProvenanceEngine,
  EscalationHolds,
  compilePolicy,
  payloadHash,
  type HoldOutcome,
} from '../../lib/engine';
import type { ProvenanceSession } from '../../lib';
import { bootProvenance } from '../bench.app';
import type { Budget } from '../bench.budget';
import { atMost, figure, type Figure, type GroupReport } from '../bench.figures';
import { settleHeap, sleep } from '../bench.stats';
import { ALLOWED_PAYMENT, ESCALATED_PAYMENT, samplePolicy } from '../sample.workload';

/**
 * Retained heap per object: heapUsed after a full GC with N objects alive,
 * minus heapUsed after a full GC before they were made, divided by N. Every
 * object keeps what it would keep in an app (its ids, its parameters, the
 * promise its caller awaits), nothing more.
 */
const GROUP = 'memory';
const N = 10_000;

function paymentParameters(i: number): Record<string, unknown> {
  return { ...ESCALATED_PAYMENT.parameters, memo: `invoice ${100000 + i}` };
}

async function perObject(make: () => Promise<() => Promise<void> | void>): Promise<number> {
  const before = await settleHeap();
  const release = await make();
  const after = await settleHeap();
  await release();
  return (after - before) / N;
}

/** EscalationHolds alone: the hold, its record, its timer, the promise the caller awaits. */
async function heldInHolds(): Promise<number> {
  const warm = new EscalationHolds();
  for (let i = 0; i < 100; i++) void warm.hold(ticket(i), 60_000);
  warm.close();
  const holds = new EscalationHolds();
  const waiting: Promise<HoldOutcome>[] = [];
  const bytes = await perObject(async () => {
    for (let i = 0; i < N; i++) waiting.push(holds.hold(ticket(i), 60_000));
    return () => holds.close();
  });
  await Promise.all(waiting);
  return bytes;
}

function ticket(i: number) {
  const parameters = paymentParameters(i);
  return {
    escalationId: randomUUID(),
    tenantId: 'local',
    agentId: 'bench-agent',
    sessionId: 'sess_0123456789abcdef',
    action: ESCALATED_PAYMENT.action,
    parameters,
    parametersHash: payloadHash(parameters),
    reason: 'Payments over 500 need human approval',
  };
}

/** One embedded gateway, memory audit log: a decided call (its audit event) and a held escalated call. */
async function embeddedGateway(): Promise<{ auditEvent: number; heldCall: number }> {
  const gateway = new ProvenanceEngine({
    policy: compilePolicy(samplePolicy().document),
    audit: new AuditLog(),
  });
  const request = (i: number, action: string) => ({
    sessionId: 'sess_0123456789abcdef',
    agentId: 'bench-agent',
    action,
    parameters: paymentParameters(i),
    decision: 'BLOCK' as const,
  });
  // Warm-up, and the log open, before the baseline.
  await gateway.execute(request(0, 'email.send'));
  const auditEvent = await perObject(async () => {
    const answers: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) answers.push(gateway.execute(request(i, 'email.send')));
    await Promise.all(answers);
    return () => undefined;
  });
  const held: Promise<unknown>[] = [];
  const heldCall = await perObject(async () => {
    for (let i = 0; i < N; i++) {
      held.push(gateway.execute(request(i, ESCALATED_PAYMENT.action)).catch(() => undefined));
    }
    while (gateway.pending().length < N) await sleep(10);
    return () => undefined;
  });
  await gateway.close();
  await Promise.all(held);
  return { auditEvent, heldCall };
}

/** Through the module: a held `gateway.execute` (rxjs pipeline, pending-escalation map) and sessions. */
async function moduleObjects(): Promise<{
  heldCall: number;
  transportCall: number;
  session: number;
  runInSession: number;
}> {
  const app = await bootProvenance({
    agentId: 'bench-agent',
    policy: samplePolicy().document,
    audit: { store: 'memory' },
    // N held through the module, then 2N in the same engine one layer down.
    maxPendingEscalations: 3 * N,
  });
  const { gateway } = app;
  try {
    await gateway.execute('email.send', { to: 'a@example.com' });
    const held: Promise<unknown>[] = [];
    const heldCall = await perObject(async () => {
      for (let i = 0; i < N; i++) {
        held.push(
          gateway.execute(ESCALATED_PAYMENT.action, paymentParameters(i)).catch(() => undefined),
        );
      }
      while (gateway.pendingEscalationEvents().length < N) await sleep(10);
      return () => undefined;
    });

    // The same held call one layer down: the embedded transport's Observable, subscribed.
    const transport = gateway.gatewayTransport;
    const subscriptions: { unsubscribe(): void }[] = [];
    const transportCall = await perObject(async () => {
      for (let i = 0; i < N; i++) {
        subscriptions.push(
          transport
            .execute({
              sessionId: 'sess_0123456789abcdef',
              agentId: 'bench-agent',
              action: ESCALATED_PAYMENT.action,
              parameters: paymentParameters(i),
              decision: 'BLOCK',
            })
            .subscribe({ error: () => undefined }),
        );
      }
      while ((await transport.pending()).length < 2 * N) {
        await sleep(10);
      }
      return () => undefined;
    });

    gateway.session().close();
    const sessions: ProvenanceSession[] = [];
    const session = await perObject(async () => {
      for (let i = 0; i < N; i++) sessions.push(gateway.session());
      return () => {
        for (const s of sessions) s.close();
        sessions.length = 0;
      };
    });

    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const running: Promise<unknown>[] = [];
    const inSession = await perObject(async () => {
      for (let i = 0; i < N; i++) running.push(gateway.runInSession(undefined, () => gate));
      return async () => {
        open();
        await Promise.all(running);
      };
    });
    await app.close();
    await Promise.all(held);
    for (const subscription of subscriptions) subscription.unsubscribe();
    return { heldCall, transportCall, session, runInSession: inSession };
  } finally {
    await app.close();
  }
}

/**
 * A result a session keeps: N ALLOWed calls through a session handle, their
 * results kept by it (as `session.results`). A file store (not durable) keeps
 * no event in memory, so what is left is the session's.
 */
async function sessionResults(): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'provenance-bench-memory-'));
  const app = await bootProvenance({
    agentId: 'bench-agent',
    policy: samplePolicy().document,
    audit: { store: 'file', path: path.join(dir, 'audit.jsonl'), durable: false },
  });
  try {
    const { gateway } = app;
    await gateway.execute(ALLOWED_PAYMENT.action, ALLOWED_PAYMENT.parameters);
    const session = gateway.session();
    return await perObject(async () => {
      for (let i = 0; i < N; i++) {
        const parameters = { ...ALLOWED_PAYMENT.parameters, memo: `invoice ${100000 + i}` };
        await session.execute(ALLOWED_PAYMENT.action, parameters);
      }
      return () => session.close();
    });
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(_budget: Budget): Promise<GroupReport> {
  const started = Date.now();
  const holds = await heldInHolds();
  const embedded = await embeddedGateway();
  const viaModule = await moduleObjects();
  const sessionResult = await sessionResults();
  const figures: Figure[] = [
    figure(
      GROUP,
      'escalation.holds',
      'held escalation (EscalationHolds: hold, record, timer, promise)',
      holds,
      'B',
      {
        target: atMost(2048, 'B'),
      },
    ),
    figure(
      GROUP,
      'escalation.embedded',
      'held escalated call, ProvenanceEngine (incl. its audit event)',
      embedded.heldCall,
      'B',
    ),
    figure(
      GROUP,
      'escalation.module',
      'held escalated call through the module (incl. its audit event)',
      viaModule.heldCall,
      'B',
    ),
    figure(
      GROUP,
      'escalation.transport',
      'held escalated call, embedded transport Observable (incl. its audit event)',
      viaModule.transportCall,
      'B',
    ),
    figure(
      GROUP,
      'audit.event',
      'audit event kept in memory by the log (per decided call)',
      embedded.auditEvent,
      'B',
    ),
    figure(
      GROUP,
      'escalation.module.excludingAudit',
      'held escalated call through the module, audit event excluded',
      viaModule.heldCall - embedded.auditEvent,
      'B',
      {
        target: atMost(2048, 'B'),
      },
    ),
    figure(
      GROUP,
      'pending10k.bytes',
      `${N} held escalated calls through the module, retained heap in all (incl. audit events)`,
      viaModule.heldCall * N,
      'B',
    ),
    figure(GROUP, 'session.handle', 'open session, gateway.session()', viaModule.session, 'B', {
      target: atMost(1024, 'B'),
    }),
    figure(
      GROUP,
      'session.result',
      'result a session keeps (an ALLOWed call, session.results)',
      sessionResult,
      'B',
    ),
    figure(
      GROUP,
      'session.runInSession',
      'open session, runInSession (pending callback)',
      viaModule.runInSession,
      'B',
      {
        target: atMost(1024, 'B'),
      },
    ),
  ];
  return {
    group: GROUP,
    figures,
    context: { objects: N, method: 'heapUsed delta after forced GC / N' },
    seconds: (Date.now() - started) / 1000,
  };
}
