import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  PROVENANCE_MODULE_OPTIONS,
  ProvenanceClient,
  ProvenanceModule,
  ProvenanceReviewer,
  type PolicyDocument,
  type ProvenanceClientOptions,
  type ProvenanceModuleOptions,
} from '../../../lib';
import { clientOptionsOf } from '../../../lib/module/provenance-module.options';

const policy: PolicyDocument = { name: 'm', rules: [{ action: '*', on_match: 'ALLOW' }] };

async function boot(imports: unknown[]): Promise<INestApplicationContext> {
  @Module({ imports: imports as never[] })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

describe('ProvenanceModule options', () => {
  let app: INestApplicationContext | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  it('forRoot takes the module-only keys beside the client options and keeps them from the client', async () => {
    app = await boot([
      ProvenanceModule.forRoot({
        agentId: 'module-agent',
        policy,
        audit: { store: 'memory' },
        isGlobal: true,
        sessionHeader: 'X-Session',
        reviewer: { pollInterval: 500 },
      }),
    ]);
    expect(app.get(ProvenanceReviewer).pollInterval).toBe(500);
    const client = app.get(ProvenanceClient);
    expect(client.agentId).toBe('module-agent');
    expect(client.options).not.toHaveProperty('sessionHeader');
    expect(app.get(PROVENANCE_MODULE_OPTIONS)).toMatchObject({ sessionHeader: 'X-Session' });
  });

  it('forRootAsync: a factory may return the module-only keys, isGlobal included', async () => {
    app = await boot([
      ProvenanceModule.forRootAsync({
        useFactory: () =>
          ({
            agentId: 'async-agent',
            policy,
            audit: { store: 'memory' },
            sessionHeader: false,
            reviewer: { pollInterval: 250 },
            isGlobal: true,
          }) as ProvenanceModuleOptions,
      }),
    ]);
    expect(app.get(ProvenanceReviewer).pollInterval).toBe(250);
    expect(app.get(ProvenanceClient).agentId).toBe('async-agent');
  });

  it('still takes a ProvenanceClientOptions object that carries the deprecated reviewer', async () => {
    const shared: ProvenanceClientOptions = {
      agentId: 'shared-agent',
      policy,
      audit: { store: 'memory' },
      reviewer: { pollInterval: 750 },
    };
    const asModule: ProvenanceModuleOptions = shared;
    app = await boot([ProvenanceModule.forRoot(asModule)]);
    expect(app.get(ProvenanceReviewer).pollInterval).toBe(750);
  });

  it('clientOptionsOf keeps everything but the module-only keys, and reads getters', () => {
    class Config {
      policy = policy;
      sessionHeader = 'X-S';
      get agentId(): string {
        return 'from-getter';
      }
    }
    const client = clientOptionsOf({
      ...{ isGlobal: true, reviewer: { pollInterval: 1 }, timeout: 5 },
    } as ProvenanceModuleOptions);
    expect(client).toEqual({ timeout: 5 });
    expect(clientOptionsOf(new Config())).toEqual({ policy, agentId: 'from-getter' });
    // Not an object: passed on for the client to refuse, naming `options`.
    expect(clientOptionsOf(undefined)).toEqual({});
  });
});
