/**
 * A tsup plugin that makes the package ONE runtime copy: the CommonJS build is the implementation,
 * and each ESM entry (`dist/<entry>.js`) becomes a few lines re-exporting it (the pattern pg ships).
 * With two full builds, `require('memcluster').Client !== (await import('memcluster')).Client`, and
 * an error thrown by one copy fails `instanceof` against the other's class.
 *
 * esbuild still builds the ESM files (tsup's `.d.ts` for `import` come from that format); this
 * plugin then rewrites each ESM entry into its wrapper and deletes the ESM chunks and maps. The
 * export names come from esbuild's metafile, so a new entry in tsup.config.ts needs nothing here.
 *
 * The CommonJS files are also rewritten: with `splitting`, tsup turns esbuild's ESM-syntax chunks
 * into CommonJS with sucrase, which also rewrites every `?.`, `??` and class field into helper calls
 * (an array and closures per `?.` on hot paths). Now that ESM users run this code too, it is
 * converted here with the same sucrase transform minus those rewrites (Node 20 runs them natively).
 * sucrase keeps every line in place, so esbuild's source map still holds.
 */
import { createRequire } from 'node:module';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Options } from 'tsup';

type Plugin = NonNullable<Options['plugins']>[number];
type RenderChunk = NonNullable<Plugin['renderChunk']>;
/** What tsup passes to `renderChunk` at run time (its published type omits the metafile fields). */
type ChunkInfo = Parameters<RenderChunk>[1] & { entryPoint?: string; exports?: string[] };

interface Sucrase {
  transform(code: string, options: { transforms: string[]; disableESTransforms: boolean; preserveDynamicImport: boolean; filePath: string }): { code: string };
}
/** tsup's own sucrase (a dependency of tsup, the one its CommonJS splitting uses). */
const sucrase = (): Sucrase => createRequire(createRequire(import.meta.url).resolve('tsup'))('sucrase') as Sucrase;

/** A CommonJS chunk as esbuild produced it (ESM syntax, `.cjs` paths), before tsup's sucrase pass. */
interface RawChunk {
  code: string;
  map: unknown;
  defaultOnly: boolean;
}

/** Rewrites the CommonJS files from esbuild's output, with native syntax kept (see the file comment). */
async function writeCjs(raw: Map<string, RawChunk>, cjsInterop: boolean): Promise<void> {
  const { transform } = sucrase();
  for (const [file, chunk] of raw) {
    // A dynamic import() stays one (Node runs it from CommonJS), so an ESM-only dependency still loads.
    let code = transform(chunk.code, { transforms: ['imports'], disableESTransforms: true, preserveDynamicImport: true, filePath: file }).code;
    // tsup's cjsInterop: an entry whose only export is `default` exports it as `module.exports`.
    if (cjsInterop && chunk.defaultOnly) code += '\nmodule.exports = exports.default;\n';
    if (chunk.map) {
      code += `\n//# sourceMappingURL=${path.basename(file)}.map\n`;
      await writeFile(`${file}.map`, typeof chunk.map === 'string' ? chunk.map : JSON.stringify(chunk.map));
    }
    await writeFile(file, code);
  }
}

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
  let cjs = new Map<string, RawChunk>();
  return {
    name: 'memcluster-esm-wrappers',
    buildStart() {
      if (this.format === 'esm') entries = new Map();
      if (this.format === 'cjs') cjs = new Map();
    },
    // Runs before tsup's own plugins (user plugins come first), so it sees esbuild's output as is.
    renderChunk(code, chunk) {
      const info = chunk as ChunkInfo;
      if (this.format === 'esm' && info.entryPoint) entries.set(path.resolve(info.path), info.exports ?? []);
      if (this.format === 'cjs' && this.splitting && /\.c?js$/.test(info.path)) {
        const defaultOnly = Boolean(info.entryPoint) && info.exports?.length === 1 && info.exports[0] === 'default';
        cjs.set(path.resolve(info.path), { code, map: info.map, defaultOnly });
      }
    },
    async buildEnd({ writtenFiles }) {
      if (this.format === 'cjs') return writeCjs(cjs, Boolean(this.options.cjsInterop));
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
