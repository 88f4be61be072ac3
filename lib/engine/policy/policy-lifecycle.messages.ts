/** The texts of hot reload, the policy file watch and shadow mode (docs/policy.md). */

const short = (hash: string) => hash.slice(0, 12);
const named = (name: string, version: string | null, hash: string) =>
  `'${name}'${version === null ? '' : ` version ${version}`} (${short(hash)})`;

export const PolicyLifecycleMessages = {
  /** The reason of a `policy.loaded` event. */
  loaded: (name: string, version: string | null, hash: string) =>
    `Policy ${named(name, version, hash)} put in force by a reload`,
  reloadedLog: (name: string, version: string | null, hash: string, previousHash: string) =>
    `provenance: policy ${named(name, version, hash)} is now in force (it replaced ${short(previousHash)})`,
  reloadRefused: (why: string) =>
    `provenance: the new policy was refused and the one in force stays: ${why}`,
  noFileToReload: () =>
    'reloadPolicy() without an argument re-reads the policy file, but the policy in force was not ' +
    'loaded from a file (it was given as policy text, a document or a compiled policy): pass the new policy ' +
    '(a path, a document or a compiled policy)',
  watchNeedsFile: () =>
    'watchPolicy: true watches the policy file, but the policy option is not a file path ' +
    '(it is policy text, a document or a compiled policy): give policy as a path, or leave watchPolicy off',
  watchFailed: (file: string, why: string) =>
    `provenance: could not watch the policy file ${file} (watchPolicy): ${why}; reload it with gateway.reloadPolicy()`,
  reloadRemote: (target: string) =>
    `reloadPolicy() changes the embedded gateway's policy, but decisions here come from the remote gateway ${target}, ` +
    'which owns its policy: change it there',
  shadowRemote: (target: string) =>
    `shadowReport() reports the embedded gateway's shadow policy, but decisions here come from the remote gateway ${target}`,
  shadowDisagrees: (
    shadow: string,
    action: string,
    enforced: string,
    candidate: string,
    count: number,
  ) =>
    `provenance: shadow policy ${shadow} would decide ${candidate} where the enforced policy decided ` +
    `${enforced} for '${action}' (${count} time${count === 1 ? '' : 's'} so far; said again at ` +
    `${count * 10}; never enforced; gateway.shadowReport() has the counts)`,
  shadowFailed: (action: string, why: string) =>
    `provenance: the shadow policy could not evaluate '${action}' (not counted, never enforced): ${why}`,
} as const;
