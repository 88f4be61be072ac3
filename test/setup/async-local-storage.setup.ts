/*
 * Jest loads every test file's modules afresh, so each file makes its own
 * AsyncLocalStorage instances (the session's, the decided call's, the tool
 * decision's, a framework's). On Node 20 and 22 every enabled instance stays in one
 * process-wide list that the async hook walks on each promise made: after a
 * hundred files, promise-heavy code ran 10 to 20 times slower (a log reopened
 * and verified in 1 s took up to 20 s; 500 enabled instances make an
 * `await` loop ~500 times slower; Node 24 is not affected). Each file's instances are disabled once
 * its tests are done, so the list stays as short as one file's.
 *
 * The class is swapped on the core module itself (shared by every file), and
 * always wraps the original, never a previous file's wrapper.
 */
import type { AsyncLocalStorage as Storage } from 'node:async_hooks';

type StorageClass = typeof Storage;
const hooks = require('node:async_hooks') as { AsyncLocalStorage: StorageClass };
const ORIGINAL = Symbol.for('nestjs-provenance.test.AsyncLocalStorage');
const holder = hooks as unknown as Record<symbol, StorageClass | undefined>;
const Original: StorageClass = holder[ORIGINAL] ?? hooks.AsyncLocalStorage;
holder[ORIGINAL] = Original;

const made = new Set<Storage<unknown>>();

class ThisFilesStorage<T> extends Original<T> {
  constructor() {
    super();
    made.add(this as Storage<unknown>);
  }
}

hooks.AsyncLocalStorage = ThisFilesStorage as StorageClass;

afterAll(() => {
  for (const storage of made) storage.disable();
  made.clear();
});
