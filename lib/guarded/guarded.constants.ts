/** On a prototype: the names of its @Guarded methods (the explorer binds instances that have some). */
export const GUARDED_METHODS = 'nestjs-provenance:guarded-methods';

/** On a guarded wrapper function: its `GuardedMetadata`. */
export const GUARDED_METADATA = 'nestjs-provenance:guarded';

/**
 * Where Nest records `@Req()`, `@Res()`, `@Next()` and the other route
 * arguments of a handler (`ROUTE_ARGS_METADATA`, stable since Nest 5 but not
 * exported from the package root), and the type numbers of the three whose
 * values must never reach an audit log: a request, a response, a callback.
 */
export const NEST_ROUTE_ARGS_METADATA = '__routeArguments__';
export const NEST_UNAUDITABLE_ROUTE_ARGS: ReadonlySet<number> = new Set([0, 1, 2]);
