// An unhandled rejection anywhere in the suite is a bug: a promise that a
// gate forgot to await could mean a decision nobody read. Fail the test that
// was running when it surfaced, instead of letting jest print and move on.
const seen: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  seen.push(reason);
};

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});

afterEach(() => {
  if (seen.length > 0) {
    const reasons = seen.splice(0, seen.length);
    throw new Error(`unhandled rejection(s) during this test: ${reasons.map(String).join('; ')}`);
  }
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});
