import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { DEMO_REVIEWER_TOKENS } from '../review/reviewer-tokens';
import { provenanceOptions } from '../sample.options';

/**
 * One replica of the sample app for `npm run demo -- --postgres`: the sample
 * wiring, with every piece of state (audit chain, escalations, grants,
 * idempotency keys) in PostgreSQL instead of a file. Replicas given the same
 * database and schema share one tenant's state.
 */
export async function createReplicaApp(
  connectionString: string,
  schema: string,
): Promise<INestApplication> {
  // The sample's options without its audit file: with postgres the trail is in the database.
  const { audit: _file, ...options } = provenanceOptions({ escalationTimeout: 30_000 });
  void _file;
  const app = await NestFactory.create(
    AppModule.register(
      { ...options, postgres: { connectionString, schema } },
      DEMO_REVIEWER_TOKENS,
    ),
    { logger: false, forceCloseConnections: true },
  );
  await app.listen(0, '127.0.0.1');
  return app;
}

export function urlOf(app: INestApplication): string {
  const { port } = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

/**
 * Run as its own process (`node -r ./scripts/swc-register.js sample/demo/demo-replica.ts`):
 * boots a replica on DEMO_DATABASE_URL / DEMO_SCHEMA, prints `READY <url>`,
 * and closes cleanly (its holds end, its replica row goes) on SIGTERM or
 * when its stdin closes.
 */
async function runAsProcess(): Promise<void> {
  const url = process.env.DEMO_DATABASE_URL;
  const schema = process.env.DEMO_SCHEMA;
  if (!url || !schema)
    throw new Error('demo-replica: DEMO_DATABASE_URL and DEMO_SCHEMA are required');
  const app = await createReplicaApp(url, schema);
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`demo-replica: close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', close);
  process.stdin.on('end', close);
  process.stdin.resume();
  process.stdout.write(`READY ${urlOf(app)}\n`);
}

if (require.main === module) {
  runAsProcess().catch((error: unknown) => {
    process.stderr.write(
      `demo-replica: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
