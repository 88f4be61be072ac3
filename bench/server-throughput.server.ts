/**
 * The servers of the `server` group, in their own process (the load comes
 * from autocannon in the group's process): the gateway server
 * (`createGatewayServer`, sample policy, in-memory audit store) and, on the
 * same adapter, a bare Nest app whose one route answers a fixed JSON text
 * (the parent sends the gateway's own answer, so both answers are the same
 * size). `argv[2]`: express or fastify. Reports over IPC (ready, and its CPU
 * time when asked); stops when the parent disconnects.
 */
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Controller, Module, Post, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { generateApiKey } from '../lib/server/api-keys';
import { createGatewayServer } from '../lib/server/factory';
import { samplePolicy } from './sample.workload';

export interface ThroughputServersReady {
  gatewayUrl: string;
  bareUrl: string;
  apiKey: string;
}

type Platform = 'express' | 'fastify';

let answer = '{}';

interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  header(name: string, value: string): FastifyLikeReply;
  send(text: string): void;
}

interface ExpressLikeResponse {
  status(status: number): void;
  setHeader(name: string, value: string): void;
  end(text: string): void;
}

@Controller()
class BareController {
  /** Answers the fixed text; the adapter's own body parsing has read the request. */
  @Post('bare')
  answer(@Res() reply: FastifyLikeReply | ExpressLikeResponse): void {
    if ('code' in reply) {
      reply.code(200).header('content-type', 'application/json').send(answer);
    } else {
      reply.status(200);
      reply.setHeader('content-type', 'application/json');
      reply.end(answer);
    }
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function bareApp(platform: Platform): Promise<INestApplication> {
  if (platform === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    return NestFactory.create(BareModule, new FastifyAdapter(), { logger: false });
  }
  return NestFactory.create(BareModule, { logger: false });
}

function urlOf(app: INestApplication): string {
  const { port } = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

async function main(): Promise<void> {
  const platform = (process.argv[2] ?? 'express') as Platform;
  const apiKey = generateApiKey('test');
  const gateway = await createGatewayServer(
    {
      keys: [{ key: apiKey, tenantId: randomUUID(), policy: samplePolicy().document }],
      audit: { store: 'memory' },
    },
    { platform, logger: false },
  );
  await gateway.listen(0, '127.0.0.1');
  const bare = await bareApp(platform);
  await bare.listen(0, '127.0.0.1');
  process.on('message', (message: { answer?: string; cpu?: boolean }) => {
    if (typeof message.answer === 'string') {
      answer = message.answer;
      process.send!({ answerSet: true });
    }
    // The process's CPU time so far (user + system, µs): the parent takes the difference over a round.
    if (message.cpu === true) {
      const { user, system } = process.cpuUsage();
      process.send!({ cpuMicros: user + system });
    }
  });
  const ready: ThroughputServersReady = {
    gatewayUrl: urlOf(gateway),
    bareUrl: urlOf(bare),
    apiKey,
  };
  process.send!(ready);
  process.on('disconnect', () => {
    void Promise.all([gateway.close(), bare.close()]).then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
