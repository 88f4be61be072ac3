import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { DEMO_REVIEWER_TOKENS } from './review/reviewer-tokens';
import { provenanceOptions, type SampleAppOptions } from './sample.options';

/**
 * Builds the sample app, not yet listening: `main.ts`, the demo and the e2e
 * tests all start it this way, so they exercise the same wiring.
 */
export async function createSampleApp(options: SampleAppOptions = {}): Promise<INestApplication> {
  const reviewers = options.reviewers ?? DEMO_REVIEWER_TOKENS;
  return NestFactory.create(AppModule.register(provenanceOptions(options), reviewers), {
    logger: options.logger,
    // An agent call held for a reviewer, or an open SSE stream, must not keep
    // app.close() waiting: shutdown ends held calls (blocked) and drops sockets.
    forceCloseConnections: true,
  });
}
