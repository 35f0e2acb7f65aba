import { defineConfig } from 'tsup';
import { esmWrappers } from './scripts/esm-wrappers.js';

export default defineConfig({
  // One line per package entry (`memcluster/<name>`); keep package.json `exports` and
  // `typesVersions` in step (test/packaging/pack.test.ts checks every entry).
  entry: {
    index: 'src/index.ts',
    testing: 'src/testing/index.ts',
    compat: 'src/compat/index.ts',
    keyv: 'src/keyv/index.ts',
    otel: 'src/otel/index.ts',
  },
  // The CommonJS build is the one runtime copy; each ESM entry becomes a thin wrapper that
  // re-exports it (scripts/esm-wrappers.ts), so `import` and `require` share every class.
  format: ['esm', 'cjs'],
  plugins: [esmWrappers()],
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
