/**
 * Copies every reflect-metadata entry of the original method onto its
 * wrapper, so that decorators applied before @Guarded (route, guards, pipes,
 * Swagger) are still seen on the function Nest registers. Decorators applied
 * after @Guarded write onto the wrapper directly.
 */
export function copyMethodMetadata(from: Function, to: Function): void {
  for (const key of Reflect.getMetadataKeys(from)) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, from), to);
  }
}

/** Gives the wrapper the original's `name` and `length`, which stack traces, Nest and Swagger read. */
export function copyFunctionShape(from: Function, to: Function): void {
  Object.defineProperty(to, 'name', { value: from.name, configurable: true });
  Object.defineProperty(to, 'length', { value: from.length, configurable: true });
}
