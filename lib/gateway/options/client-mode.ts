import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import { Messages } from '../../protocol/provenance.messages';
import type { GatewayTransport } from '../../transport/gateway-transport';
import type { ResolvedClientOptions } from '../provenance-client.options';
import { CLIENT_OPTION_SPECS } from './client-option-specs';
import { ClientModeMessages } from './client-mode.messages';
import { howToSet } from './option-hints';
import type { OptionSource } from './option-spec';

const API_KEY_PATTERN = /^pk_[A-Za-z0-9]+_[A-Za-z0-9_-]{8,}$/;

export type ClientMode = ResolvedClientOptions['mode'];
type ModeInputs = Pick<
  ResolvedClientOptions,
  'gatewayUrl' | 'apiKey' | 'policy' | 'postgres' | 'watchPolicy' | 'shadowPolicy'
>;

/**
 * The rules that tie options together: a given transport decides; else a
 * gatewayUrl means a remote gateway, which needs a well-formed URL and API
 * key, and refuses the embedded gateway's `policy`, `audit`, `postgres`,
 * `watchPolicy` and `shadowPolicy` (they would be ignored); else a policy means the embedded gateway; else
 * nothing can decide.
 */
export function selectClientMode(
  options: ModeInputs,
  sources: Readonly<Record<string, OptionSource>>,
  transport: GatewayTransport | undefined,
): ClientMode {
  if (transport) return transport.kind;
  if (options.gatewayUrl !== null) {
    refuseEmbeddedOptions(options, sources);
    checkHttpOptions(options.gatewayUrl, options.apiKey, sources);
    return 'http';
  }
  if (options.policy !== null) return 'embedded';
  throw new ProvenanceConfigError('gatewayUrl', Messages.missingGateway());
}

/** An embedded gateway's option beside `gatewayUrl`: a configuration error naming both. */
function refuseEmbeddedOptions(
  options: ModeInputs,
  sources: Readonly<Record<string, OptionSource>>,
): void {
  const given: Array<[string, boolean]> = [
    ['policy', options.policy !== null],
    ['audit', sources.audit === 'option'],
    ['postgres', options.postgres !== null],
    ['watchPolicy', options.watchPolicy === true],
    ['shadowPolicy', options.shadowPolicy !== null && options.shadowPolicy !== undefined],
  ];
  const conflict = given.find(([, set]) => set);
  if (conflict === undefined) return;
  const option = conflict[0];
  const env = (CLIENT_OPTION_SPECS as Record<string, { env?: string }>)[option].env;
  const setBy =
    sources[option] === 'env' && env !== undefined
      ? ClientModeMessages.setByEnv(env)
      : ClientModeMessages.setByOption();
  throw new ProvenanceConfigError(option, ClientModeMessages.remoteWithEmbedded(option, setBy));
}

function checkHttpOptions(
  gatewayUrl: string,
  apiKey: string | null,
  sources: Readonly<Record<string, OptionSource>>,
): void {
  if (!isHttpUrl(gatewayUrl)) {
    const hint = howToSet('gatewayUrl', CLIENT_OPTION_SPECS.gatewayUrl.env, sources.gatewayUrl);
    throw new ProvenanceConfigError('gatewayUrl', Messages.badGatewayUrl(gatewayUrl) + hint);
  }
  if (apiKey === null || apiKey === '') {
    throw new ProvenanceConfigError('apiKey', Messages.missingApiKey(gatewayUrl));
  }
  if (!API_KEY_PATTERN.test(apiKey)) {
    const hint = howToSet('apiKey', CLIENT_OPTION_SPECS.apiKey.env, sources.apiKey);
    throw new ProvenanceConfigError('apiKey', Messages.badApiKey() + hint);
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
