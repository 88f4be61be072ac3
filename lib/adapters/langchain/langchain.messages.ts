/** The texts of the LangChain adapter (`nestjs-provenance/langchain`). What reaches a model never names a URL. */
export const LangChainMessages = {
  /** What the policy coverage line calls the wrapped tools. */
  toolsForCoverage: () => 'the LangChain tools',
  notToolList: (got: unknown) =>
    `guardLangChainTools takes an array of LangChain tools; got ${got === null ? 'null' : typeof got}`,
  notStructuredTool: (index: number | null, got: unknown) =>
    `${index === null ? 'the tool' : `tools[${index}]`} cannot be gated: it is not a LangChain StructuredTool ` +
    `(tool(), DynamicStructuredTool, DynamicTool or a StructuredTool subclass); got ` +
    `${got === null ? 'null' : typeof got === 'object' ? `a ${describe(got)}` : typeof got}. ` +
    'Gate other tools with provenanceMiddleware() in createAgent',
  badInput: (toolName: string, issues: string) =>
    `Received tool input did not match expected schema for tool '${toolName}'; it did not run. Issues: ${issues}`,
} as const;

function describe(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'plain object';
}
