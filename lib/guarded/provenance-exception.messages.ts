/**
 * The `message` of the HTTP answers ProvenanceExceptionFilter gives for a
 * reviewer's errors. Only what the caller may know: the id it sent (clipped),
 * the field at fault, never the gateway's address.
 */
export const ExceptionFilterMessages = {
  escalationNotFound: (id: string | null) =>
    `No pending escalation${id === null ? '' : ` with id '${clip(id)}'`} (unknown, or already decided or expired).`,
  grantNotFound: (id: string) =>
    `No active grant with id '${clip(id)}' (unknown, revoked, used up or expired).`,
  badReviewInput: (field: string) =>
    `The review is missing a valid \`${field}\`: nothing was decided.`,
  escalationLimit: (action: string | null) =>
    `Too many calls are waiting for a human; '${clip(action ?? 'the call')}' was not held and did not run. Try again later.`,
  approvalForbidden: () =>
    'This approver may not decide this escalation (it is the agent whose call it is, or not the ' +
    'credential’s principal): nothing was decided.',
} as const;

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
