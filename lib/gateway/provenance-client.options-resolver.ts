import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { Messages } from '../protocol/provenance.messages';
import { isValidSessionId, newSessionId } from '../protocol/session-id';
import type {
  ProvenanceClientDeps,
  ProvenanceClientOptions,
  ResolvedClientOptions,
} from './provenance-client.options';

const KNOWN_OPTIONS = [
  'gatewayUrl',
  'agentId',
  'apiKey',
  'onGatewayError',
  'defaultSession',
  'timeout',
  'tenantPolicyId',
  'asyncEscalation',
  'policy',
  'escalationTimeout',
  'audit',
  'tenantId',
  'maxParametersBytes',
  'logger',
  'redact',
] as const;

/** Options the Nest module adds on top of the client's; accepted here so one object can be passed through. */
const MODULE_OPTIONS = new Set(['isGlobal', 'sessionHeader', 'bindHttpSessions', 'reviewer']);

const API_KEY_PATTERN = /^pk_[A-Za-z0-9]+_[A-Za-z0-9_-]{8,}$/;

/**
 * Validates options and fills defaults and environment fallbacks. Every error
 * names the option at fault and how to set it; none repeats the API key.
 */
export function resolveClientOptions(
  options: ProvenanceClientOptions = {},
  deps: ProvenanceClientDeps = {},
): ResolvedClientOptions {
  if (options === null || typeof options !== 'object') {
    throw new ProvenanceConfigError('options', Messages.badOption('options', 'an object', options));
  }
  for (const key of Object.keys(options)) {
    if (!(KNOWN_OPTIONS as readonly string[]).includes(key) && !MODULE_OPTIONS.has(key)) {
      throw new ProvenanceConfigError(key, Messages.unknownOption(key, KNOWN_OPTIONS));
    }
  }
  const env = deps.env ?? process.env;
  const pick = (value: string | undefined, envName: string): string | undefined => {
    if (value !== undefined) return value;
    const fromEnv = env[envName];
    return fromEnv === undefined || fromEnv.trim() === '' ? undefined : fromEnv.trim();
  };

  const gatewayUrl = pick(options.gatewayUrl, 'PROVENANCE_GATEWAY_URL');
  const agentId = pick(options.agentId, 'PROVENANCE_AGENT_ID');
  const apiKey = pick(options.apiKey, 'PROVENANCE_API_KEY');
  const policy = options.policy ?? pick(undefined, 'PROVENANCE_POLICY');

  expectString('gatewayUrl', gatewayUrl);
  expectString('agentId', agentId);
  if (apiKey !== undefined && typeof apiKey !== 'string') {
    throw new ProvenanceConfigError(
      'apiKey',
      Messages.badOption('apiKey', 'a string', typeof apiKey),
    );
  }
  if (agentId === undefined || agentId.trim() === '') {
    throw new ProvenanceConfigError('agentId', Messages.missingAgentId());
  }

  let mode: 'http' | 'embedded';
  if (deps.transport) {
    mode = deps.transport.kind;
  } else if (gatewayUrl !== undefined) {
    mode = 'http';
    let parsed: URL;
    try {
      parsed = new URL(gatewayUrl);
    } catch {
      throw new ProvenanceConfigError('gatewayUrl', Messages.badGatewayUrl(gatewayUrl));
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ProvenanceConfigError('gatewayUrl', Messages.badGatewayUrl(gatewayUrl));
    }
    if (apiKey === undefined || apiKey === '') {
      throw new ProvenanceConfigError('apiKey', Messages.missingApiKey(gatewayUrl));
    }
    if (!API_KEY_PATTERN.test(apiKey)) {
      throw new ProvenanceConfigError('apiKey', Messages.badApiKey());
    }
  } else if (policy !== undefined && policy !== null) {
    mode = 'embedded';
  } else {
    throw new ProvenanceConfigError('gatewayUrl', Messages.missingGateway());
  }

  const onGatewayError = options.onGatewayError ?? 'closed';
  if (onGatewayError !== 'closed' && onGatewayError !== 'open') {
    throw new ProvenanceConfigError(
      'onGatewayError',
      Messages.badOption('onGatewayError', "'closed' or 'open'", onGatewayError),
    );
  }
  if (options.defaultSession !== undefined && !isValidSessionId(options.defaultSession)) {
    throw new ProvenanceConfigError(
      'defaultSession',
      Messages.badSessionId('defaultSession', options.defaultSession),
    );
  }
  const timeout = positiveInteger('timeout', options.timeout, 90_000);
  const escalationTimeout = positiveInteger('escalationTimeout', options.escalationTimeout, 60_000);
  const maxParametersBytes = positiveInteger(
    'maxParametersBytes',
    options.maxParametersBytes,
    1024 * 1024,
    'bytes',
  );
  const audit = options.audit ?? {};
  if (typeof audit !== 'object' || audit === null) {
    throw new ProvenanceConfigError('audit', Messages.badOption('audit', 'an object', audit));
  }
  const store = audit.store ?? 'file';
  if (store !== 'file' && store !== 'memory' && !isAuditStore(store)) {
    throw new ProvenanceConfigError(
      'audit.store',
      Messages.badOption('audit.store', "'file', 'memory' or an AuditStore", store),
    );
  }
  expectString('audit.path', audit.path);
  expectString('tenantId', options.tenantId);
  expectString('tenantPolicyId', options.tenantPolicyId);
  if (options.redact !== undefined && typeof options.redact !== 'function') {
    throw new ProvenanceConfigError(
      'redact',
      Messages.badOption('redact', 'a function', options.redact),
    );
  }
  if (
    policy !== undefined &&
    policy !== null &&
    typeof policy !== 'string' &&
    typeof policy !== 'object'
  ) {
    throw new ProvenanceConfigError(
      'policy',
      Messages.badOption('policy', 'a file path, a policy document or a compiled policy', policy),
    );
  }

  const resolved: ResolvedClientOptions = {
    mode,
    gatewayUrl: gatewayUrl ?? null,
    agentId,
    apiKey: apiKey ?? null,
    onGatewayError,
    defaultSession: options.defaultSession ?? newSessionId(),
    timeout,
    tenantPolicyId: options.tenantPolicyId ?? null,
    asyncEscalation: options.asyncEscalation ?? true,
    policy: policy ?? null,
    escalationTimeout,
    audit: {
      store,
      path: audit.path ?? '.provenance/audit.jsonl',
      durable: audit.durable ?? true,
    },
    tenantId: options.tenantId ?? 'local',
    maxParametersBytes,
    logger: options.logger ?? null,
    redact: options.redact ?? null,
  };
  // Not enumerable: a logger or JSON.stringify that dumps the options must not print the key.
  Object.defineProperty(resolved, 'apiKey', { enumerable: false });
  return resolved;
}

function isAuditStore(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return ['open', 'append', 'read', 'close'].every((m) => typeof store[m] === 'function');
}

function expectString(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') {
    throw new ProvenanceConfigError(option, Messages.badOption(option, 'a string', value));
  }
}

function positiveInteger(
  option: string,
  value: unknown,
  fallback: number,
  unit = 'milliseconds',
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ProvenanceConfigError(
      option,
      Messages.badOption(option, `a positive whole number of ${unit}`, value),
    );
  }
  return value;
}
