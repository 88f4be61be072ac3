import { ProvenanceError } from '../protocol/provenance.errors';
import { isValidAction } from '../protocol/action';
import { GuardedMessages } from '../protocol/provenance.messages';
import { auditParameters, namingFor } from '../call/audit-parameters';
import { copyFunctionShape } from '../call/copy-method-metadata';
import { gatePromise, type GateDecider } from './gate';
import type { GuardOptions } from '../call/guard.options';
import { validateGuardedOptions } from '../call/guard-options.validator';
import { parseParameterNames } from '../call/parameter-names';

/** A function put behind a policy decision: same arguments, always a Promise of the body's value. */
export type GuardedFunction<F extends (...args: any[]) => any> = (
  this: ThisParameterType<F>,
  ...args: Parameters<F>
) => Promise<Awaited<ReturnType<F>>>;

/**
 * `gateway.guard('email.send')(fn)`, the Python SDK's `@gateway.guard`, for
 * code outside Nest: the same decision path, parameter naming and options as
 * `@Guarded`, with the gateway fixed (the one `guard` was called on). The
 * wrapper returns a Promise even for a sync function, which its type says.
 */
export function guardFunction(
  gateway: GateDecider,
  action: string,
  options?: GuardOptions,
): <F extends (...args: any[]) => any>(fn: F) => GuardedFunction<F> {
  if (!isValidAction(action)) {
    throw new ProvenanceError(GuardedMessages.badGuardAction(action));
  }
  const checked = validateGuardedOptions(`gateway.guard('${action}')`, options);
  if (checked.returns !== undefined) {
    throw new ProvenanceError(
      GuardedMessages.badGuardedOption(
        `gateway.guard('${action}')`,
        'returns',
        'absent (a guarded function always returns a Promise)',
        checked.returns,
      ),
    );
  }
  const raiseOnBlock = checked.raiseOnBlock ?? true;
  const gateOptions = { sessionId: checked.sessionId, decision: checked.decision };

  return <F extends (...args: any[]) => any>(fn: F): GuardedFunction<F> => {
    if (typeof fn !== 'function')
      throw new ProvenanceError(GuardedMessages.notAFunction(action, fn));
    const naming = namingFor(parseParameterNames(fn));
    const guarded = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const read = (): unknown =>
        checked.params ? checked.params.apply(this, args) : auditParameters(naming, args);
      return gatePromise({
        gateway,
        call: { action, parameters: read(), options: gateOptions },
        raiseOnBlock,
        readParameters: read,
        body: () => fn.apply(this, args),
      });
    };
    copyFunctionShape(fn, guarded);
    return guarded as GuardedFunction<F>;
  };
}
