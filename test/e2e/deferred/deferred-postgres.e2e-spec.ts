import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ProvenanceGateway, ProvenanceModule, ProvenanceReviewer } from '../../../lib';
import {
  describeWithPostgres,
  TEST_DATABASE_URL,
  usePostgres,
} from '../../fixtures/postgres.fixture';
import {
  DEFERRED_POLICY,
  approvedDeferredCall,
  rejectedDeferredCall,
  type DeferredSides,
} from './deferred.fixture';

/** One replica: its own Nest app, engine and pool, on the shared schema. */
async function replica(schema: string): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'agent-deferred-pg',
        policy: DEFERRED_POLICY,
        escalationTimeout: 20_000,
        postgres: { connectionString: TEST_DATABASE_URL, schema },
      }),
    ],
  })
  class ReplicaModule {}
  return NestFactory.createApplicationContext(ReplicaModule, {
    logger: false,
    abortOnError: false,
  });
}

describeWithPostgres('executeDeferred on PostgreSQL replicas sharing a schema', () => {
  const db = usePostgres();
  let one: INestApplicationContext;
  let two: INestApplicationContext;
  let sides: DeferredSides;

  beforeEach(async () => {
    const schema = db.newSchemaName();
    one = await replica(schema);
    two = await replica(schema);
    const reviewerTwo = two.get(ProvenanceReviewer);
    sides = {
      // Deferred on replica 1; approved, retried on replica 2.
      agent: one.get(ProvenanceGateway),
      reviewer: reviewerTwo,
      retry: two.get(ProvenanceGateway),
      pendingIds: async () => (await reviewerTwo.pending()).map((record) => record.id),
    };
  });

  afterEach(async () => {
    await one.close();
    await two.close();
  });

  it('deferred on replica 1, approved and allowed once on replica 2', async () => {
    const escalationId = await approvedDeferredCall(sides);
    const events = await two.get(ProvenanceGateway).audit.list();
    const used = events.find((event) => event.kind === 'grant.used');
    expect(used?.escalationId ?? null).toBe(escalationId);
    expect((await two.get(ProvenanceGateway).audit.verify()).valid).toBe(true);
  });

  it('rejected on replica 2: no grant on either replica', async () => {
    await rejectedDeferredCall(sides);
  });
});
