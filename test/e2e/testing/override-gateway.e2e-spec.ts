import 'reflect-metadata';
import { Controller, Get, Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { ProvenanceGateway } from '../../../lib/gateway/provenance.gateway';
import { ProvenanceReviewer } from '../../../lib/escalation/provenance.reviewer';
import { Guarded } from '../../../lib/guarded/guarded.decorator';
import { ProvenanceModule } from '../../../lib/module/provenance.module';
import { Decision } from '../../../lib/protocol/decision';
import { ExecutionResult } from '../../../lib/protocol/execution-result';
import { ProvenanceError } from '../../../lib/protocol/provenance.errors';

/** An app service that gates through the injected gateway, as application code does. */
@Injectable()
class RefundService {
  constructor(private readonly gateway: ProvenanceGateway) {}

  async refund(amount: number): Promise<string> {
    const result = await this.gateway.execute('payments.refund', { amount });
    return `refunded ${amount} (${result.reason})`;
  }
}

/** A @Guarded tool: its body must never run on a double's say-so. */
@Injectable()
class WipeService {
  wiped = 0;

  @Guarded('data.wipe')
  async wipe(): Promise<void> {
    this.wiped++;
  }
}

@Controller('refunds')
class RefundController {
  constructor(private readonly refunds: RefundService) {}

  @Get()
  refund(): Promise<string> {
    return this.refunds.refund(5);
  }
}

/** A hand-written double: only what RefundService calls, nothing of the real gateway's insides. */
function gatewayDouble() {
  const calls: Array<{ action: string; parameters: unknown }> = [];
  return {
    calls,
    execute: async (action: string, parameters: unknown) => {
      calls.push({ action, parameters });
      return new ExecutionResult({
        decision: Decision.ALLOW,
        action,
        reason: 'the double said so',
        eventId: null,
        sessionId: 'sess_0123456789abcdef',
      });
    },
  };
}

const policy = { name: 'unused', rules: [{ action: '*', on_match: 'BLOCK' as const }] };

describe('Test.createTestingModule().overrideProvider(ProvenanceGateway)', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function build(): Promise<{
    app: INestApplication;
    double: ReturnType<typeof gatewayDouble>;
  }> {
    const double = gatewayDouble();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ProvenanceModule.forRoot({ agentId: 'agent-o', policy, audit: { store: 'memory' } }),
      ],
      controllers: [RefundController],
      providers: [RefundService, WipeService],
    })
      .overrideProvider(ProvenanceGateway)
      .useValue(double)
      .compile();
    const created = moduleRef.createNestApplication({ logger: false });
    await created.init();
    return { app: created, double };
  }

  it('compiles and starts: the reviewer does not read the double in its constructor', async () => {
    const built = await build();
    app = built.app;
    expect(app.get(ProvenanceGateway)).toBe(built.double);
    expect(app.get(ProvenanceReviewer)).toBeInstanceOf(ProvenanceReviewer);
  });

  it('the app service calls the double, over HTTP too, and the app closes', async () => {
    const built = await build();
    app = built.app;
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/refunds`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('refunded 5 (the double said so)');
    expect(built.double.calls).toEqual([{ action: 'payments.refund', parameters: { amount: 5 } }]);
    await app.close();
    app = undefined;
  });

  it('a reviewer over a double without a transport says so when used, naming what to do', async () => {
    const built = await build();
    app = built.app;
    const reviewer = app.get(ProvenanceReviewer);
    const error = await reviewer.pending().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvenanceError);
    expect((error as Error).message).toMatch(/ProvenanceGateway.*(double|transport)/);
  });

  it('a @Guarded method bound to the double refuses to run (fail closed)', async () => {
    const built = await build();
    app = built.app;
    const wipes = app.get(WipeService);
    await expect(wipes.wipe()).rejects.toBeInstanceOf(ProvenanceError);
    expect(wipes.wiped).toBe(0);
    expect(built.double.calls).toEqual([]);
  });
});
