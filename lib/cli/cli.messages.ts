/** What the `provenance` command itself says (not one of its commands). */
export const CliMessages = {
  outputFailed: (why: string) => `provenance: could not write the output: ${why}`,
};
