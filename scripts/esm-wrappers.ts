/**
 * A tsup plugin that makes the package ONE runtime copy: the CommonJS build is the implementation,
 * and each ESM entry (`dist/<entry>.js`) becomes a few lines re-exporting it (the pattern pg ships).
 * With two full builds, `require('memcluster').Client !== (await import('memcluster')).Client`, and
 * an error thrown by one copy fails `instanceof` against the other's class.
 *
 * esbuild still builds the ESM files (tsup's `.d.ts` for `import` come from that format); this
 * plugin then rewrites each ESM entry into its wrapper and deletes the ESM chunks and maps. The
 * export names come from esbuild's metafile, so a new entry in tsup.config.ts needs nothing here.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Options } from 'tsup';

type Plugin = NonNullable<Options['plugins']>[number];
type RenderChunk = NonNullable<Plugin['renderChunk']>;
/** What tsup passes to `renderChunk` at run time (its published type omits the metafile fields). */
type ChunkInfo = Parameters<RenderChunk>[1] & { entryPoint?: string; exports?: string[] };

/** The ESM wrapper for an entry whose CommonJS build is `cjsFile` and whose ESM build exported `names`. */
export function wrapperSource(cjsFile: string, names: readonly string[]): string {
  const spec = JSON.stringify(`./${cjsFile}`);
  const named = names.filter((n) => n !== 'default');
  const lines = ['// ESM entry: re-exports the CommonJS build, so import and require share one copy of every class.'];
  if (names.includes('default')) {
    lines.push(`import cjs from ${spec};`);
    // tsup's cjsInterop makes `module.exports` the default export itself when it is the only export.
    lines.push(named.length === 0 ? 'export default cjs;' : 'export default cjs.default;');
  }
  if (named.length > 0) lines.push(`export { ${named.join(', ')} } from ${spec};`);
  return `${lines.join('\n')}\n`;
}

/** The plugin; add it to the tsup config's `plugins` with `format: ['esm', 'cjs']`. */
export function esmWrappers(): Plugin {
  let entries = new Map<string, string[]>();
  return {
    name: 'memcluster-esm-wrappers',
    buildStart() {
      if (this.format === 'esm') entries = new Map();
    },
    renderChunk(_code, chunk) {
      const info = chunk as ChunkInfo;
      if (this.format === 'esm' && info.entryPoint) entries.set(path.resolve(info.path), info.exports ?? []);
    },
    async buildEnd({ writtenFiles }) {
      if (this.format !== 'esm') return;
      for (const file of writtenFiles.map((f) => path.resolve(f.name))) {
        const names = entries.get(file);
        if (names) {
          await writeFile(file, wrapperSource(path.basename(file).replace(/\.js$/, '.cjs'), names));
        } else if (file.endsWith('.js') || file.endsWith('.js.map')) {
          await rm(file, { force: true }); // an ESM chunk, or a map of code that no longer exists
        }
      }
    },
  };
}
