import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ProvenanceConfigError, ProvenanceModule } from '../../../lib';

// This file's `require('pg')` fails as it does where node-postgres is not installed.
jest.mock('pg', () => {
  const error = new Error("Cannot find module 'pg'\nRequire stack:\n- /app/main.js") as Error & {
    code: string;
  };
  error.code = 'MODULE_NOT_FOUND';
  throw error;
});

describe('ProvenanceModule with postgres but without the pg package', () => {
  it('fails at start-up with the loader message, naming postgres and `npm install pg`', async () => {
    @Module({
      imports: [
        ProvenanceModule.forRoot({
          agentId: 'agent-1',
          policy: { name: 'allow-all', rules: [{ action: '*', on_match: 'ALLOW' }] },
          postgres: { connectionString: 'postgres://app:s3cr3t@127.0.0.1:1/none' },
        }),
      ],
    })
    class AppModule {}
    let thrown: unknown;
    try {
      const app = await NestFactory.createApplicationContext(AppModule, {
        logger: false,
        abortOnError: false,
      });
      await app.close();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProvenanceConfigError);
    expect((thrown as ProvenanceConfigError).option).toBe('postgres');
    expect((thrown as Error).message).toContain('npm install pg');
    expect((thrown as Error).message).toContain("Cannot find module 'pg'");
    expect((thrown as Error).message).not.toContain('s3cr3t');
  });
});
