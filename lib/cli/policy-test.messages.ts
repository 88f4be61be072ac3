/** What `provenance policy test` says: the cases file's faults (each naming its case and field) and the results. */
export const PolicyTestMessages = {
  unreadable: (file: string, why: string) => `${file}: cannot read the cases file: ${why}`,
  notYaml: (file: string, why: string) => `${file}: not valid YAML or JSON: ${why}`,
  noCasesList: (file: string) =>
    `${file}: expected a list of cases, or an object with a 'cases' list`,
  unknownTopKey: (file: string, key: string) =>
    `${file}: unknown key '${key}' (expected 'cases', and optionally 'name')`,
  noCases: (file: string) => `${file}: 'cases' is empty: a test that checks nothing passes nothing`,
  notAnObject: (where: string) => `${where}: a case must be an object with action and expect`,
  unknownKey: (where: string, key: string, known: readonly string[]) =>
    `${where}.${key}: unknown key (expected one of ${known.join(', ')})`,
  missing: (where: string, field: string) => `${where}.${field}: missing (it is required)`,
  notText: (where: string, field: string) => `${where}.${field}: must be text`,
  badExpect: (where: string, got: string) =>
    `${where}.expect: must be ALLOW, BLOCK or ESCALATE (upper case), got ${got}`,
  badParams: (where: string) =>
    `${where}.params: must be an object of the call's parameters (or null)`,
  badRegex: (where: string, why: string) => `${where}.reason: not a valid /regex/: ${why}`,
  duplicateName: (where: string, name: string, first: number) =>
    `${where}.name: '${name}' is also the name of cases[${first}]: names must tell cases apart`,
  summary: (passed: number, failed: number) =>
    `${passed + failed} case${passed + failed === 1 ? '' : 's'}: ${passed} passed, ${failed} failed`,
};
