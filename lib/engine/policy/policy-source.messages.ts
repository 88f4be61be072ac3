/** The texts of policy-source.ts and of the loader's file reading (the file is prefixed by PolicyValidationError). */
export const PolicySourceMessages = {
  missingFile: (resolved: string, cwd: string) =>
    `cannot read the policy file: no such file (looked for ${resolved}; the working directory is ${cwd})`,
  /** A string taken as a path although it holds a line break: it ends in a policy file extension. */
  textTakenAsPath: () =>
    '; this text ends in .yml, .yaml or .json, so it was read as a path: end inline policy text with a line break',
};
