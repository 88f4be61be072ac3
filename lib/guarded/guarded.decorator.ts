import { Observable } from 'rxjs';
import { ProvenanceError } from '../protocol/provenance.errors';
import { isValidAction } from '../protocol/action';
import { GuardedMessages, Messages } from '../protocol/provenance.messages';
import { GatewayRegistry } from '../gateway/gateway.registry';
import { auditParameters, namingFor, type ArgumentNaming } from '../call/audit-parameters';
import { copyFunctionShape, copyMethodMetadata } from '../call/copy-method-metadata';
import {
  gateObservable,
  gatePromise,
  type GateDecider,
  type GatedInvocation,
} from '../gateway/gate';
import {
  GUARDED_METADATA,
  GUARDED_METHODS,
  NEST_ROUTE_ARGS_METADATA,
  NEST_UNAUDITABLE_ROUTE_ARGS,
} from './guarded.constants';
import type { GuardedMetadata, GuardedOptions } from '../call/guard.options';
import { validateGuardedOptions } from '../call/guard-options.validator';
import { parseParameterNames } from '../call/parameter-names';

/** What @Guarded accepts: a method that returns a Promise or an Observable. A sync method is a type error. */
export type GuardableMethod = (...args: any[]) => Promise<any> | Observable<any>;

export type GuardedDecorator = <T extends GuardableMethod>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<T>,
) => TypedPropertyDescriptor<T>;

/**
 * Puts a method behind a policy decision: its body runs only after the
 * gateway said ALLOW, and its return value becomes the result's `toolResult`.
 *
 * ```ts
 * @Guarded('payments.initiate')
 * async initiate(amount: number, currency: string, recipientId: string) { ... }
 * ```
 *
 * The method is wrapped here, when the class is defined (Nest's router
 * captures handlers before any `onModuleInit` could swap them), keeping the
 * original's metadata, `name` and `length`. The gateway is found at call time:
 * the one of the Nest app that created the instance, else the one of the
 * current request or `runInSession()`, else the only one in the process;
 * with none, the call throws a `ProvenanceError` and the body never runs.
 *
 * Without an action, the action is `ClassName.methodName`. The audit
 * parameters are the arguments by parameter name (docs/guarded.md).
 */
export function Guarded(action?: string, options?: GuardedOptions): GuardedDecorator;
export function Guarded(options: GuardedOptions): GuardedDecorator;
export function Guarded(
  actionOrOptions?: string | GuardedOptions,
  maybeOptions?: GuardedOptions,
): GuardedDecorator {
  let explicitAction: string | undefined;
  let rawOptions: unknown;
  if (actionOrOptions === undefined || typeof actionOrOptions === 'string') {
    explicitAction = actionOrOptions;
    rawOptions = maybeOptions;
  } else if (typeof actionOrOptions === 'object' && maybeOptions === undefined) {
    rawOptions = actionOrOptions;
  } else {
    throw new ProvenanceError(Messages.badAction(actionOrOptions));
  }

  return <T extends GuardableMethod>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): TypedPropertyDescriptor<T> => {
    const where = describeMember(target, propertyKey);
    const original = descriptor?.value as unknown;
    if (typeof original !== 'function')
      throw new ProvenanceError(GuardedMessages.notAMethod(where));
    if (Reflect.hasMetadata(GUARDED_METADATA, original)) {
      throw new ProvenanceError(GuardedMessages.guardedTwice(where));
    }
    if (explicitAction !== undefined && !isValidAction(explicitAction)) {
      throw new ProvenanceError(Messages.badAction(explicitAction));
    }
    const options = validateGuardedOptions(where, rawOptions);
    const action = explicitAction ?? where;
    const returns = options.returns ?? returnKind(original, target, propertyKey, where);
    const method = original as (...args: unknown[]) => unknown;

    // Parsed once, here; each call only maps its arguments.
    const specs = parseParameterNames(method);
    let naming: ArgumentNaming | undefined;
    let skip: ReadonlySet<number> | undefined;
    const raiseOnBlock = options.raiseOnBlock ?? true;
    const gateOptions = { sessionId: options.sessionId, decision: options.decision };

    const prepare = (self: unknown, args: unknown[]): GatedInvocation => {
      const gateway = GatewayRegistry.resolve(self, where) as GateDecider;
      // Read on first call: Nest's parameter decorators are all applied by then.
      skip ??= unauditableArguments(target, propertyKey);
      naming ??= namingFor(specs, skip);
      const read = (): unknown =>
        options.params
          ? options.params.apply(self, args)
          : auditParameters(naming as ArgumentNaming, args, skip);
      return {
        gateway,
        call: { action, parameters: read(), options: gateOptions },
        raiseOnBlock,
        readParameters: read,
        body: () => method.apply(self, args),
      };
    };

    const wrapper =
      returns === 'observable'
        ? function (this: unknown, ...args: unknown[]): Observable<unknown> {
            return gateObservable(() => prepare(this, args));
          }
        : async function (this: unknown, ...args: unknown[]): Promise<unknown> {
            return gatePromise(prepare(this, args));
          };

    copyMethodMetadata(method, wrapper);
    copyFunctionShape(method, wrapper);
    const metadata: GuardedMetadata = { action, where, returns, options };
    Reflect.defineMetadata(GUARDED_METADATA, metadata, wrapper);
    const names: Array<string | symbol> = Reflect.getOwnMetadata(GUARDED_METHODS, target) ?? [];
    Reflect.defineMetadata(GUARDED_METHODS, [...names, propertyKey], target);

    descriptor.value = wrapper as unknown as T;
    return descriptor;
  };
}

/** The @Guarded details of a method (its wrapper), or undefined when it is not guarded. */
export function getGuardedMetadata(method: unknown): GuardedMetadata | undefined {
  if (typeof method !== 'function') return undefined;
  return Reflect.getOwnMetadata(GUARDED_METADATA, method) as GuardedMetadata | undefined;
}

function describeMember(target: object, key: string | symbol): string {
  const owner = typeof target === 'function' ? target : target.constructor;
  const className = (owner as Function | undefined)?.name || 'anonymous class';
  const name = typeof key === 'symbol' ? `[${key.description ?? 'symbol'}]` : key;
  return `${className}.${name}`;
}

function returnKind(
  method: unknown,
  target: object,
  key: string | symbol,
  where: string,
): 'promise' | 'observable' {
  const kind = (method as Function).constructor?.name;
  if (kind === 'AsyncFunction') return 'promise';
  // Set by TypeScript (emitDecoratorMetadata) from the declared return type; an async method is Promise.
  const declared: unknown = Reflect.getMetadata('design:returntype', target, key);
  if (declared === Promise) return 'promise';
  if (
    typeof declared === 'function' &&
    (declared === Observable || declared.prototype instanceof Observable)
  ) {
    return 'observable';
  }
  throw new ProvenanceError(GuardedMessages.unknownReturn(where));
}

/** Positions of `@Req()`, `@Res()` and `@Next()` arguments: a request or a response is never audit data. */
function unauditableArguments(target: object, key: string | symbol): ReadonlySet<number> {
  const owner = typeof target === 'function' ? target : target.constructor;
  const routeArgs: Record<string, { index?: unknown }> | undefined = Reflect.getMetadata(
    NEST_ROUTE_ARGS_METADATA,
    owner,
    key,
  );
  const skip = new Set<number>();
  for (const [slot, value] of Object.entries(routeArgs ?? {})) {
    const type = Number(slot.split(':')[0]);
    if (NEST_UNAUDITABLE_ROUTE_ARGS.has(type) && typeof value?.index === 'number') {
      skip.add(value.index);
    }
  }
  return skip;
}
