import { ProvenanceError } from '../protocol/provenance.errors';
import { Messages } from '../protocol/provenance.messages';
import { SessionContext } from '../session/session.context';

/** What @Guarded needs from a gateway at call time. */
export type RegisteredGateway = object;

interface RegistryState {
  live: Set<RegisteredGateway>;
  byInstance: WeakMap<object, RegisteredGateway>;
}

// Shared across copies of the package, like the session storage: a class
// decorated through one copy must find a gateway created through another.
const KEY = Symbol.for('nestjs-provenance.gateway-registry');
type Holder = { [KEY]?: RegistryState };
const holder = globalThis as Holder;
const state: RegistryState = (holder[KEY] ??= { live: new Set(), byInstance: new WeakMap() });

/**
 * Finds the gateway that decides for a guarded method at call time:
 * 1. the gateway whose Nest app created this instance (bound at start-up);
 * 2. the gateway that opened the current session (a request or runInSession);
 * 3. the only live gateway in the process.
 * Anything else throws: a guarded body never runs without a gateway.
 */
export const GatewayRegistry = {
  register(gateway: RegisteredGateway): void {
    state.live.add(gateway);
  },
  unregister(gateway: RegisteredGateway): void {
    state.live.delete(gateway);
  },
  bind(instance: object, gateway: RegisteredGateway): void {
    state.byInstance.set(instance, gateway);
  },
  isLive(gateway: RegisteredGateway): boolean {
    return state.live.has(gateway);
  },
  resolve(instance: unknown, where: string): RegisteredGateway {
    if (instance !== null && (typeof instance === 'object' || typeof instance === 'function')) {
      const bound = state.byInstance.get(instance as object);
      if (bound) {
        // Its own app has shut down: never hand the call to another app's gateway.
        if (!state.live.has(bound)) throw new ProvenanceError(Messages.gatewayClosed());
        return bound;
      }
    }
    const owner = SessionContext.current()?.owner;
    if (owner && state.live.has(owner)) return owner;
    if (state.live.size === 1) return state.live.values().next().value as RegisteredGateway;
    if (state.live.size === 0) throw new ProvenanceError(Messages.notInitialised(where));
    throw new ProvenanceError(Messages.ambiguousGateway(where, state.live.size));
  },
};
