import 'reflect-metadata';
/*
 * The policy lifecycle through ProvenanceModule.forRoot() in a real Nest
 * application: watchPolicy and shadowPolicy are module options, and the
 * injected gateway reloads and reports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  PolicyBlockedError,
  ProvenanceGateway,
  ProvenanceModule,
  type ProvenanceModuleOptions,
} from '../../../lib';

const V1 = 'name: app\nversion: 1\nrules:\n  - action: email.*\n    on_match: ALLOW\n';
const V2 = 'name: app\nversion: 2\nrules:\n  - action: email.*\n    on_match: BLOCK\n';

async function boot(options: Partial<ProvenanceModuleOptions>): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({ agentId: 'agent-e2e', audit: { store: 'memory' }, ...options }),
    ],
  })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('ProvenanceModule: policy lifecycle options', () => {
  let dir: string;
  let app: INestApplicationContext | null = null;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-module-'));
    writeFileSync(join(dir, 'policy.yml'), V1);
  });
  afterEach(async () => {
    await app?.close();
    app = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('watchPolicy: a saved policy file is in force for the injected gateway', async () => {
    const file = join(dir, 'policy.yml');
    app = await boot({ policy: file, watchPolicy: true });
    const gateway = app.get(ProvenanceGateway);
    expect((await gateway.execute('email.send', {})).decision).toBe('ALLOW');
    writeFileSync(file, V2);
    await eventually(async () =>
      (await gateway.audit.list()).some((event) => event.kind === 'policy.loaded'),
    );
    await expect(gateway.execute('email.send', {})).rejects.toBeInstanceOf(PolicyBlockedError);
  });

  it('shadowPolicy: counted beside the enforced policy, never enforced', async () => {
    const shadow = join(dir, 'next.yml');
    writeFileSync(shadow, V2);
    app = await boot({ policy: join(dir, 'policy.yml'), shadowPolicy: shadow });
    const gateway = app.get(ProvenanceGateway);
    expect((await gateway.execute('email.send', { to: 'a@example.com' })).decision).toBe('ALLOW');
    expect(gateway.shadowReport()).toMatchObject({
      shadow: { version: '2', source: shadow },
      calls: 1,
      counts: { 'ALLOW→BLOCK': 1 },
    });
  });
});
