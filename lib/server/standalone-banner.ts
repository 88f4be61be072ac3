import { ServerMessages } from '../protocol/provenance.messages';
import { redactConnectionString } from '../postgres/connection-string';
import { PostgresOptionMessages } from '../postgres/postgres-options.messages';
import { DEFAULT_SCHEMA } from '../postgres/schema-name';
import type { StandaloneSettings } from './standalone-settings';

/**
 * What the standalone gateway prints once it listens at `url`: the policy,
 * the tenant, the keys and curl lines to try it. The agent key is printed
 * only when the gateway made it up: a key from the environment is the
 * user's already, and is shown by its variable.
 */
export function printStandaloneBanner(
  settings: StandaloneSettings,
  url: string,
  print: (line: string) => void,
): void {
  const { givenKey, apiKey, reviewer, reviewAnyKey } = settings;
  print(ServerMessages.started(url));
  print(`  policy:     ${settings.policySource}`);
  print(`  tenant id:  ${settings.tenantId}`);
  print(`  state:      ${stateOf(settings)}`);
  // The key is printed only when this process made it up: a key from the environment is the user's already.
  print(
    `  API key:    ${givenKey === undefined ? apiKey : '(from PROVENANCE_API_KEY)'} (role agent)`,
  );
  if (reviewer !== null) {
    print(`  reviewer:   ${reviewer.principal} (key from PROVENANCE_REVIEWER_API_KEY)`);
  } else if (reviewAnyKey) {
    print('  reviewer:   none; every key decides (PROVENANCE_INSECURE_ANY_KEY_DECIDES=true)');
  } else {
    print(`  reviewer:   none. ${ServerMessages.noReviewerKey()}`);
  }
  if (reviewAnyKey) print(`  WARNING:    ${ServerMessages.reviewAnyKeyInsecure()}`);
  if (settings.postgres !== null)
    print(`  replicas:   ${PostgresOptionMessages.standaloneReplicas()}`);
  print('');
  print('Try it:');
  // A key this process made up is shown as is; one from the environment by its variable (double quotes: the shell expands it).
  const agentHeader =
    givenKey === undefined
      ? `'X-PROVENANCE-API-KEY: ${apiKey}'`
      : '"X-PROVENANCE-API-KEY: $PROVENANCE_API_KEY"';
  print(
    `  curl -s ${url}/v1/gateway/execute -H ${agentHeader} ` +
      `-H 'Content-Type: application/json' -d '{"session_id":"sess_0123456789abcdef","agent_id":"my-agent",` +
      `"action":"payments.initiate","parameters":{"amount":50,"currency":"GBP"},"decision":"ALLOW"}'`,
  );
  if (reviewer !== null || reviewAnyKey) {
    const decider =
      reviewer !== null ? '"X-PROVENANCE-API-KEY: $PROVENANCE_REVIEWER_API_KEY"' : agentHeader;
    // A reviewer key decides as its principal: no approver_id needed.
    const body =
      reviewer !== null
        ? '{"decision":"APPROVE","reason":"Verified"}'
        : '{"decision":"APPROVE","approver_id":"cfo@example.com","reason":"Verified"}';
    print(`  curl -s ${url}/v1/escalations/pending -H ${decider}`);
    print(
      `  curl -s ${url}/v1/escalations/<id>/decide -H ${decider} ` +
        `-H 'Content-Type: application/json' -d '${body}'`,
    );
  }
  print('');
  print(
    'Clients: PROVENANCE_GATEWAY_URL=' +
      url +
      ' PROVENANCE_API_KEY=<the agent key> PROVENANCE_AGENT_ID=<agent>',
  );
  if (reviewer !== null) {
    print(
      `Reviewers: the same URL with the reviewer key; decisions are recorded as ${reviewer.principal}.`,
    );
  }
}

/** Where the state is: the database without its password, or the audit folder. */
function stateOf(settings: StandaloneSettings): string {
  if (settings.postgres === null) return `audit files in ${settings.auditDir}`;
  const { connectionString, schema } = settings.postgres;
  return PostgresOptionMessages.standaloneState(
    redactConnectionString(connectionString),
    schema ?? DEFAULT_SCHEMA,
  );
}
