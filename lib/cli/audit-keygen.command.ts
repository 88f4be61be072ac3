import { promises as fs } from 'node:fs';
import { generateSigningKeyPair } from '../engine/audit/audit-signing';
import { parseArgs } from './audit.args';
import { AUDIT_EXIT, unreadable, usage } from './audit.usage';
import type { CliIO } from './cli.io';
import { terminalSafe } from './terminal-text';

/** `provenance audit keygen PREFIX`: a new Ed25519 key pair, PREFIX.key.pem (0600) and PREFIX.pub.pem. */
export async function keygen(args: string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(args, []);
  if (typeof parsed === 'string') return usage(io, parsed);
  if (parsed.positional.length !== 1) return usage(io, 'audit keygen takes exactly one PREFIX');
  const prefix = parsed.positional[0];
  const privateFile = `${prefix}.key.pem`;
  const publicFile = `${prefix}.pub.pem`;
  const pair = generateSigningKeyPair();
  try {
    // 'wx': never overwrite a key (a lost private key cannot be made again).
    await fs.writeFile(privateFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    return unreadable(io, privateFile, error, 'cannot write');
  }
  try {
    await fs.writeFile(publicFile, pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    await fs.rm(privateFile, { force: true });
    return unreadable(io, publicFile, error, 'cannot write');
  }
  io.out(
    `${terminalSafe(privateFile)}: private key (mode 0600): the gateway's audit.signingKey or PROVENANCE_AUDIT_SIGNING_KEY; keep it secret`,
  );
  io.out(`${terminalSafe(publicFile)}: public key: for provenance audit verify --public-key`);
  io.out(`key id ${pair.keyId}`);
  return AUDIT_EXIT.ok;
}
