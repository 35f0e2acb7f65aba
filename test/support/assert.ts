/** Assertion helpers shared by the test suites. */

/** The settled outcome of a call that must reject; fails if it resolves or throws synchronously. */
export async function rejection(fn: () => Promise<unknown>, label = 'the call'): Promise<unknown> {
  let p: Promise<unknown>;
  try {
    p = fn();
  } catch (err) {
    throw new Error(`${label} threw synchronously instead of returning a rejected promise: ${String(err)}`);
  }
  return p.then(
    (v) => { throw new Error(`${label} resolved with ${JSON.stringify(v)} instead of rejecting`); },
    (err: unknown) => err,
  );
}
