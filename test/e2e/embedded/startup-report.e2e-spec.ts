import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  Controller,
  Injectable,
  Module,
  Post,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  compilePolicy,
  Guarded,
  ProvenanceConfigError,
  ProvenanceModule,
  type ProvenanceModuleOptions,
} from '../../../lib';
import {
  TEST_DATABASE_URL,
  describeWithPostgres,
  usePostgres,
} from '../../fixtures/postgres.fixture';

/** A real LoggerService that keeps what it was given. */
class CapturingLogger implements LoggerService {
  readonly logs: string[] = [];
  readonly warnings: string[] = [];
  log(message: unknown): void {
    this.logs.push(String(message));
  }
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
  error(message: unknown): void {
    this.warnings.push(`error: ${String(message)}`);
  }
  debug(): void {}
}

@Injectable()
class PaymentsService {
  @Guarded('payments.initiate')
  async initiate(amount: number): Promise<number> {
    return amount;
  }

  @Guarded('reports.export')
  async exportReport(): Promise<string> {
    return 'csv';
  }

  /** No action given: `PaymentsService.forget`. */
  @Guarded()
  async forget(): Promise<void> {}
}

@Controller('pay')
class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  @Post()
  @Guarded('crm.contacts.export')
  async pay(): Promise<number> {
    return this.payments.initiate(1);
  }
}

const POLICY_YAML = [
  'name: startup',
  'version: 7',
  'rules:',
  '  - action: payments.*',
  '    on_match: ALLOW',
  '  - action: "*"',
  '    on_match: BLOCK',
  '',
].join('\n');

let dir: string;
let policyFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'startup-report-'));
  policyFile = join(dir, 'policy.yml');
  writeFileSync(policyFile, POLICY_YAML);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function boot(
  options: Partial<ProvenanceModuleOptions>,
): Promise<{ app: INestApplication; logger: CapturingLogger }> {
  const logger = new CapturingLogger();
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'agent-startup',
        policy: policyFile,
        audit: { store: 'file', path: join(dir, 'audit.jsonl') },
        logger,
        ...options,
      }),
    ],
    providers: [PaymentsService],
    controllers: [PaymentsController],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  return { app, logger };
}

describe('start-up report of ProvenanceModule', () => {
  it('logs one banner and one coverage line naming the uncovered actions and the policy', async () => {
    const { app, logger } = await boot({});
    try {
      await app.init();
      const hash = compilePolicy(policyFile).hash;
      expect(logger.logs).toEqual([
        `nestjs-provenance: embedded gateway; agent agent-startup; policy ${policyFile} ` +
          `(sha256 ${hash}, version 7); audit file ${join(dir, 'audit.jsonl')}; tenant local`,
      ]);
      expect(logger.warnings).toHaveLength(1);
      const [line] = logger.warnings;
      expect(line).toContain(
        `no rule of policy ${policyFile} names these actions of @Guarded methods`,
      );
      expect(line).toContain("reports.export (catch-all rules[1] '*')");
      expect(line).toContain("PaymentsService.forget (catch-all rules[1] '*')");
      expect(line).toContain("crm.contacts.export (catch-all rules[1] '*')");
      expect(line).not.toContain('payments.initiate');
      // The banner is not logged again by the first call.
      await app.get(PaymentsService).initiate(5);
      expect(logger.logs.filter((l) => l.startsWith('nestjs-provenance:'))).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it("says nothing about coverage when every action has a rule of its own, or with 'off'", async () => {
    const covering = [
      'name: covering',
      'rules:',
      '  - action: payments.*',
      '    on_match: ALLOW',
      '  - action: reports.export',
      '    on_match: ESCALATE',
      '  - action: "*.*"',
      '    on_match: BLOCK',
      '  - action: PaymentsService.forget',
      '    on_match: BLOCK',
      '',
    ].join('\n');
    for (const options of [{ policy: covering }, { policyCoverage: 'off' as const }]) {
      const { app, logger } = await boot(options);
      try {
        await app.init();
        expect(logger.warnings).toEqual([]);
        expect(logger.logs).toHaveLength(1);
      } finally {
        await app.close();
      }
    }
  });

  it("refuses to start with policyCoverage 'strict', listing the actions", async () => {
    const { app, logger } = await boot({ policyCoverage: 'strict' });
    let error: unknown;
    try {
      await app.init();
    } catch (caught) {
      error = caught;
    } finally {
      await app.close();
    }
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect((error as ProvenanceConfigError).option).toBe('policyCoverage');
    const message = (error as Error).message;
    expect(message).toContain("policyCoverage is 'strict'");
    expect(message).toContain(policyFile);
    for (const action of ['reports.export', 'PaymentsService.forget', 'crm.contacts.export']) {
      expect(message).toContain(action);
    }
    expect(logger.warnings).toEqual([]);
  });

  it('names an inline policy `inline`, and an uncovered action with no catch-all as default', async () => {
    const inline = 'name: inline\nrules:\n  - action: payments.initiate\n    on_match: ALLOW\n';
    const { app, logger } = await boot({ policy: inline, audit: { store: 'memory' } });
    try {
      await app.init();
      expect(logger.logs[0]).toContain('; policy inline (sha256 ');
      expect(logger.logs[0]).toContain('version none); audit memory (lost on exit); tenant local');
      expect(logger.warnings[0]).toContain('no rule of policy inline names');
      expect(logger.warnings[0]).toContain('reports.export (default)');
    } finally {
      await app.close();
    }
  });

  it('against a remote gateway: the URL without its password or the key, and no coverage check', async () => {
    const apiKey = 'pk_test_0123456789abcdefSECRET';
    const { app, logger } = await boot({
      policy: undefined,
      audit: undefined,
      gatewayUrl: 'http://ops:hunter2@127.0.0.1:9',
      apiKey,
      policyCoverage: 'strict',
    });
    try {
      await app.init();
      expect(logger.logs).toEqual([
        'nestjs-provenance: remote gateway http://ops:***@127.0.0.1:9/; agent agent-startup; ' +
          "tenant policy (from the API key); the policy and the audit trail are the gateway's",
      ]);
      expect(logger.warnings).toEqual([]);
      expect(JSON.stringify(logger.logs)).not.toContain('SECRET');
      expect(JSON.stringify(logger.logs)).not.toContain('hunter2');
    } finally {
      await app.close();
    }
  });

  it('refuses gatewayUrl with policy, audit or postgres, naming both options', async () => {
    const remote = { gatewayUrl: 'http://127.0.0.1:9', apiKey: 'pk_test_0123456789abcdef' };
    const cases: Array<[Partial<ProvenanceModuleOptions>, string]> = [
      [{ ...remote }, 'policy'],
      [{ ...remote, policy: undefined }, 'audit'],
      [
        {
          ...remote,
          policy: undefined,
          audit: undefined,
          postgres: { connectionString: TEST_DATABASE_URL },
        },
        'postgres',
      ],
    ];
    for (const [options, option] of cases) {
      let error: unknown;
      try {
        const { app } = await boot(options);
        await app.close();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ProvenanceConfigError);
      expect((error as ProvenanceConfigError).option).toBe(option);
      // postgres has had its own refusal (lib/postgres); both texts name the two options.
      expect((error as Error).message).toContain(`${option}`);
      expect((error as Error).message).toContain('gatewayUrl');
      if (option !== 'postgres') {
        expect((error as Error).message).toMatch(`gatewayUrl and ${option} cannot go together`);
      }
    }
  });

  it("shows a missing policy file's resolved path and the working directory", async () => {
    let error: unknown;
    try {
      const { app } = await boot({ policy: join('no-such-dir', 'policy.yml') });
      await app.close();
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).toContain(
      `looked for ${resolve('no-such-dir', 'policy.yml')}; the working directory is ${process.cwd()}`,
    );
  });
});

describeWithPostgres('start-up banner with PostgreSQL', () => {
  const pg = usePostgres();

  it('names the database with its password replaced', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.password = 'pw-not-shown';
    const schema = pg.newSchemaName();
    const { app, logger } = await boot({
      audit: undefined,
      postgres: { connectionString: url.toString(), schema },
    });
    try {
      await app.init();
      // A call, so the store's start has finished (and worked) before the app closes.
      await expect(app.get(PaymentsService).initiate(3)).resolves.toBe(3);
      url.password = '***';
      expect(logger.logs[0]).toContain(`; audit postgres ${url.toString()} (schema ${schema});`);
      expect(logger.logs.join('\n')).not.toContain('pw-not-shown');
    } finally {
      await app.close();
    }
  });
});
