/**
 * deleteMulti validates every key in one synchronous pass: a large call stalls the event loop,
 * unlike getMulti/setMulti, which slice their work (README, Limits: "Keys are checked, routed and
 * serialized in slices of about 4 ms of work per event-loop turn").
 */
import { describe, expect, it } from 'vitest';
import { Client, InvalidKeyError } from '../../src/index.js';

describe('deleteMulti on a large key list', () => {
  // Was a bug (fixed; this test guards it): src/client/multi.ts:99-102 (`keys.map((key) => core.prepare(key) ...)`, no makeSlicer).
  // A 300,000-key deleteMulti holds the event loop for the whole validation and encoding pass
  // (one bad key at the end makes it write nothing, so only that pass is measured). getMulti on
  // the same list yields every ~4 ms.
  // Fix: build `jobs` with makeSlicer() as setMulti does (await the pause every 256 keys).
  it('never holds the event loop for more than ~50 ms', async () => {
    const mc = new Client(['127.0.0.1:1'], { timeoutMs: 200 });
    try {
      const keys = Array.from({ length: 300_000 }, (_, i) => `delete-multi-stall:${i}`);
      keys.push('bad key'); // refused at the end: nothing is written
      let maxGap = 0;
      let last = performance.now();
      const iv = setInterval(() => { const t = performance.now(); maxGap = Math.max(maxGap, t - last); last = t; }, 1);
      const getGap = await (async () => {
        maxGap = 0; last = performance.now();
        await expect(mc.getMulti(keys)).rejects.toBeInstanceOf(InvalidKeyError);
        await new Promise((r) => setTimeout(r, 5));
        return maxGap;
      })();
      maxGap = 0; last = performance.now();
      await expect(mc.deleteMulti(keys)).rejects.toBeInstanceOf(InvalidKeyError);
      await new Promise((r) => setTimeout(r, 5));
      const deleteGap = maxGap;
      clearInterval(iv);
      expect(getGap).toBeLessThan(50); // control: getMulti on the same keys slices its work
      expect(deleteGap).toBeLessThan(50); // measured 104-125 ms
    } finally {
      await mc.close();
    }
  });
});
