import { ProvenanceError } from '../../protocol/provenance.errors';
import { PolicyMessages } from '../engine.messages';
import { PolicyLifecycleMessages } from './policy-lifecycle.messages';
import { compilePolicy } from './policy.compiler';
import { PolicyValidationError } from './policy.errors';
import type { CompiledPolicy, PolicyDocument } from './policy.types';

/** A policy as an option gives it: a file path (YAML or JSON), a document, or a compiled policy. */
export type PolicySource = string | PolicyDocument | CompiledPolicy;

/** What a reload did: the policy before and after (equal hashes: nothing changed, nothing recorded). */
export interface PolicyReload {
  previous: PolicyIdentityOf;
  current: PolicyIdentityOf;
  /** False when the new policy is the one already in force (same hash): nothing was recorded. */
  changed: boolean;
}

/** How a policy is named in a reload, the audit trail and the banner. */
export interface PolicyIdentityOf {
  name: string;
  hash: string;
  version: string | null;
  source: string | null;
}

/** Compiles a policy unless it already is one. Throws PolicyValidationError for an invalid one. */
export function compiledPolicyOf(policy: PolicySource): CompiledPolicy {
  return isCompiled(policy) ? policy : compilePolicy(policy);
}

/**
 * A gate built on a policy with no rules lets everything through: refuse to
 * start (or reload) rather than fail open by configuration, unless the caller said so.
 */
export function assertPolicyDecides(policy: CompiledPolicy, allowEmpty: boolean): void {
  if (policy.document.rules.length > 0 || allowEmpty) return;
  throw new PolicyValidationError({
    file: policy.source,
    ruleIndex: null,
    field: 'rules',
    problem: PolicyMessages.emptyRulesRefused(),
  });
}

export function identityOf(policy: CompiledPolicy): PolicyIdentityOf {
  return {
    name: policy.document.name,
    hash: policy.hash,
    version: policy.version,
    source: policy.source,
  };
}

/**
 * The engine's policy: the one in force now, replaced whole by a reload.
 * Evaluation reads `current` once per call, so a call is decided (and
 * recorded) by one policy even when a reload lands in the middle of it.
 * Reloads run one after another; a reload is in force only once its
 * `policy.loaded` event is durable, and a policy that fails validation (or
 * whose event cannot be recorded) is refused with the old one still in force.
 */
export class PolicyInForce {
  private policy: CompiledPolicy;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    initial: CompiledPolicy,
    private readonly allowEmpty: boolean,
  ) {
    this.policy = initial;
  }

  get current(): CompiledPolicy {
    return this.policy;
  }

  /**
   * Puts `next` in force (without it: the file the current policy came from,
   * read again). `record` writes the `policy.loaded` event first. Throws
   * PolicyValidationError for an invalid policy, ProvenanceError when there
   * is no file to re-read.
   */
  reload(
    next: PolicySource | undefined,
    record: (previous: CompiledPolicy, next: CompiledPolicy) => Promise<void>,
  ): Promise<PolicyReload> {
    const run = this.queue.then(async () => {
      const previous = this.policy;
      const candidate = this.prepare(next);
      const changed = candidate.hash !== previous.hash;
      if (changed) await record(previous, candidate);
      this.policy = candidate;
      return { previous: identityOf(previous), current: identityOf(candidate), changed };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private prepare(next: PolicySource | undefined): CompiledPolicy {
    let candidate: CompiledPolicy;
    if (next === undefined) {
      const file = this.policy.source;
      if (file === null) throw new ProvenanceError(PolicyLifecycleMessages.noFileToReload());
      candidate = compilePolicy(file);
    } else {
      candidate = compiledPolicyOf(next);
    }
    assertPolicyDecides(candidate, this.allowEmpty);
    return candidate;
  }
}

/** Whether `policy` is already compiled (has evaluate and explain), whatever made it. */
export function isCompiled(policy: unknown): policy is CompiledPolicy {
  return (
    typeof policy === 'object' &&
    policy !== null &&
    typeof (policy as CompiledPolicy).evaluate === 'function' &&
    typeof (policy as CompiledPolicy).explain === 'function'
  );
}
