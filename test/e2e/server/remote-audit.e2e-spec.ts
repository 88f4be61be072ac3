import 'reflect-metadata';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { filter, firstValueFrom } from 'rxjs';
import {
  AuditLog,
  computeEventHash,
  EscalationRejectedError,
  GatewayError,
  PolicyBlockedError,
  ProvenanceGateway,
  ProvenanceModule,
  RemoteAuditReader,
} from '../../../lib';
import { ProvenanceReviewer } from '../../../lib/escalation/provenance.reviewer';
import { GatewayServerTenants } from '../../../lib/server/tenants';
import { call, startServer, type TestServer } from './server.helpers';

/*
 * gateway.audit of an app in remote mode reads the gateway server's audit
 * API and answers what the server's own AuditLog (the embedded API, in the
 * same process) answers on the same events, in the same shapes.
 */

async function bootRemote(server: TestServer, apiKey: string): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        gatewayUrl: server.url,
        agentId: 'agent-remote-audit',
        apiKey,
        timeout: 5_000,
      }),
    ],
  })
  class RemoteAuditApp {}
  return NestFactory.createApplicationContext(RemoteAuditApp, { logger: false });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('gateway.audit in remote mode, against our gateway server', () => {
  let server: TestServer;
  let app: INestApplicationContext;
  let gateway: ProvenanceGateway;
  /** The server's own log of tenant-a: the embedded AuditLog API on the same events. */
  let embedded: AuditLog;

  beforeAll(async () => {
    server = await startServer('express');
    app = await bootRemote(server, server.apiKey);
    gateway = app.get(ProvenanceGateway);
    embedded = server.app.get(GatewayServerTenants).get(server.tenantId)!.audit;
    await gateway.execute('payments.initiate', { amount: 20 }, { sessionId: 'sess_audit_a' });
    await rejection(
      gateway.execute('data.delete', { table: 'users' }, { sessionId: 'sess_audit_b' }),
    );
    await gateway.execute('email.send', { to: 'a@example.com' }, { sessionId: 'sess_audit_a' });
    await gateway.execute('payments.initiate', { amount: 5 }, { sessionId: 'sess_audit_b' });
    // An escalation a reviewer rejects in their own words (approverReason).
    const console = new ProvenanceGateway({
      gatewayUrl: server.url,
      apiKey: server.reviewerKeys.cfo,
      agentId: 'review-console',
      timeout: 5_000,
    });
    const reviewer = new ProvenanceReviewer(console, { pollInterval: 25 });
    try {
      const held = rejection(
        gateway.execute('payments.initiate', { amount: 950 }, { sessionId: 'sess_audit_c' }),
      );
      const [record] = await firstValueFrom(reviewer.pending$.pipe(filter((l) => l.length > 0)));
      await reviewer.reject(record.id, { approverId: 'cfo', reason: 'Not this quarter' });
      expect(await held).toBeInstanceOf(EscalationRejectedError);
    } finally {
      await console.close();
    }
  });
  afterAll(async () => {
    await app.close();
    await server.close();
  });

  it('is a RemoteAuditReader, not null', () => {
    expect(gateway.audit).toBeInstanceOf(RemoteAuditReader);
  });

  it('list() equals the embedded list, event for event, hashes recomputing', async () => {
    const remote = await gateway.audit.list();
    const local = await embedded.list();
    // 4 decisions, the escalation's pending and rejected steps.
    expect(local).toHaveLength(6);
    expect(remote).toEqual(local);
    // Every member the hash covers came across: each event's hash recomputes.
    for (const event of remote) expect(computeEventHash(event)).toBe(event.hash);
    const ended = remote.find((event) => event.kind === 'escalation.rejected');
    expect(ended).toMatchObject({ approverReason: 'Not this quarter', actorHumanId: 'cfo' });
  });

  it('list({ sessionId }) and the other filters equal the embedded answers', async () => {
    const queries = [
      { sessionId: 'sess_audit_a' },
      { sessionId: 'sess_audit_b', limit: 1 },
      { decision: 'BLOCK' as const },
      { action: 'payments.initiate', offset: 1, limit: 1 },
      { sessionId: 'sess_nobody' },
    ];
    for (const query of queries) {
      expect(await gateway.audit.list(query)).toEqual(await embedded.list(query));
    }
    const [blocked] = await gateway.audit.list({ sessionId: 'sess_audit_b', decision: 'BLOCK' });
    expect(blocked).toMatchObject({ action: 'data.delete', sessionId: 'sess_audit_b' });
  });

  it('count() equals the embedded count, with and without a filter', async () => {
    expect(await gateway.audit.count()).toBe(await embedded.count());
    expect(await gateway.audit.count({ sessionId: 'sess_audit_a' })).toBe(
      await embedded.count({ sessionId: 'sess_audit_a' }),
    );
    expect(await gateway.audit.count({ sessionId: 'sess_audit_a' })).toBe(2);
  });

  it('verify() equals the embedded verification of the same store', async () => {
    const remote = await gateway.audit.verify();
    expect(remote).toEqual(await embedded.verify({ live: true }));
    expect(remote).toMatchObject({ valid: true, violations: [] });
    expect(remote.eventsChecked).toBe(await embedded.count());
  });

  it("a reviewer key reads the same trail (the key's tenant's)", async () => {
    const other = await bootRemote(server, server.reviewerKeys.cfo);
    try {
      const reviewerAudit = other.get(ProvenanceGateway).audit;
      expect(await reviewerAudit.list({ sessionId: 'sess_audit_a' })).toEqual(
        await embedded.list({ sessionId: 'sess_audit_a' }),
      );
    } finally {
      await other.close();
    }
  });

  it("another tenant's key reads its own (empty) trail, never tenant-a's", async () => {
    const other = await bootRemote(server, server.otherKey);
    try {
      expect(await other.get(ProvenanceGateway).audit.list()).toEqual([]);
      expect(await other.get(ProvenanceGateway).audit.count()).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('pages past the server cap of 1000 events a listing: every query still equals the embedded one', async () => {
    const appends = [];
    for (let i = 0; i < 1_100; i++) {
      appends.push(
        embedded.append({
          tenantId: server.tenantId,
          sessionId: i % 2 === 0 ? 'sess_many_even' : 'sess_many_odd',
          agentId: 'bulk',
          action: 'bulk.write',
          parameters: { i },
          decision: 'ALLOW',
          reason: 'bulk',
          kind: 'decision',
        }),
      );
    }
    await Promise.all(appends);
    const queries = [
      {},
      { limit: 1_050 },
      { offset: 3, limit: 1_020 },
      { sessionId: 'sess_many_even' },
      { sessionId: 'sess_many_odd', offset: 500 },
    ];
    for (const query of queries) {
      const remote = await gateway.audit.list(query);
      expect(remote.map((e) => e.id)).toEqual((await embedded.list(query)).map((e) => e.id));
    }
    expect(await gateway.audit.list()).toHaveLength(1_106);
    expect(await gateway.audit.count({ sessionId: 'sess_many_odd' })).toBe(550);
  });

  it('the server refuses a bad filter with a 422 naming the parameter', async () => {
    const answer = await call(server, 'GET', '/v1/audit?decision=MAYBE');
    expect(answer.status).toBe(422);
    expect(answer.body.detail[0].loc).toEqual(['query', 'decision']);
    const since = await call(server, 'GET', `/v1/audit/count/${server.tenantId}?since=yesterday`);
    expect(since.status).toBe(422);
    expect(since.body.detail[0].loc).toEqual(['query', 'since']);
  });

  it('GET /v1/audit names the tenant; /v1/audit/count/{other tenant} is a 403', async () => {
    const own = await call(server, 'GET', '/v1/audit?limit=0');
    expect(own).toMatchObject({ status: 200, body: { tenant_id: server.tenantId, events: [] } });
    const other = await call(server, 'GET', `/v1/audit/count/${server.otherTenantId}`);
    expect(other.status).toBe(403);
  });
});

describe('gateway.audit in remote mode, refused by the gateway', () => {
  let refusing: http.Server;
  let url: string;
  const apiKey = 'pk_test_refused_0123456789abcdef';

  beforeAll(async () => {
    refusing = http.createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          detail: { message: "This API key has the role 'agent'; this route needs 'reviewer'." },
        }),
      );
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => refusing.close(resolve));
  });

  it("says which role the key needs, with the server's words, and never the key", async () => {
    const gateway = new ProvenanceGateway({
      gatewayUrl: url,
      apiKey,
      agentId: 'a',
      timeout: 5_000,
    });
    try {
      for (const read of [
        () => gateway.audit.list(),
        () => gateway.audit.count(),
        () => gateway.audit.verify(),
      ]) {
        const error = await rejection(read());
        expect(error).toBeInstanceOf(GatewayError);
        expect(error).toMatchObject({ kind: 'status', status: 403 });
        expect(error.message).toContain("needs 'reviewer'");
        expect(error.message).toContain("a 'reviewer' key");
        expect(error.message).not.toContain(apiKey);
        expect(error).not.toBeInstanceOf(PolicyBlockedError);
      }
    } finally {
      await gateway.close();
    }
  });
});
