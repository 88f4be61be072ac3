/** Where a command writes: one line at a time, so tests can capture it without a process. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

/**
 * The process streams as the CLI found them. A reader that goes away early
 * (`provenance audit tail … | head`) closes the pipe: the next write fails
 * with EPIPE, emitted as an 'error' on the stream, which without a listener
 * crashes the process with a stack trace. `watchOutputClosing` listens: from
 * then on that stream is written no more, and the command runs to its end
 * and exits with its own code, quietly.
 */
const closed = { stdout: false, stderr: false };
/** An error other than a closed reader (a full disk behind a redirect): the CLI must not exit 0. */
let outputFailure: Error | null = null;

function write(stream: 'stdout' | 'stderr', line: string): void {
  if (closed[stream]) return;
  const target = process[stream];
  if (target.destroyed || target.writableEnded) {
    closed[stream] = true;
    return;
  }
  target.write(`${line}\n`);
}

/** The real process streams. */
export const processIO: CliIO = {
  out: (line) => write('stdout', line),
  err: (line) => write('stderr', line),
};

/** A reader that left: not an error of the command's. */
function isClosedReader(error: NodeJS.ErrnoException): boolean {
  return (
    error.code === 'EPIPE' ||
    error.code === 'ERR_STREAM_DESTROYED' ||
    error.code === 'ERR_STREAM_WRITE_AFTER_END'
  );
}

/** Installs the listeners described above on stdout and stderr (once per process). */
export function watchOutputClosing(): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    if (process[stream].listenerCount('error') > 0) continue;
    process[stream].on('error', (error: NodeJS.ErrnoException) => {
      closed[stream] = true;
      if (!isClosedReader(error)) outputFailure ??= error;
    });
  }
}

/** The failure of a write that was not a closed reader, once seen; null otherwise. */
export function outputFailed(): Error | null {
  return outputFailure;
}
