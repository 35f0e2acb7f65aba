/**
 * Runs a test project's real-server suites under one protocol: `MEMCLUSTER_TEST_PROTOCOL=text` (or
 * `meta`) becomes the default `protocol` of every client the tests build (see vitest.config.ts).
 * A test that passes `protocol` itself keeps its own.
 */
import { DEFAULTS } from '../../src/client/options.js';

const forced = process.env.MEMCLUSTER_TEST_PROTOCOL;
if (forced !== undefined) {
  if (forced !== 'text' && forced !== 'meta' && forced !== 'auto') throw new Error(`MEMCLUSTER_TEST_PROTOCOL must be text, meta or auto, got ${forced}`);
  (DEFAULTS as { protocol: string }).protocol = forced;
}
