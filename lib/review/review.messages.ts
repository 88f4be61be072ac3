/**
 * What ProvenanceReviewModule says, at start-up and over HTTP. No message
 * contains a credential: a value the request sent is named by its type only,
 * except the escalation id of the URL.
 */
export const ReviewMessages = {
  badPath: (got: unknown) =>
    `nestjs-provenance: ProvenanceReviewModule \`path\` must be a URL path such as 'provenance/review' ` +
    `(segments of letters, digits and . _ ~ - ; no query, fragment, ':param', '*', '..' or empty segment); got ${typeof got === 'string' ? JSON.stringify(got) : kindOf(got)}.`,
  badAuthorize: (got: unknown) =>
    'nestjs-provenance: ProvenanceReviewModule needs `authorize`, a function (request) => principal | null ' +
    '(or a Promise of one) that says who the reviewer is, e.g. (req) => req.user?.email ?? null. There is no ' +
    `default: without it nobody could be trusted to approve. Got ${kindOf(got)}.`,
  noReviewer: () =>
    'nestjs-provenance: ProvenanceReviewModule found no ProvenanceReviewer: import ProvenanceModule.forRoot() ' +
    '(or forRootAsync()) in the same application.',
  noPrincipal: () =>
    'No reviewer principal: this request carries no credentials the app accepts for reviewing ' +
    'escalations (send what the app expects, e.g. its session cookie or Authorization: Bearer <token>).',
  badPrincipal: (got: unknown) =>
    `nestjs-provenance: ProvenanceReviewModule authorize() returned ${kindOf(got)}; it must return the ` +
    "reviewer's id (a non-empty string), or null when the request has no valid credentials. Answered 401.",
  authorizeThrew: (name: string, message: string) =>
    `authorize() threw ${name}: ${message} (answered 401)`,
  notJson: () =>
    'A decision must be sent as Content-Type: application/json (a JSON object such as {"reason": "..."}).',
  badBody: (got: unknown) =>
    `The body of a decision must be a JSON object such as {"reason": "..."}; got ${kindOf(got)}.`,
  badApprover: (got: unknown) =>
    `approverId, when sent, must be a non-empty string naming the signed-in reviewer (or leave it out: ` +
    `the signed-in reviewer decides); got ${kindOf(got)}.`,
  notThePrincipal: (principal: string) =>
    `approverId differs from the signed-in reviewer '${principal}': a reviewer decides only as ` +
    'themselves (leave approverId out, or send your own).',
  badReason: (got: unknown) => `reason must be a string or null; got ${kindOf(got)}.`,
  gatewayFailed: () =>
    'The gateway could not answer (nothing is known to be decided; the server log says why).',
  gatewayRefused: () =>
    "The gateway refused this app's API key (403): listing or deciding escalations there needs a " +
    'key that may review; the server log says more.',
} as const;

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return value === '' ? 'an empty string' : 'a string of another form';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
