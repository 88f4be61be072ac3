import { isDeepStrictEqual, inspect } from 'node:util';

/** A failed expectation of the demo: what the policy says should have happened, and what did. */
export class DemoExpectationError extends Error {}

/** Throws unless `actual` deep-equals `expected`. `what` reads as the subject of a sentence. */
export function expectEqual(what: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new DemoExpectationError(
      `${what}: expected ${inspect(expected, { depth: 4 })}, got ${inspect(actual, { depth: 4 })}`,
    );
  }
}

export function expectTrue(what: string, condition: boolean): void {
  if (!condition) throw new DemoExpectationError(`${what}: expected true, got false`);
}

/**
 * Runs the demo's steps in order and keeps score. A step that throws is a
 * failure, printed with its reason, and the walk goes on: every step gets its
 * say, and the last line tells the truth.
 */
export class DemoReport {
  private passed = 0;
  private failed = 0;
  private number = 0;

  constructor(private readonly out: (line: string) => void = (line) => console.log(line)) {}

  async step(title: string, body: (say: (line: string) => void) => Promise<void>): Promise<void> {
    this.number += 1;
    this.out('');
    this.out(`${this.number}. ${title}`);
    const say = (line: string) => this.out(`   ${line}`);
    try {
      await body(say);
      this.passed += 1;
      this.out('   ✔ as the policy says');
    } catch (error) {
      this.failed += 1;
      const message =
        error instanceof DemoExpectationError
          ? error.message
          : `unexpected ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      this.out(`   ✘ FAILED: ${message}`);
    }
  }

  /** Counts a failure that happened outside any step (start-up, shutdown). */
  fail(what: string, error: unknown): void {
    this.failed += 1;
    this.out(`✘ ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }

  get ok(): boolean {
    return this.failed === 0 && this.passed > 0;
  }

  summary(): string {
    return `demo: ${this.passed} passed, ${this.failed} failed`;
  }
}
