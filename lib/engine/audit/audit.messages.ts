/**
 * Texts of the audit trail's findings, start-up refusals and signing errors
 * (the older ones are AuditMessages in engine/engine.messages.ts). A key is
 * never part of a message: only its kind, its id or the file it came from.
 */
export const AuditFindingMessages = {
  // ---- start-up refusals (FileAuditStore.open)
  damagedLine: (line: number, why: string) =>
    `line ${line} (position ${line - 1}) is not an audit event (${why}); it is a complete line, ` +
    'so not a torn write: the log is damaged or was edited, and it is left as it is. ' +
    'Run `provenance audit verify <file>` to see where; appends are refused until it is repaired',
  notCanonicalTail: (line: number) =>
    `line ${line} (position ${line - 1}), the last event, is not the text the log writes for it ` +
    '(a duplicate key, an escape, a number or a line ending was changed); the log was edited. ' +
    'Run `provenance audit verify <file>`; appends are refused',
  acknowledgedTail: (position: number) =>
    `the last line has no newline but holds position ${position}, which the head anchor records ` +
    'as acknowledged: not a torn write, the log was edited. It is left as it is; ' +
    'run `provenance audit verify <file>`; appends are refused',
  checkpointLine: (line: number) =>
    `line ${line} of the checkpoint file is not a signed checkpoint; it was damaged or edited. ` +
    'Run `provenance audit verify <file> --public-key <key>`; appends are refused',
  checkpointRefused: (detail: string) =>
    `the log does not match a checkpoint signed with this log's key (${detail}): it was rewritten ` +
    'or cut. Run `provenance audit verify <file> --public-key <key>`; appends are refused',

  // ---- said once in the process's log (AuditLog, audit-file-lock.ts)
  storeRefuses: (store: string, why: string, position: number | null, file: string | null) =>
    `provenance: the audit store ${store} refuses to record, so every append (every gated call) ` +
    'fails until it is repaired (said once per log). ' +
    (position === null ? '' : `At position ${position} (line ${position + 1}): `) +
    why +
    (file === null ? '' : `. Inspect it with: provenance audit verify ${shellWord(file)}`),
  staleLockTakenOver: (lock: string, pid: number, host: string, since: string) =>
    `provenance: took over the writer's lock ${lock} left by pid ${pid} on host ${host} ` +
    `(since ${since}): that process is gone (it died without closing the log)`,

  // ---- the writer's lock (audit-file-lock.ts)
  lockHeld: (lock: string, pid: number, host: string, since: string) =>
    `another writer has this audit log open: pid ${pid} on host ${host} (since ${since}), ` +
    `per its lock file ${lock}. Two writers would fork the chain, so this one is refused: give ` +
    'each replica its own audit file (or tenant). If that process is gone and the lock was left ' +
    `on another host, delete ${lock}`,
  lockUnreadable: (lock: string) =>
    `the lock file ${lock} is not a writer's lock (it does not name a pid); this store did not ` +
    'write it. If no process writes this log, delete it',
  lockContended: (lock: string) =>
    `the lock file ${lock} keeps reappearing: another writer is starting on this log at the same time`,
  lockFailed: (lock: string, why: string) => `cannot take the writer's lock ${lock}: ${why}`,

  // ---- verification problems
  problemNonCanonical: () =>
    'the line is not the canonical text of the event it parses to (a duplicate key, an escape, ' +
    'a number, spacing or a line ending was changed): the log writes no such line',
  problemMissing: () => 'the audit file is missing (deleted or moved away)',
  liveShorter: (held: number, found: number) =>
    `the file holds ${found} event(s), but this log wrote ${held} events (the file was cut or ` +
    'replaced, e.g. by a shorter copy renamed over it)',
  liveOtherHead: (position: number) =>
    `the event at position ${position} is not the one this log wrote there (the file was replaced)`,
  liveUnknown: (position: number) =>
    `position ${position} holds an event this log never wrote (appended behind its back)`,
  checkpointMalformed: (line: number) =>
    `checkpoint line ${line} is not a signed checkpoint (damaged or edited)`,
  checkpointSignature: (line: number) =>
    `checkpoint line ${line} does not verify under the public key: forged or edited`,
  checkpointOtherKey: (line: number, keyId: string) =>
    `checkpoint line ${line} is signed by another key (${keyId}), not the public key given`,
  checkpointTruncated: (line: number, position: number) =>
    `the log ends before position ${position}, which checkpoint line ${line} signed: ` +
    'events were removed from the end',
  checkpointMismatch: (line: number, position: number) =>
    `the event at position ${position} has another hash than checkpoint line ${line} signed: ` +
    `the log was rewritten at or before position ${position}`,
  checkpointCount: (line: number) =>
    `checkpoint line ${line} counts another number of events than its position says`,
  afterClose: (position: number) =>
    `the log was closed at position ${position} by a signed checkpoint, and events follow with ` +
    'no signed reopening: appended by someone else',
  checkpointsRequired: () =>
    'no signed checkpoint was found, and checkpoints are required (the checkpoint file was deleted?)',
  checkpointWritten: (position: number) =>
    `a checkpoint this log signed for position ${position} is missing from its checkpoint file`,
  unsignedHead: (signedThrough: number | null, last: number) =>
    `the last event (position ${last}) is not covered by a signed checkpoint ` +
    `(${signedThrough === null ? 'none' : `signed through ${signedThrough}`}), and a signed head is required`,
} as const;

export const AuditSigningMessages = {
  notAKey: (option: string) =>
    `${option} must be an Ed25519 private key: a PEM text (-----BEGIN PRIVATE KEY-----), ` +
    'the path of a PEM file, or a KeyObject',
  unreadableFile: (option: string, file: string, why: string) =>
    `${option}: cannot read the key file ${file}: ${why}`,
  notPem: (option: string, where: string) =>
    `${option}: ${where} is not a PEM private key (the text is not shown)`,
  wrongKind: (option: string, kind: string) =>
    `${option} must be an Ed25519 private key; got ${kind}. Make one with \`provenance audit keygen\``,
  publicKeyWrongKind: (where: string, kind: string) =>
    `${where} must be an Ed25519 public key; got ${kind}`,
  publicKeyUnreadable: (where: string, why: string) =>
    `${where} is not a readable public key: ${why}`,
  storeCannotKeep: (store: string) =>
    `the audit store ${store} cannot keep signed checkpoints (it has no appendCheckpoint and ` +
    'readCheckpoints); use the file or memory store, or add them to your store',
  badInterval: (option: string, got: string) =>
    `${option} must be a positive whole number; got ${got}`,
} as const;

/** A path as one shell word: as it is when it is plain, else in single quotes. */
function shellWord(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}
