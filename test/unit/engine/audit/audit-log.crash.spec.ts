import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog } from '../../../../lib/engine/audit/audit-log';

const ROOT = path.resolve(__dirname, '../../../..');
const REGISTER = path.join(ROOT, 'scripts/swc-register.js');
const WRITER = path.join(ROOT, 'test/fixtures/crash-writer.ts');
// test/reliability/crash-rounds.e2e-spec.ts kills 20 writers (50 in test:soak); five here.
// Each round starts a node child (~1.5 s idle, several seconds on a busy machine): the
// time budget grows with the rounds, as there, instead of one fixed 60 s that a loaded
// CI machine ran out of.
const ROUNDS = 5;
const TIMEOUT_MS = 30_000 + ROUNDS * 6_000;

interface Round {
  acknowledged: Array<{ position: number; id: string }>;
  stderr: string;
}

/**
 * Runs the writer until it has printed `afterLines` acknowledged appends,
 * then SIGKILLs it (it keeps appending until the signal lands). Counted in
 * appends, not milliseconds, so the log, reopened whole after each round,
 * grows the same on a fast disk as on a slow one.
 */
function runAndKill(file: string, afterLines: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', REGISTER, WRITER, file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    let lines = 0; // complete lines so far, 'ready' among them
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      lines += chunk.split('\n').length - 1;
      if (!killed && lines >= 1 && lines - 1 >= afterLines) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer ended by itself (${String(signal)}): ${stderr}`));
        return;
      }
      const lines = stdout.split('\n').slice(0, -1); // the last piece may be cut
      const acknowledged = lines
        .filter((line) => !line.startsWith('ready'))
        .map((line) => {
          const [position, id] = line.split(' ');
          return { position: Number(position), id };
        });
      resolve({ acknowledged, stderr });
    });
  });
}

describe('AuditLog crash safety (SIGKILL during appends)', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-crash-'));
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(
    `keeps every acknowledged event across ${ROUNDS} kills, and the chain verifies`,
    async () => {
      const file = path.join(dir, 'audit.jsonl');
      const acknowledged = new Map<number, string>();
      for (let round = 0; round < ROUNDS; round++) {
        const afterLines = Math.floor(Math.random() * 3_000);
        const result = await runAndKill(file, afterLines);
        for (const { position, id } of result.acknowledged) acknowledged.set(position, id);

        const log = await AuditLog.openFile(file);
        const events = await log.list();
        for (const [position, id] of acknowledged) {
          expect(events[position]?.id).toBe(id);
        }
        const verification = await log.verify();
        expect(verification).toMatchObject({ valid: true, firstBrokenPosition: null });
        await log.close();
      }
      expect(acknowledged.size).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );
});
