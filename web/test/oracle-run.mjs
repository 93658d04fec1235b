// Replays the messages of the Go oracle (internal/livetree, js_test.go) with
// src/tree.js and prints what the client renders, for the Go test to compare
// with html/template's output.
//
//   node test/oracle-run.mjs CASES.json
//
// CASES.json is [{name, steps: [{tree, diff, statics, html, want}]}], where
// tree, diff and statics are JSON texts (empty when absent). Each case is one
// fresh client. A step learns its statics, then replaces the tree (tree),
// patches it (diff) or, for html, starts a fresh client (the Go side fell
// back to whole HTML: no tree, no statics) and shows that html. The output
// is [[html after each step] per case], the full render (not the region).
// Any error exits non-zero.

import { readFileSync } from 'node:fs';
import { learn, decode, patch, render } from '../src/tree.js';

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const parse = (text) => (text ? JSON.parse(text) : undefined);

const out = cases.map(({ name, steps }) => {
  let tree = null;
  let statics = new Map();
  return steps.map((step, i) => {
    try {
      if (step.html) {
        tree = null;
        statics = new Map();
        return step.html;
      }
      learn(statics, parse(step.statics));
      if (step.tree) tree = decode(parse(step.tree));
      else if (step.diff) {
        if (!tree) throw new Error('diff without a tree');
        patch(tree, parse(step.diff));
      }
      if (!tree) throw new Error('no tree');
      return render(tree, statics);
    } catch (err) {
      err.message = `${name} step ${i}: ${err.message}`;
      throw err;
    }
  });
});
process.stdout.write(JSON.stringify(out));
