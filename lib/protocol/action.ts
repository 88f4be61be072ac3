/**
 * An action name (`payments.initiate`): a non-empty string that is not only
 * white space. The decorator, `gateway.guard()`, `execute()` and the server
 * all ask this one function.
 */
export function isValidAction(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}
