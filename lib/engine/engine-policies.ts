import { ProvenanceError } from '../protocol/provenance.errors';
import { PolicyLifecycleMessages as M } from './policy/policy-lifecycle.messages';
import { PolicyInForce, type PolicyReload, type PolicySource } from './policy/policy-in-force';
import { PolicyWatch } from './policy/policy-watch';
import { ShadowPolicy, type ShadowReport } from './policy/shadow-policy';
import type { CompiledPolicy } from './policy/policy.types';

export interface EnginePoliciesOptions {
  policy: CompiledPolicy;
  allowEmptyPolicy?: boolean;
  watchPolicy?: boolean;
  shadowPolicy?: CompiledPolicy | null;
  log?: (message: string) => void;
  /** Writes the `policy.loaded` event of a reload (durable before the new policy is in force). */
  record: (previous: CompiledPolicy, next: CompiledPolicy) => Promise<void>;
  /**
   * What the file watch calls when the file changed: the engine's own
   * reloadPolicy, so a reload it starts is refused once the engine closes
   * and waited for by close(). Default: this object's reload.
   */
  reloadFile?: (file: string) => Promise<unknown>;
}

/**
 * The engine's policies (docs/policy.md, "Hot reload" and "Shadow mode"):
 * the one in force, replaced by a reload; the optional file watch that
 * reloads it; and the optional shadow policy evaluated beside it.
 */
export class EnginePolicies {
  readonly inForce: PolicyInForce;
  /** Null when no shadow policy is set: the call path then tests one field. */
  readonly shadow: ShadowPolicy | null;
  private readonly watch: PolicyWatch | null;
  private readonly log: (message: string) => void;
  private readonly record: EnginePoliciesOptions['record'];
  private readonly reloadFile: (file: string) => Promise<unknown>;

  constructor(options: EnginePoliciesOptions) {
    this.log = options.log ?? ((message) => console.warn(message));
    this.record = options.record;
    this.reloadFile = options.reloadFile ?? ((file) => this.reload(file));
    this.inForce = new PolicyInForce(options.policy, options.allowEmptyPolicy === true);
    this.shadow =
      options.shadowPolicy === undefined || options.shadowPolicy === null
        ? null
        : new ShadowPolicy(options.shadowPolicy, this.log);
    this.watch = options.watchPolicy === true ? this.watchFile(options.policy) : null;
  }

  get current(): CompiledPolicy {
    return this.inForce.current;
  }

  /** Puts a new policy in force, or refuses it (the old one stays) with the error that says why. */
  reload(next?: PolicySource): Promise<PolicyReload> {
    return this.inForce.reload(next, this.record).then((reload) => {
      if (reload.changed) {
        const { name, version, hash } = reload.current;
        this.log(M.reloadedLog(name, version, hash, reload.previous.hash));
      }
      return reload;
    });
  }

  shadowReport(): ShadowReport | null {
    return this.shadow?.report() ?? null;
  }

  close(): void {
    this.watch?.close();
  }

  private watchFile(policy: CompiledPolicy): PolicyWatch {
    const file = policy.source;
    if (file === null) throw new ProvenanceError(M.watchNeedsFile());
    try {
      return new PolicyWatch(file, () => {
        this.reloadFile(file).catch((error: unknown) =>
          this.log(M.reloadRefused(error instanceof Error ? error.message : String(error))),
        );
      });
    } catch (error) {
      throw new ProvenanceError(
        M.watchFailed(file, error instanceof Error ? error.message : String(error)),
        { cause: error },
      );
    }
  }
}
