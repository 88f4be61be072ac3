import type { Decision } from '../protocol/decision';

/** Options of `gateway.guard(action, options)`: the ones that make sense on any function. */
export interface GuardOptions {
  /**
   * Chooses the audit parameters yourself, from the call's arguments (and
   * `this`). Default: the arguments by parameter name (see docs/guarded.md).
   */
  params?: (...args: any[]) => Record<string, unknown> | null | undefined;
  /** Gate under this session id instead of the current session. */
  sessionId?: string;
  /** The hint the wire format carries (default BLOCK, as the Python SDK). No gateway evaluates it. */
  decision?: Decision;
  /**
   * Default true: a blocked call (policy BLOCK, or a human rejected it) throws
   * `PolicyBlockedError`. False: it resolves to `undefined` (an Observable
   * completes without a value). Either way the body does not run. An
   * escalation that expired, a gateway error and a misconfiguration still throw.
   */
  raiseOnBlock?: boolean;
}

/** Options of `@Guarded(action?, options?)`. */
export interface GuardedOptions extends GuardOptions {
  /**
   * What the method returns, when it cannot be told from the method itself.
   * An `async` method returns a Promise; otherwise the declared return type
   * (`: Promise<T>` or `: Observable<T>`, read from `design:returntype`)
   * decides. A method with neither must say it here.
   */
  returns?: 'promise' | 'observable';
}

/** What `@Guarded` records on the wrapper it installs (for tools and tests). */
export interface GuardedMetadata {
  readonly action: string;
  readonly where: string;
  readonly returns: 'promise' | 'observable';
  readonly options: Readonly<GuardedOptions>;
}
