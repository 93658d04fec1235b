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
  logLevel: 'warning',
});
