import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import { AdapterMessages } from './adapter.messages';

/**
 * How a call the policy escalates waits for its human, in the adapters that
 * have a human-in-the-loop flow of their own (AI SDK, OpenAI Agents):
 * `'held'` inside the tool, or `'deferred'` to the framework's approval.
 */
export type ToolApprovals = 'held' | 'deferred';

/** The `approvals` option, checked: 'held' unless it says 'deferred'; anything else is refused by name. */
export function approvalsOf(value: unknown): ToolApprovals {
  if (value === undefined || value === 'held') return 'held';
  if (value === 'deferred') return 'deferred';
  throw new ProvenanceConfigError('approvals', AdapterMessages.badApprovals(value));
}
