import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  Post,
  Query,
  Req,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { APP_FILTER, NestFactory, Reflector } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ApiOperation } from '@nestjs/swagger';
import type { PolicyDocument } from '../../../lib/engine/policy/policy.types';
import { ProvenanceGateway } from '../../../lib/gateway/provenance.gateway';
import { Guarded } from '../../../lib/guarded/guarded.decorator';
import { ProvenanceExceptionFilter } from '../../../lib/guarded/provenance-exception.filter';
import { ProvenanceModule } from '../../../lib/module/provenance.module';
import type { ProvenanceModuleOptions } from '../../../lib/module/provenance-module.options';

export type AdapterName = 'express' | 'fastify';
export const ADAPTERS: AdapterName[] = ['express', 'fastify'];

/** Worked out by hand: > 1000 goes to a human, > 100 is blocked, the rest is allowed. */
export const policy: PolicyDocument = {
  name: 't',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '>', value: 1000 }],
      on_match: 'ESCALATE',
      reason: 'large payments need a human',
    },
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '>', value: 100 }],
      on_match: 'BLOCK',
      reason: 'over the limit',
    },
    { action: 'http.forbidden', on_match: 'BLOCK', reason: 'this route is closed' },
  ],
};

export const blockEverything: PolicyDocument = {
  name: 'strict',
  rules: [{ action: '*', on_match: 'BLOCK', reason: 'strict app' }],
};

/** Captures log lines instead of printing them. */
export class CapturingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  log(message: unknown): void {
    this.lines.push({ level: 'log', message: String(message) });
  }
  warn(message: unknown): void {
    this.lines.push({ level: 'warn', message: String(message) });
  }
  error(message: unknown): void {
    this.lines.push({ level: 'error', message: String(message) });
  }
  debug(): void {}
  verbose(): void {}
}

export const ROLE = 'test:role';
export const Role = (role: string) => SetMetadata(ROLE, role);

/** Reads another decorator's metadata through Reflector, as real guards do. */
@Injectable()
export class RoleGuard implements CanActivate {
  readonly seen: Array<string | undefined> = [];
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    const role = this.reflector.get<string | undefined>(ROLE, context.getHandler());
    this.seen.push(role);
    return role !== undefined;
  }
}

@Injectable()
export class PaymentsService {
  calls = 0;

  @Guarded('payments.initiate')
  async initiate(amount: number, currency: string, recipientId: string) {
    this.calls++;
    // Let other requests run in between: sessions must not bleed into each other.
    await new Promise((resolve) => setImmediate(resolve));
    return { paid: amount, currency, recipientId };
  }
}

/** Nest never sees this class: it is created with `new`. */
export class Unmanaged {
  static calls = 0;

  @Guarded('unmanaged.act')
  async act(what: string) {
    Unmanaged.calls++;
    return `did ${what}`;
  }
}

export interface PayBody {
  amount: number;
  currency: string;
  recipientId: string;
}

@Controller()
@UseGuards(RoleGuard)
export class PaymentsController {
  handlerCalls = 0;
  forbiddenCalls = 0;

  constructor(
    private readonly payments: PaymentsService,
    private readonly gateway: ProvenanceGateway,
  ) {}

  // Metadata applied both after (@Role, @Post) and before (@ApiOperation) @Guarded.
  @Post('pay')
  @Role('payer')
  @Guarded('http.pay')
  @ApiOperation({ summary: 'Pay someone' })
  async pay(@Body() body: PayBody, @Req() request: unknown) {
    this.handlerCalls++;
    void request;
    const paid = await this.payments.initiate(body.amount, body.currency, body.recipientId);
    const session = this.gateway.currentSession();
    return {
      paid,
      sessionId: session?.id ?? null,
      results: session?.results.map((r) => ({
        action: r.action,
        decision: r.decision,
        sessionId: r.sessionId,
        actorHumanId: r.actorHumanId,
        toolResult: r.toolResult,
      })),
    };
  }

  // Here the role is set before @Guarded wraps the method: it must be copied over.
  @Get('forbidden')
  @Guarded('http.forbidden')
  @Role('anyone')
  async forbidden() {
    this.forbiddenCalls++;
    return { ran: true };
  }

  @Get('unmanaged')
  @Role('anyone')
  async unmanaged(@Query('what') what: string) {
    const done = await new Unmanaged().act(what);
    const session = this.gateway.currentSession();
    return { done, sessionId: session?.id, recorded: session?.results.map((r) => r.action) };
  }
}

export interface BootOptions {
  adapter: AdapterName;
  provenance?: Partial<ProvenanceModuleOptions>;
  logger?: CapturingLogger;
  /** How the exception filter is registered: through DI (APP_FILTER), or `new` + useGlobalFilters. */
  filter?: 'di' | 'new' | 'none';
}

export async function bootApp(
  options: BootOptions,
): Promise<{ app: INestApplication; url: string }> {
  const filter = options.filter ?? 'di';
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'agent-test',
        policy,
        audit: { store: 'memory' },
        logger: options.logger ?? new CapturingLogger(),
        ...options.provenance,
      }),
    ],
    controllers: [PaymentsController],
    providers: [
      PaymentsService,
      RoleGuard,
      ...(filter === 'di' ? [{ provide: APP_FILTER, useClass: ProvenanceExceptionFilter }] : []),
    ],
  })
  class AppModule {}

  const adapter = options.adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create<INestApplication>(AppModule, adapter, {
    logger: options.logger ?? false,
    abortOnError: false,
  });
  if (filter === 'new') app.useGlobalFilters(new ProvenanceExceptionFilter());
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  return { app, url };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : null,
    headers: response.headers,
  };
}

export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : null,
    headers: response.headers,
  };
}
