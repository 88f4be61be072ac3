/** Where a command writes: one line at a time, so tests can capture it without a process. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

/** The real process streams. */
export const processIO: CliIO = {
  out: (line) => {
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    process.stderr.write(`${line}\n`);
  },
};
