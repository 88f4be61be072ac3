import {
  KeyObject,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import { AuditSigningMessages } from './audit.messages';

/** The option and the environment variable that give the embedded gateway its signing key. */
export const SIGNING_KEY_OPTION = 'audit.signingKey';
export const SIGNING_KEY_ENV = 'PROVENANCE_AUDIT_SIGNING_KEY';

/** A signing key as the options take it: PEM text, the path of a PEM file, or a KeyObject. */
export type AuditSigningKeyInput = string | KeyObject;

/**
 * An Ed25519 key pair that signs checkpoints. The private key is a KeyObject
 * only (util.inspect and JSON.stringify show no key material); `keyId` is the
 * sha256 of the public key's SPKI DER, hex, and names the key in checkpoints
 * and messages.
 */
export interface AuditSigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
  /** The public key's SPKI DER, base64: what a checkpoint records as `publicKey`. */
  readonly publicKeyText: string;
}

/**
 * Loads a private signing key: a KeyObject, PEM text (it starts with
 * `-----BEGIN`), or otherwise the path of a PEM file (so an environment
 * variable can hold either). Only Ed25519 is accepted. Errors name `option`
 * and never show the key text.
 */
export function loadSigningKey(
  value: unknown,
  option: string = SIGNING_KEY_OPTION,
): AuditSigningKey {
  let privateKey: KeyObject;
  if (value instanceof KeyObject) {
    if (value.type !== 'private') {
      throw new ProvenanceConfigError(
        option,
        AuditSigningMessages.wrongKind(option, `a ${value.type} key`),
      );
    }
    privateKey = value;
  } else if (typeof value === 'string' && value.trim() !== '') {
    const text = value.trim();
    const isPem = text.startsWith('-----BEGIN');
    // An environment variable may carry the PEM's newlines written out (backslash, n).
    const pem = isPem ? text.replace(/\\n/g, '\n') : readKeyFile(option, text);
    try {
      privateKey = createPrivateKey(pem);
    } catch {
      throw new ProvenanceConfigError(
        option,
        AuditSigningMessages.notPem(option, isPem ? 'the text given' : `the file ${text}`),
      );
    }
  } else {
    throw new ProvenanceConfigError(option, AuditSigningMessages.notAKey(option));
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ProvenanceConfigError(
      option,
      AuditSigningMessages.wrongKind(
        option,
        `a ${privateKey.asymmetricKeyType ?? 'symmetric'} key`,
      ),
    );
  }
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    keyId: keyIdOf(publicKey),
    publicKeyText: publicKeyTextOf(publicKey),
  };
}

/**
 * A public key to verify with: PEM text, the path of a PEM file, base64 SPKI
 * DER (as checkpoints record it), or a KeyObject. A private key is accepted
 * too (its public half is used). `where` names the source in errors.
 */
export function loadPublicKey(value: string | KeyObject, where: string): KeyObject {
  let key: KeyObject;
  try {
    if (value instanceof KeyObject) {
      key = value.type === 'private' ? createPublicKey(value) : value;
    } else {
      const text = value.trim();
      if (text.startsWith('-----BEGIN')) key = createPublicKey(text);
      else if (/^[A-Za-z0-9+/=]+$/.test(text) && text.length >= 40 && text.length <= 120) {
        key = createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
      } else key = createPublicKey(readFileSync(text, 'utf8'));
    }
  } catch (error) {
    throw new ProvenanceConfigError(
      where,
      AuditSigningMessages.publicKeyUnreadable(
        where,
        error instanceof Error ? error.message : String(error),
      ),
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ProvenanceConfigError(
      where,
      AuditSigningMessages.publicKeyWrongKind(
        where,
        `a ${key.asymmetricKeyType ?? 'symmetric'} key`,
      ),
    );
  }
  return key;
}

/** sha256 of the public key's SPKI DER, hex. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(spkiDer(publicKey)).digest('hex');
}

/** The public key's SPKI DER, base64. */
export function publicKeyTextOf(publicKey: KeyObject): string {
  return spkiDer(publicKey).toString('base64');
}

/** The public key as PEM (`-----BEGIN PUBLIC KEY-----`). */
export function publicKeyPemOf(publicKey: KeyObject): string {
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

/** An Ed25519 signature of `text` (UTF-8), base64. */
export function signText(text: string, privateKey: KeyObject): string {
  return sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64');
}

/** Whether `signature` (base64) is an Ed25519 signature of `text` under `publicKey`. */
export function verifyText(text: string, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(text, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** A fresh Ed25519 key pair as PEM texts (PKCS#8 private, SPKI public), and its key id. */
export function generateSigningKeyPair(): {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKeyPemOf(publicKey),
    keyId: keyIdOf(publicKey),
  };
}

function spkiDer(publicKey: KeyObject): Buffer {
  return publicKey.export({ format: 'der', type: 'spki' });
}

function readKeyFile(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    // Shown only when it looks like a path: a value that is neither PEM nor a
    // path may be key material given the wrong way, and is never printed.
    if (!looksLikePath(file)) {
      throw new ProvenanceConfigError(option, AuditSigningMessages.notAKey(option));
    }
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProvenanceConfigError(
      option,
      AuditSigningMessages.unreadableFile(option, file, code ?? 'unreadable'),
    );
  }
}

function looksLikePath(text: string): boolean {
  return (
    text.length < 4096 &&
    !/\s/.test(text) &&
    (/^(\/|\.\.?\/|~\/|[A-Za-z]:\\)/.test(text) || /\.(pem|key|txt)$/i.test(text))
  );
}
