import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { AuditEventInput } from '../../lib/engine/audit/audit-event';

export const ROOT = resolve(__dirname, '..', '..');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `provenance ARGS` as a real child process (the TypeScript sources, through the swc hook). */
export function runCliProcess(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const run = spawnSync(
    process.execPath,
    ['-r', join(ROOT, 'scripts/swc-register.js'), join(ROOT, 'lib/cli/main.ts'), ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } },
  );
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** An audit input; `overrides` change any field. */
export function auditInput(i: number, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    tenantId: 'local',
    sessionId: 'sess_1',
    agentId: 'agent-1',
    action: `tool.${i}`,
    parameters: { amount: 50, i },
    decision: i % 2 === 0 ? 'ALLOW' : 'BLOCK',
    reason: `because ${i}`,
    kind: 'decision',
    ...overrides,
  };
}
