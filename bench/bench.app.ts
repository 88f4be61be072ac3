import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ProvenanceGateway, ProvenanceModule, type ProvenanceModuleOptions } from '../lib';

/** Session summaries and warnings would flood the terminal at 100k calls/s; the bench drops them. */
export const SILENT_LOGGER: LoggerService = {
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface BenchApp {
  app: INestApplicationContext;
  gateway: ProvenanceGateway;
  close(): Promise<void>;
}

/** A real Nest application context importing ProvenanceModule.forRoot(options), as a user's app would. */
export async function bootProvenance(options: ProvenanceModuleOptions): Promise<BenchApp> {
  const app = await NestFactory.createApplicationContext(
    ProvenanceModule.forRoot({ logger: SILENT_LOGGER, ...options }),
    { logger: false },
  );
  const gateway = app.get(ProvenanceGateway);
  return { app, gateway, close: () => app.close() };
}
