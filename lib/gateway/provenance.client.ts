import { inspect } from 'node:util';
import { compiledPolicyOf } from '../engine/engine.factory';
import type { CompiledPolicy } from '../engine/policy/policy.types';
import type { GatewayTransport } from '../transport/gateway-transport';
import type {
  ProvenanceClientDeps,
  ProvenanceClientOptions,
  ResolvedClientOptions,
} from './provenance-client.options';
import { resolveClientOptions } from './provenance-client.options-resolver';
import { createTransport } from './transport.factory';

/**
 * Configuration plus a connection to a gateway, as the Python SDK's
 * `ProvenanceClient`: a remote gateway when `gatewayUrl` is set, else the
 * embedded one. Options are validated here, so a bad one fails at start-up.
 */
export class ProvenanceClient {
  readonly options: ResolvedClientOptions;
  readonly transport: GatewayTransport;
  /**
   * The embedded gateway's policy, compiled once here (a bad one fails now);
   * null for a remote gateway, whose policy is not known here, and for a
   * transport given in `deps`.
   */
  readonly policy: CompiledPolicy | null;
  private closing: Promise<void> | null = null;

  constructor(options: ProvenanceClientOptions = {}, deps: ProvenanceClientDeps = {}) {
    this.options = resolveClientOptions(options, deps);
    const { mode, policy } = this.options;
    this.policy =
      deps.transport === undefined && mode === 'embedded' && policy !== null
        ? compiledPolicyOf(policy)
        : null;
    this.transport = deps.transport ?? createTransport(this.options, deps, this.policy);
  }

  get agentId(): string {
    return this.options.agentId;
  }

  /** Releases sockets, timers and files. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.transport.close();
    return this.closing;
  }

  /** The Python SDK's name for close(). */
  aclose(): Promise<void> {
    return this.close();
  }

  [inspect.custom](): string {
    return `ProvenanceClient ${JSON.stringify(this.toJSON())}`;
  }

  toJSON(): Record<string, unknown> {
    // Never serialise the key, even by accident (a logger dumping the client).
    return {
      mode: this.options.mode,
      gatewayUrl: this.options.gatewayUrl,
      agentId: this.options.agentId,
    };
  }
}
