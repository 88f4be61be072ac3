import type { ExecutionResult } from '../../protocol/execution-result';
import { runAllowedTool } from '../tool-gate/tool-decision';

type Step<T> = { kind: 'value'; value: T } | { kind: 'done' } | { kind: 'error'; error: unknown };

/**
 * An async-generator tool body, run with its ALLOW in scope for its whole
 * run (`runAllowedTool`): the body's code runs in the async context of
 * whoever calls `next()`, so the generator is driven from inside one scope,
 * a value at a time, and its values are handed out as it yields them. A
 * guarded method it calls on the same input is decided once, as for a
 * plain `execute`. The consumer stopping early stops the body.
 */
export async function* runAllowedGenerator<T>(
  result: ExecutionResult,
  start: () => AsyncIterable<T>,
): AsyncGenerator<T> {
  let deliver!: (step: Step<T>) => void;
  let resume: (go: boolean) => void = () => undefined;
  const nextStep = () => new Promise<Step<T>>((resolve) => (deliver = resolve));
  let pending = nextStep();
  const body = runAllowedTool(result, async () => {
    for await (const value of start()) {
      const go = new Promise<boolean>((resolve) => (resume = resolve));
      deliver({ kind: 'value', value });
      // Leaving the loop early calls the body's return(): its finally blocks run.
      if (!(await go)) return;
    }
  });
  body.then(
    () => deliver({ kind: 'done' }),
    (error: unknown) => deliver({ kind: 'error', error }),
  );
  try {
    for (;;) {
      const step = await pending;
      if (step.kind === 'error') throw step.error;
      if (step.kind === 'done') return;
      pending = nextStep();
      yield step.value;
      resume(true);
    }
  } finally {
    resume(false);
  }
}
