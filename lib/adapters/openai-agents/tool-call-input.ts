/**
 * The input of a function tool call as the audit records it: the JSON the
 * model sent, parsed (`{"amount":50}` → `{ amount: 50 }`). Text that is not
 * JSON is kept as it came (the gate records it as `{ input }`): the tool's
 * own parser refuses it later, and nothing about the call is hidden.
 */
export function toolCallInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}
