/**
 * A server whose `mn` was refused (twemproxy forwards `version`, 1.6.18, but closes the socket on a
 * meta command) is spoken to in text until a socket gets `MN` again. Before, `speaksMeta` turned
 * true on its own once the 30 s re-learn window had passed, with no socket proven since: requests
 * then went out in their meta form on version-validated sockets, twemproxy closed them, `fetch`
 * fell back to unlocked loads and `get` failed (seen through a real twemproxy, 31 s after it was
 * learned). The clock is faked here so the window passes at once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerTraits } from '../../src/connection/prove.js';

describe('ServerTraits after mn was refused', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('speaks text past the re-learn window until a socket proves mn, then meta', () => {
    let clock = performance.now();
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const traits = new ServerTraits('auto');
    traits.version = '1.6.18';
    expect(traits.speaksMeta).toBe(true);
    traits.refuseMn();
    expect(traits.speaksMeta).toBe(false);
    expect(traits.tryMn).toBe(false);
    clock += 31_000;
    expect(traits.tryMn, 'a new socket tries mn again').toBe(true);
    expect(traits.speaksMeta, 'but nothing proved it yet').toBe(false);
    traits.meta = true; // what prove() records when a socket answers MN
    expect(traits.speaksMeta).toBe(true);
  });
});
