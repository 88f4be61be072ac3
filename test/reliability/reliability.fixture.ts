import 'reflect-metadata';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Injectable,
  Module,
  type INestApplicationContext,
  type LoggerService,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ProvenanceGateway } from '../../lib/gateway/provenance.gateway';
import { Guarded } from '../../lib/guarded/guarded.decorator';
import { ProvenanceModule } from '../../lib/module/provenance.module';
import type { ProvenanceModuleOptions } from '../../lib/module/provenance-module.options';

/** Keeps every line a LoggerService is given, at every level, so a test can search them. */
export class RecordingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  log(message: unknown, ...rest: unknown[]): void {
    this.push('log', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.push('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.push('error', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.push('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.push('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.push('fatal', message, rest);
  }
  warnings(): string[] {
    return this.lines.filter((line) => line.level === 'warn').map((line) => line.message);
  }
  /** Everything logged, extra arguments (stack, context) included: for secret searches. */
  text(): string {
    return this.lines.map((line) => `${line.level} ${line.message}`).join('\n');
  }
  private push(level: string, message: unknown, rest: unknown[]): void {
    const extra = rest.map((part) => (typeof part === 'string' ? part : String(part)));
    this.lines.push({ level, message: [String(message), ...extra].join(' ') });
  }
}

/** A tool whose body counts its runs: the count says whether a guard let a call through. */
@Injectable()
export class ToolService {
  runs = 0;

  @Guarded('tool.run')
  async run(input: unknown): Promise<string> {
    this.runs++;
    return `ran ${typeof input}`;
  }
}

export interface ToolApp {
  app: INestApplicationContext;
  gateway: ProvenanceGateway;
  tool: ToolService;
  logger: RecordingLogger;
}

/**
 * A real Nest application context with ProvenanceModule.forRoot(options) and
 * the guarded ToolService. Start-up errors reject (abortOnError: false).
 */
export async function bootToolApp(options: ProvenanceModuleOptions): Promise<ToolApp> {
  const logger = (options.logger as RecordingLogger | undefined) ?? new RecordingLogger();
  @Module({
    imports: [ProvenanceModule.forRoot({ ...options, logger })],
    providers: [ToolService],
  })
  class ToolAppModule {}
  const app = await NestFactory.createApplicationContext(ToolAppModule, {
    logger: false,
    abortOnError: false,
  });
  return { app, gateway: app.get(ProvenanceGateway), tool: app.get(ToolService), logger };
}

/** A loopback port that was just free and is closed now: connecting to it is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return `http://127.0.0.1:${port}`;
}

/** The rejection of a promise that must reject; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, but the call resolved');
}
