import type { INestApplication } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Pool } from 'pg';
import {
  ProvenanceReviewer,
  redactConnectionString,
  type AuditEvent,
  type AuditVerification,
  type EscalationRecord,
} from '../../lib';
import type { AgentRunReport } from '../agent/agent-run.report';
import { DEMO_REVIEWER_TOKENS } from '../review/reviewer-tokens';
import { PaymentsService } from '../tools/payments.service';
import { createReplicaApp, urlOf } from './demo-replica';
import { DemoReport, expectEqual, expectTrue } from './demo.report';

/**
 * `npm run demo -- --postgres`: two replicas of the sample app, two
 * processes, one PostgreSQL schema (made fresh, dropped at the end). A call
 * held by one replica is approved by a reviewer of the other, and the other
 * way round; both extend one audit chain. The database is
 * PROVENANCE_DATABASE_URL, else the local test server.
 */

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const AGENT_SESSION = 'sess_demo_replicas';
const CFO_TOKEN = Object.keys(DEMO_REVIEWER_TOKENS).find(
  (token) => DEMO_REVIEWER_TOKENS[token] === 'cfo@example.com',
) as string;
const ROOT = path.resolve(__dirname, '..', '..');

interface ChildReplica {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Replica B: the same sample app in its own process, on the same schema. */
function spawnReplica(databaseUrl: string, schema: string): Promise<ChildReplica> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--enable-source-maps', '-r', './scripts/swc-register.js', 'sample/demo/demo-replica.ts'],
    {
      cwd: ROOT,
      env: { ...process.env, DEMO_DATABASE_URL: databaseUrl, DEMO_SCHEMA: schema },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.stdin?.end();
    await exited;
  };
  return new Promise<ChildReplica>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line.startsWith('READY '))
        resolve({ url: line.slice(6).trim(), pid: child.pid as number, stop });
    });
    child.once('exit', (code) =>
      reject(new Error(`replica B exited (code ${code}) before it was ready`)),
    );
  });
}

async function request<T>(method: string, url: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { 'X-Provenance-Session': AGENT_SESSION };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${method} ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

const runAgent = (base: string, args: Record<string, unknown>) =>
  request<AgentRunReport>('POST', `${base}/agent/run`, {
    plan: [{ tool: 'payments.initiate', args }],
  });

/** Asks `list` every 100 ms until it holds the call to `recipientId` (at most 10 s). */
async function whenListed(
  list: () => Promise<EscalationRecord[]>,
  recipientId: string,
): Promise<EscalationRecord> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await list()).find((r) => r.parameters?.recipientId === recipientId);
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      throw new Error(`no pending escalation for ${recipientId} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function runPostgresDemo(): Promise<boolean> {
  const report = new DemoReport();
  const databaseUrl = process.env.PROVENANCE_DATABASE_URL?.trim() || DEFAULT_DATABASE_URL;
  const schema = `provenance_demo_${randomBytes(6).toString('hex')}`;
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  let a: INestApplication | null = null;
  let b: ChildReplica | null = null;
  console.log('nestjs-provenance demo: two replicas of the sample app on one PostgreSQL schema');
  console.log(
    `database ${redactConnectionString(databaseUrl)} · schema ${schema} (dropped at the end)`,
  );
  try {
    await pool.query('SELECT 1').catch((error: unknown) => {
      throw new Error(
        `PostgreSQL at ${redactConnectionString(databaseUrl)} does not answer (${String(error)}): start it or set PROVENANCE_DATABASE_URL`,
      );
    });
    a = await createReplicaApp(databaseUrl, schema);
    const aUrl = urlOf(a);
    b = await spawnReplica(databaseUrl, schema);
    const bUrl = b.url;

    await report.step('Two replicas, two processes, one database', async (say) => {
      say(`replica A: pid ${process.pid} at ${aUrl}`);
      say(`replica B: pid ${b?.pid} at ${bUrl}`);
      const deadline = Date.now() + 10_000;
      let rows = 0;
      while (rows < 2 && Date.now() < deadline) {
        rows = Number(
          (await pool.query(`SELECT count(*) AS n FROM "${schema}".replicas`)).rows[0].n,
        );
        if (rows < 2) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      say(`the replicas table of ${schema} has ${rows} live replicas`);
      expectEqual('live replicas', rows, 2);
    });

    await report.step(
      'Replica A holds a call; a reviewer on replica B approves it',
      async (say) => {
        const agentCall = runAgent(aUrl, {
          amount: 800,
          currency: 'GBP',
          recipientId: 'rec_xyz789',
        });
        const held = await whenListed(
          () =>
            request<EscalationRecord[]>(
              'GET',
              `${bUrl}/review/escalations/pending`,
              undefined,
              CFO_TOKEN,
            ),
          'rec_xyz789',
        );
        say(
          `replica B lists ${held.id}: ${held.action} 800 GBP, held by replica A (${held.reason})`,
        );
        await request(
          'POST',
          `${bUrl}/review/escalations/${held.id}/approve`,
          { reason: 'Verified with CFO' },
          CFO_TOKEN,
        );
        say('the CFO approves it on replica B');
        const step = (await agentCall).steps[0];
        say(
          `replica A's waiting agent call → ${step.decision} by ${step.actorHumanId}: ${step.reason}`,
        );
        expectEqual(
          'decision',
          [step.decision, step.actorHumanId, step.escalationId],
          ['ALLOW', 'cfo@example.com', held.id],
        );
        const paid = (a as INestApplication)
          .get(PaymentsService)
          .initiated.some((p) => p.amount === 800);
        say(`PaymentsService on replica A ran the payment: ${paid}`);
        expectTrue('paid on replica A after the approval on replica B', paid);
      },
    );

    await report.step('Replica B holds a call; a reviewer on replica A rejects it', async (say) => {
      const agentCall = runAgent(bUrl, { amount: 100, currency: 'JPY', recipientId: 'rec_jpy001' });
      const reviewer = (a as INestApplication).get(ProvenanceReviewer);
      const held = await whenListed(() => reviewer.pending(), 'rec_jpy001');
      say(`replica A's reviewer sees ${held.id}: ${held.action} 100 JPY, held by replica B`);
      await reviewer.reject(held.id, { approverId: 'alice', reason: 'JPY not authorised' });
      const step = (await agentCall).steps[0];
      say(
        `replica B's waiting agent call → ${step.outcome}, ${step.decision} by ${step.actorHumanId}`,
      );
      expectEqual(
        'outcome',
        [step.outcome, step.decision, step.actorHumanId],
        ['rejected', 'BLOCK', 'alice'],
      );
    });

    await report.step('One audit chain, written by both replicas', async (say) => {
      const { events } = await request<{ events: AuditEvent[] }>(
        'GET',
        `${bUrl}/audit?session=${AGENT_SESSION}`,
      );
      for (const e of events) {
        say(
          `#${String(e.position).padEnd(3)} ${e.kind.padEnd(20)} ${e.decision.padEnd(8)} ${(e.actorHumanId ?? '').padEnd(16)} ${e.hash.slice(0, 12)}…`,
        );
      }
      expectEqual(
        'events',
        events.map((e) => [e.kind, e.decision, e.actorHumanId]),
        [
          ['escalation.pending', 'ESCALATE', null],
          ['escalation.approved', 'ALLOW', 'cfo@example.com'],
          ['escalation.pending', 'ESCALATE', null],
          ['escalation.rejected', 'BLOCK', 'alice'],
        ],
      );
      const verification = await request<AuditVerification>('GET', `${aUrl}/audit/verify`);
      say(
        `verified on replica A: ${verification.valid ? 'valid' : 'BROKEN'}, ${verification.eventsChecked} events`,
      );
      expectEqual('valid', verification.valid, true);
      expectEqual('events checked', verification.eventsChecked, events.length);
    });
  } catch (error) {
    report.fail('the demo could not run', error);
  } finally {
    await b?.stop().catch((error: unknown) => report.fail('replica B shutdown', error));
    await a?.close().catch((error: unknown) => report.fail('replica A shutdown', error));
    await pool
      .query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      .catch((error: unknown) => report.fail('dropping the schema', error));
    await pool.end();
  }
  console.log('');
  console.log(report.summary());
  return report.ok;
}
