import type { CompiledPolicy, PolicyDocument } from '../engine/policy/policy.types';
import type { ProvenanceModuleOptions } from '../module/provenance-module.options';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { testingPolicyOf, type TestDecide } from './testing-policy';
import { TestingMessages } from './testing.messages';

/** A remote gateway, or state kept elsewhere than in memory, is not what an app's unit tests want. */
type RemoteOrStoredOptions = 'gatewayUrl' | 'apiKey' | 'postgres' | 'audit';

/**
 * `ProvenanceTestingModule.forRoot()` options: ProvenanceModule's (agentId,
 * sessionHeader, escalationTimeout, logger, ...) without those of a remote
 * gateway or of stored state, and the test's own. Nothing is read from
 * PROVENANCE_* environment variables.
 */
export interface ProvenanceTestingOptions extends Omit<
  ProvenanceModuleOptions,
  RemoteOrStoredOptions | 'policy'
> {
  /** The policy under test: a file path, a document or a compiled policy. Optional with `decide`. */
  policy?: string | PolicyDocument | CompiledPolicy;
  /** Asked before the policy for every call; `undefined` lets the policy decide (see TestDecide). */
  decide?: TestDecide;
  /** Approve every escalation as it is raised (as `approverId`). Default false. */
  autoApprove?: boolean;
  /** Who ProvenanceTestReviewer decides as. Default `test-approver`. */
  approverId?: string;
  /** Register the module's providers globally, as an app's `ProvenanceModule.forRoot({ isGlobal: true })`. Default true. */
  isGlobal?: boolean;
}

export const TESTING_DEFAULTS = {
  agentId: 'test-agent',
  approverId: 'test-approver',
  /** Short: a call no test decides fails in 2 s (EscalationTimeoutError), well before a test timeout. */
  escalationTimeout: 2_000,
} as const;

const REMOTE_OR_STORED: readonly RemoteOrStoredOptions[] = [
  'gatewayUrl',
  'apiKey',
  'postgres',
  'audit',
];

/** What the testing module hands to ProvenanceModule, and what its test reviewer needs. */
export interface ResolvedTestingOptions {
  module: ProvenanceModuleOptions;
  approverId: string;
  autoApprove: boolean;
  isGlobal: boolean;
}

export function resolveTestingOptions(options: ProvenanceTestingOptions): ResolvedTestingOptions {
  const given = (options ?? {}) as ProvenanceTestingOptions & Record<string, unknown>;
  for (const key of REMOTE_OR_STORED) {
    if (given[key] !== undefined)
      throw new ProvenanceConfigError(key, TestingMessages.remoteOption(key));
  }
  const { policy, decide, autoApprove, approverId, isGlobal, ...rest } = given;
  if (autoApprove !== undefined && typeof autoApprove !== 'boolean') {
    throw new ProvenanceConfigError(
      'autoApprove',
      TestingMessages.badOption('autoApprove', 'true or false', autoApprove),
    );
  }
  if (approverId !== undefined && (typeof approverId !== 'string' || approverId.trim() === '')) {
    throw new ProvenanceConfigError(
      'approverId',
      TestingMessages.badOption('approverId', 'a non-empty string', approverId),
    );
  }
  return {
    module: {
      agentId: TESTING_DEFAULTS.agentId,
      escalationTimeout: TESTING_DEFAULTS.escalationTimeout,
      // A key given as undefined keeps its default (it would otherwise replace it).
      ...Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)),
      policy: testingPolicyOf(policy, decide),
      audit: { store: 'memory' },
    },
    approverId: approverId ?? TESTING_DEFAULTS.approverId,
    autoApprove: autoApprove ?? false,
    isGlobal: isGlobal ?? true,
  };
}
