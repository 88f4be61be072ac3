import { createHook, executionAsyncId } from 'node:async_hooks';

/**
 * The timers, immediates and TCP handles that the code started from one async
 * context creates, directly or through any chain of callbacks and promises,
 * and that are still alive.
 *
 * Not a before/after count of `process.getActiveResourcesInfo()`: that counts
 * every handle of the process, and with jest running in band (2 cores: one
 * worker) its reporter lives in the same process, with a 1 s interval that
 * arms a 100 ms debounce timer. Whether that timer is pending at the first
 * count and at the second is chance, so the counts differed by one now and
 * then. Ownership by async ancestry leaves out jest's timers and everybody
 * else's, deterministically.
 */
export interface OwnedHandles {
  /**
   * What is still alive, one line per handle (its kind and where it was
   * created), after two turns of the event loop: a closed socket or server is
   * done only once libuv's close phase ran, which comes after the first turn's
   * immediates.
   */
  alive(): Promise<string[]>;
  /** Stops tracking. */
  stop(): void;
}

interface Tracked {
  type: string;
  resource: { _destroyed?: boolean; hasRef?: () => boolean };
  createdAt: string;
}

const KINDS = /^(Timeout|Immediate|TCP)/;

/** Starts tracking at the current async context (call it where the code under test starts). */
export function trackOwnedHandles(): OwnedHandles {
  const owned = new Set<number>([executionAsyncId()]);
  const tracked = new Map<number, Tracked>();
  const hook = createHook({
    init(asyncId, type, triggerAsyncId, resource) {
      if (!owned.has(triggerAsyncId)) return;
      owned.add(asyncId);
      if (KINDS.test(type)) {
        tracked.set(asyncId, {
          type,
          resource: resource as Tracked['resource'],
          createdAt: creationSite(),
        });
      }
    },
    destroy(asyncId) {
      tracked.delete(asyncId);
    },
  });
  hook.enable();

  const isAlive = ({ type, resource }: Tracked): boolean => {
    // A timer or immediate is done once it ran or was cleared, ref'd or not:
    // an unref'd timer left behind is a leak too.
    if (type === 'Timeout' || type === 'Immediate') return resource._destroyed !== true;
    // A handle stops keeping the process alive when it is closed (or unref'd).
    if (typeof resource.hasRef === 'function') return resource.hasRef() === true;
    return true; // a request (TCPCONNECTWRAP) until its destroy hook ran
  };

  return {
    alive: async () => {
      await nextTurn();
      await nextTurn();
      return Array.from(tracked.values())
        .filter(isAlive)
        .map(({ type, createdAt }) => `${type} created ${createdAt}`);
    },
    stop: () => {
      hook.disable();
      owned.clear();
      tracked.clear();
    },
  };
}

const nextTurn = (): Promise<void> => new Promise((done) => setImmediate(done));

/** The first frame outside this file and node's own modules (else node's own: created in a callback of node's). */
function creationSite(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stack
    .split('\n')
    .slice(1)
    .filter(
      (line) => !line.includes('owned-handles') && !line.includes('node:internal/async_hooks'),
    );
  const frame = frames.find((line) => !line.includes('(node:')) ?? frames[0];
  return frame?.trim() ?? 'at <unknown>';
}
