import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { AuditStoreError } from './audit.errors';
import { AuditFindingMessages } from './audit.messages';

/** The writer's lock file, next to the log. */
export function lockPathFor(file: string): string {
  return `${file}.lock`;
}

/** What a lock file holds: who writes the log. */
export interface AuditLockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
}

/** Lock files this process holds now (absolute paths): a lock naming our own pid but not here is stale. */
const heldHere = new Map<string, AuditLockOwner>();

/**
 * Takes the writer's lock of an audit file: `<file>.lock`, mode 0600, holding
 * `{ pid, hostname, startedAt }` as JSON. The lock file is written whole under
 * a temporary name and linked into place, so it exists only complete, and
 * `link` fails if any other writer has it (atomic, like O_EXCL).
 *
 * A lock whose process is gone is stale and taken over, with a warning
 * (console.warn) naming the lock and the writer that left it: its host is
 * this one and `kill(pid, 0)` says ESRCH (a SIGKILLed or crashed writer), or
 * its pid is this process's own but no store here holds it (a restarted
 * container that got the same pid). A lock held by a live process, or by another host (whose
 * processes cannot be checked from here), refuses with an AuditStoreError
 * naming the file, the lock and its holder. Readers take no lock.
 *
 * Takeover reads the stale lock, then removes it if it is still the same
 * text; two processes taking over one stale lock at the same instant could
 * both remove it between the read and the removal: a narrow window that needs
 * two writers starting together on a file whose last writer died.
 */
export async function acquireAuditLock(file: string, description: string): Promise<AuditLockOwner> {
  const lock = lockPathFor(file);
  const owner: AuditLockOwner = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
  };
  const mine = heldHere.get(lock);
  if (mine !== undefined) throw held(description, lock, mine);
  const temporary = `${lock}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temporary, `${JSON.stringify(owner)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new AuditStoreError(description, AuditFindingMessages.lockFailed(lock, describe(error)), {
      cause: error,
    });
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.link(temporary, lock);
        heldHere.set(lock, owner);
        return owner;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) {
          if (error instanceof AuditStoreError) throw error;
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
            throw new AuditStoreError(description, AuditFindingMessages.lockContended(lock));
          }
          throw new AuditStoreError(
            description,
            AuditFindingMessages.lockFailed(lock, describe(error)),
            { cause: error },
          );
        }
      }
      await takeOverIfStale(lock, description);
    }
  } finally {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
  }
}

/** Removes the lock this process took. Idempotent. */
export async function releaseAuditLock(file: string): Promise<void> {
  const lock = lockPathFor(file);
  if (!heldHere.delete(lock)) return;
  await fs.rm(lock, { force: true }).catch(() => undefined);
}

/** Removes the lock at `lock` if its holder is gone; throws naming the holder if not. */
async function takeOverIfStale(lock: string, description: string): Promise<void> {
  let text: string;
  try {
    text = await fs.readFile(lock, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // released meanwhile
    throw new AuditStoreError(description, AuditFindingMessages.lockFailed(lock, describe(error)), {
      cause: error,
    });
  }
  const owner = parseOwner(text);
  if (owner === null) {
    throw new AuditStoreError(description, AuditFindingMessages.lockUnreadable(lock));
  }
  if (!isStale(owner, lock)) throw held(description, lock, owner);
  // Still the same stale lock? Then it is ours to remove, and said so once.
  const again = await fs.readFile(lock, 'utf8').catch(() => null);
  if (again !== text) return;
  await fs.rm(lock, { force: true });
  console.warn(
    AuditFindingMessages.staleLockTakenOver(lock, owner.pid, owner.hostname, owner.startedAt),
  );
}

function isStale(owner: AuditLockOwner, lock: string): boolean {
  if (owner.hostname !== os.hostname()) return false;
  if (owner.pid === process.pid) return !heldHere.has(lock);
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists, run by another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function parseOwner(text: string): AuditLockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<AuditLockOwner>;
    if (Number.isSafeInteger(value.pid) && (value.pid as number) > 0) {
      return {
        pid: value.pid as number,
        hostname: printable(value.hostname, '(unknown host)'),
        startedAt: printable(value.startedAt, '(unknown time)'),
      };
    }
  } catch {
    // not a lock we wrote
  }
  return null;
}

function held(description: string, lock: string, owner: AuditLockOwner): AuditStoreError {
  return new AuditStoreError(
    description,
    AuditFindingMessages.lockHeld(lock, owner.pid, owner.hostname, owner.startedAt),
  );
}

/** A value read from the lock file, safe to put in a message (a hostile file cannot move the cursor). */
function printable(value: unknown, otherwise: string): string {
  if (typeof value !== 'string' || value === '') return otherwise;
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
