// Builds the browser bundle. The one place the esbuild options live: used by
// `npm run build` and by the Go test that checks dist/ is up to date.
//
//   node build.mjs [--outfile PATH]   (default dist/livesse.min.js)

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const dir = fileURLToPath(new URL('.', import.meta.url));
const { values } = parseArgs({
  options: { outfile: { type: 'string', default: 'dist/livesse.min.js' } },
});

await build({
  absWorkingDir: dir,
  entryPoints: ['src/client.js'],
  outfile: values.outfile,
  bundle: true,
  format: 'iife',
  minify: true,
  target: 'es2020',
  sourcemap: false,
  legalComments: 'none',
  // Property names private to src/, shortened in the bundle only (the node
  // tests import src/ as it is). Each must be ours alone: never a DOM,
  // builtin, wire (channel messages, JSON) or public (livesse.*, hook
  // instances) name, in any file, since esbuild renames every `.name`.
  mangleProps: /^(slots|tree|busy|sig|gone|job|fire|multipart|schedule|blurred|tell|sync|li)$/,
  logLevel: 'warning',
});
