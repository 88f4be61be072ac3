/**
 * The gateway server of the HTTP group, in its own process so that the
 * client being measured has its own core: `createGatewayServer` (lib/server)
 * with the sample policy and an in-memory audit store. It reports its URL and
 * key over IPC and stops when the parent disconnects.
 */
import { randomUUID } from 'node:crypto';
import { generateApiKey } from '../lib/server/api-keys';
import { createGatewayServer } from '../lib/server/factory';
import { samplePolicy } from './sample.workload';

export interface ServerReady {
  url: string;
  apiKey: string;
  tenantId: string;
  server: string;
}

async function main(): Promise<void> {
  const apiKey = generateApiKey('test');
  const tenantId = randomUUID();
  const app = await createGatewayServer(
    {
      keys: [{ key: apiKey, tenantId, policy: samplePolicy().document }],
      audit: { store: 'memory' },
    },
    { logger: false },
  );
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const ready: ServerReady = {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    tenantId,
    server: 'lib/server createGatewayServer (express), memory audit store',
  };
  process.send!(ready);
  process.on('disconnect', () => {
    void app.close().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
