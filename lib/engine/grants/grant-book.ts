import { newUuid } from '../../protocol/uuid';
import type { GrantInput, GrantRecord } from '../../protocol/grant.types';
import { GrantNotFoundError, ProvenanceError } from '../../protocol/provenance.errors';
import { GrantMessages } from '../engine.messages';
import { checkGrantInput, type CheckedGrantInput } from './grant-input';
import { compileGrant, grantCovers, hashedOnce, type CompiledGrant } from './grant-match';
import type { GrantedCall, GrantStore } from './grant-store';

/** How long a single-use grant waits for its retry, when nothing else is said: one hour. */
export const SINGLE_USE_GRANT_MS = 60 * 60_000;
/** How many grants a tenant may have active at once, when nothing else is said. */
export const DEFAULT_MAX_GRANTS = 10_000;

class Entry {
  constructor(
    readonly record: GrantRecord,
    readonly compiled: CompiledGrant,
    readonly expiresAt: number,
  ) {}
}

export type { GrantedCall } from './grant-store';

/**
 * The engine's grants (see protocol/grant.types.ts): kept per tenant, used at
 * most `maxUses` times each, and consulted only when the policy says
 * ESCALATE, so a grant never turns a BLOCK into an ALLOW and costs nothing
 * on the calls the policy decides alone. All on the one JS thread: a use is
 * counted exactly once.
 */
export class GrantBook implements GrantStore {
  private readonly active = new Map<string, Entry>();
  private readonly ended = new Map<string, GrantRecord>();
  private singleUse = 0;

  constructor(
    private readonly tenantId: string,
    private readonly options: { maxGrants?: number; keepEnded?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** A reviewer's standing grant. Throws for input that names no clear grant (the error names the field). */
  grant(input: GrantInput, grantedBy: string): GrantRecord {
    const checked = checkGrantInput(input, grantedBy);
    return this.add(standingGrant(this.tenantId, checked, grantedBy, this.now()));
  }

  /**
   * The approval of a call whose caller had stopped waiting: the identical
   * call, once. Not in force until `admit()`: the engine records the grant
   * and the approval first, so that no use can come before them in the log.
   */
  singleUseFor(
    call: { action: string; agentId: string; sessionId: string; parametersHash: string },
    escalationId: string,
    grantedBy: string,
    reason: string | null,
  ): GrantRecord {
    return singleUseGrant(this.tenantId, call, escalationId, grantedBy, reason, this.now());
  }

  /** Puts a single-use grant from `singleUseFor` in force. */
  admit(grant: GrantRecord): void {
    this.singleUse++;
    this.add(grant);
  }

  /**
   * Uses the first grant that covers this call (single-use grants first, then
   * standing ones, oldest first) and returns it with the use counted; null
   * when none does.
   */
  use(call: GrantedCall): GrantRecord | null {
    if (this.active.size === 0) return null;
    const now = this.now();
    const asked = hashedOnce(call);
    let found: Entry | null = null;
    for (const entry of this.active.values()) {
      if (entry.expiresAt <= now) {
        this.end(entry, 'EXPIRED');
        continue;
      }
      if (!grantCovers(entry.record, asked, entry.compiled)) continue;
      if (entry.record.kind === 'single-use') {
        found = entry;
        break;
      }
      found ??= entry;
      if (this.singleUse === 0) break;
    }
    if (found === null) return null;
    found.record.uses++;
    const used = { ...found.record };
    if (found.record.uses >= found.record.maxUses) this.end(found, 'USED_UP');
    return used;
  }

  revoke(grantId: string): GrantRecord {
    const entry = this.active.get(grantId);
    if (entry === undefined) throw new GrantNotFoundError(grantId, GrantMessages.notFound(grantId));
    this.end(entry, 'REVOKED');
    return { ...entry.record };
  }

  /** Active grants (copies), oldest first; expired ones are ended on the way. */
  list(): GrantRecord[] {
    const now = this.now();
    const out: GrantRecord[] = [];
    for (const entry of this.active.values()) {
      if (entry.expiresAt <= now) this.end(entry, 'EXPIRED');
      else out.push({ ...entry.record, conditions: [...entry.record.conditions] });
    }
    return out;
  }

  /** An active or recently ended grant (a copy). */
  get(grantId: string): GrantRecord | undefined {
    const record = this.active.get(grantId)?.record ?? this.ended.get(grantId);
    return record === undefined ? undefined : { ...record };
  }

  private add(record: GrantRecord): GrantRecord {
    const limit = this.options.maxGrants ?? DEFAULT_MAX_GRANTS;
    if (this.active.size >= limit) {
      if (record.kind === 'single-use') this.singleUse--;
      throw new ProvenanceError(GrantMessages.tooMany(limit));
    }
    const compiled = compileGrant(record);
    this.active.set(record.id, new Entry(record, compiled, Date.parse(record.expiresAt)));
    return { ...record };
  }

  private end(entry: Entry, status: GrantRecord['status']): void {
    if (!this.active.delete(entry.record.id)) return;
    if (entry.record.kind === 'single-use') this.singleUse--;
    entry.record.status = status;
    const keep = this.options.keepEnded ?? 1000;
    if (keep === 0) return;
    this.ended.set(entry.record.id, entry.record);
    if (this.ended.size > keep) this.ended.delete(this.ended.keys().next().value as string);
  }
}

/**
 * A reviewer's standing grant, from input `checkGrantInput` accepted: in
 * force from `now` for `expiresInMs`, no use counted yet.
 */
export function standingGrant(
  tenantId: string,
  checked: CheckedGrantInput,
  grantedBy: string,
  now: number = Date.now(),
): GrantRecord {
  return {
    id: newUuid(),
    kind: 'standing',
    tenantId,
    action: checked.action,
    conditions: checked.conditions,
    agentId: checked.agentId,
    sessionId: checked.sessionId,
    parametersHash: null,
    escalationId: null,
    grantedBy,
    reason: checked.reason,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + checked.expiresInMs).toISOString(),
    maxUses: checked.maxUses,
    uses: 0,
    status: 'ACTIVE',
  };
}

/**
 * The single-use grant an approval becomes when its caller stopped waiting:
 * the identical call (action, agent, parameters' hash), once, for an hour.
 */
export function singleUseGrant(
  tenantId: string,
  call: { action: string; agentId: string; parametersHash: string },
  escalationId: string,
  grantedBy: string,
  reason: string | null,
  now: number = Date.now(),
): GrantRecord {
  return {
    id: newUuid(),
    kind: 'single-use',
    tenantId,
    action: call.action,
    conditions: [],
    agentId: call.agentId,
    sessionId: null,
    parametersHash: call.parametersHash,
    escalationId,
    grantedBy,
    reason,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + SINGLE_USE_GRANT_MS).toISOString(),
    maxUses: 1,
    uses: 0,
    status: 'ACTIVE',
  };
}
