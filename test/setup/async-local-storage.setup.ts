/*
 * Jest loads every test file's modules afresh, so each file makes its own
 * AsyncLocalStorage instances (the session's, the decided call's, the tool
 * decision's, a framework's, and jest-circus's own test context). On Node 20
 * and 22 every enabled instance stays in one process-wide list that the async
 * hook walks on each promise made: after a hundred files, promise-heavy code
 * ran 10 to 20 times slower (a log reopened and verified in 1 s took up to
 * 20 s; 500 enabled instances make an `await` loop ~500 times slower; Node 24
 * is not affected). So the instances a file made are disabled once its tests
 * are done, and again when the next file starts: jest-circus makes its
 * instance for each file before this setup runs and uses it after the file's
 * afterAll, which enables it again (one more enabled instance per file, 172
 * after the whole suite, until this second pass). A finished file's instance
 * that something enables later (a timer left behind) is disabled at the start
 * of every later file.
 *
 * The class is swapped on the core module itself (shared by every file), and
 * always wraps the original, never a previous file's wrapper; the instances
 * are kept in registries on the core module too, so that every file sees them.
 */
import type { AsyncLocalStorage as Storage } from 'node:async_hooks';

type StorageClass = typeof Storage;
interface Registries {
  /** Made since the last file's tests ended: the current file's. */
  made: Set<Storage<unknown>>;
  /** The instances of files whose tests have ended (weakly: disabled ones can go). */
  finished: Set<WeakRef<Storage<unknown>>>;
}

const hooks = require('node:async_hooks') as { AsyncLocalStorage: StorageClass };
const ORIGINAL = Symbol.for('nestjs-provenance.test.AsyncLocalStorage');
const REGISTRIES = Symbol.for('nestjs-provenance.test.AsyncLocalStorage.registries');
const holder = hooks as unknown as Record<symbol, unknown>;
const Original = (holder[ORIGINAL] as StorageClass | undefined) ?? hooks.AsyncLocalStorage;
holder[ORIGINAL] = Original;
const registries = (holder[REGISTRIES] ??= {
  made: new Set(),
  finished: new Set(),
}) as Registries;

class TrackedStorage<T> extends Original<T> {
  constructor() {
    super();
    registries.made.add(this as Storage<unknown>);
  }
}

hooks.AsyncLocalStorage = TrackedStorage as StorageClass;

function disableFinished(): void {
  for (const ref of registries.finished) {
    const storage = ref.deref();
    if (storage === undefined) registries.finished.delete(ref);
    else storage.disable();
  }
}

// The previous file's instances, enabled again after its afterAll.
disableFinished();

afterAll(() => {
  for (const storage of registries.made) registries.finished.add(new WeakRef(storage));
  registries.made.clear();
  disableFinished();
});
