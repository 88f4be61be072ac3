import { KeyObject } from 'node:crypto';
import { notifyOptionProblem } from '../notify/notify-options';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { ServerMessages } from '../protocol/provenance.messages';
import { checkKeyRole, serverKeys } from './api-keys';
import type { ProvenanceGatewayServerOptions } from './options';
import { serverPostgres } from './server-postgres';

const KNOWN = [
  'keys',
  'apiKeys',
  'reviewAnyKey',
  'escalationTimeoutMs',
  'audit',
  'maxBodyBytes',
  'maxWaitMs',
  'allowEmptyPolicy',
  'maxPendingEscalations',
  'logger',
  'postgres',
  'notify',
];

/** Fails at start-up, naming the option, for anything the server could not run with. Never shows a key. */
export function validateServerOptions(options: ProvenanceGatewayServerOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ProvenanceConfigError(
      'options',
      ServerMessages.badServerOption('options', 'an object', options),
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) {
      throw new ProvenanceConfigError(
        key,
        ServerMessages.badServerOption(key, `one of ${KNOWN.join(', ')}`, key),
      );
    }
  }
  validateKeys(serverKeys(options));
  validateLimits(options);
  validateAudit(options.audit);
  serverPostgres(options);
  if (options.notify !== undefined) {
    const problem = notifyOptionProblem(options.notify, 'notify');
    if (problem !== null) throw new ProvenanceConfigError('notify', problem);
  }
}

function fail(option: string, expected: string, got: unknown): never {
  throw new ProvenanceConfigError(option, ServerMessages.badServerOption(option, expected, got));
}

function validateKeys(keys: ProvenanceGatewayServerOptions['keys']): void {
  // keys[i].role, .principal, .agentId: lib/server/api-keys.ts (checkKeyRole); a reviewer key needs no policy.
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ProvenanceConfigError('keys', ServerMessages.noKeys());
  }
  keys.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null) {
      throw new ProvenanceConfigError(
        `keys[${index}]`,
        ServerMessages.badServerOption(
          `keys[${index}]`,
          'an object { key, tenantId, policy }',
          entry,
        ),
      );
    }
    const { role } = checkKeyRole(entry, index);
    if (role === 'agent' && (entry.policy === undefined || entry.policy === null)) {
      throw new ProvenanceConfigError(
        `keys[${index}].policy`,
        ServerMessages.badServerOption(
          `keys[${index}].policy`,
          'a policy file, document or compiled policy',
          entry.policy,
        ),
      );
    }
    if (
      entry.policyId !== undefined &&
      (typeof entry.policyId !== 'string' || entry.policyId === '')
    ) {
      throw new ProvenanceConfigError(
        `keys[${index}].policyId`,
        ServerMessages.badServerOption(
          `keys[${index}].policyId`,
          'a non-empty string',
          entry.policyId,
        ),
      );
    }
  });
}

function validateLimits(options: ProvenanceGatewayServerOptions): void {
  for (const name of [
    'escalationTimeoutMs',
    'maxBodyBytes',
    'maxWaitMs',
    'maxPendingEscalations',
  ] as const) {
    const value = options[name];
    if (
      value !== undefined &&
      (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    ) {
      throw new ProvenanceConfigError(
        name,
        ServerMessages.badServerOption(name, 'a positive whole number', value),
      );
    }
  }
  if (options.reviewAnyKey !== undefined && typeof options.reviewAnyKey !== 'boolean') {
    fail('reviewAnyKey', 'true or false (true is INSECURE: any key decides)', options.reviewAnyKey);
  }
  if (options.allowEmptyPolicy !== undefined && typeof options.allowEmptyPolicy !== 'boolean') {
    throw new ProvenanceConfigError(
      'allowEmptyPolicy',
      ServerMessages.badServerOption('allowEmptyPolicy', 'true or false', options.allowEmptyPolicy),
    );
  }
}

function validateAudit(audit: ProvenanceGatewayServerOptions['audit']): void {
  if (audit === undefined) return;
  if (typeof audit !== 'object' || audit === null) fail('audit', 'an object', audit);
  if (audit.store !== undefined && audit.store !== 'file' && audit.store !== 'memory') {
    fail('audit.store', "'file' or 'memory'", audit.store);
  }
  if (audit.dir !== undefined && (typeof audit.dir !== 'string' || audit.dir === '')) {
    fail('audit.dir', 'a folder path', audit.dir);
  }
  const key = audit.signingKey;
  if (key !== undefined && typeof key !== 'string' && !(key instanceof KeyObject)) {
    fail('audit.signingKey', 'PEM text, a PEM file path, or a KeyObject', typeof key);
  }
}
