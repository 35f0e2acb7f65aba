import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', compat: 'src/compat/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  target: 'node20',
  sourcemap: true,
  clean: true,
  // Shared chunks: 'memcluster' and 'memcluster/compat' load one copy of the client, so errors
  // from either pass `instanceof` checks against the other. Splitting also lets cjsInterop see the
  // compat entry's exports: an entry whose only export is `default` (compat) becomes
  // `module.exports = <default>` in CJS and `export =` in its .d.cts, so
  // `require('memcluster/compat')` returns the class itself, as `require('memcached')` does.
  splitting: true,
  cjsInterop: true,
});
