import { AsyncLocalStorage } from 'node:async_hooks';
import type { ProvenanceSession } from './provenance.session';

/** What is current while a request, a job or a runInSession() callback runs. */
export interface SessionStore {
  readonly session: ProvenanceSession;
  /** The gateway that opened the session; @Guarded uses it to find its gateway when several apps share a process. */
  readonly owner: object | null;
}

// One storage per process, even when two copies of the package are loaded
// (a monorepo, or a CJS and an ESM path to it): a session opened by one copy
// must be visible to the other.
const KEY = Symbol.for('nestjs-provenance.session-storage');
type Holder = { [KEY]?: AsyncLocalStorage<SessionStore> };
const holder = globalThis as Holder;
const storage: AsyncLocalStorage<SessionStore> = (holder[KEY] ??=
  new AsyncLocalStorage<SessionStore>());

export const SessionContext = {
  current(): SessionStore | undefined {
    return storage.getStore();
  },
  run<R>(store: SessionStore, fn: () => R): R {
    return storage.run(store, fn);
  },
};
