import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gate, kind, MAX_PENDING } from '../src/gate.js';

const TREE = { f: 1, v: [] };
const r = (c, s) => ({ c, s, r: TREE });
const d = (c, s) => ({ c, s, d: { 0: String(s) } });
const h = (c, s, html = `<p>${s}</p>`) => ({ c, s, h: html });
const st = (seq, tree = TREE) => ({ conn: 'a', seq, tree });

test('kind tells what a message carries', () => {
  assert.equal(kind(r('a', 1)), 'r');
  assert.equal(kind(d('a', 1)), 'd');
  assert.equal(kind(h('a', 1)), 'h');
  assert.equal(kind(h('a', 1, '')), 'h'); // an empty body is html
  assert.equal(kind({ c: 'a', s: 1 }), null);
  assert.equal(kind({ c: 'a', s: 1, r: null, d: null, h: 5 }), null);
  assert.equal(kind({ r: 'not a tree' }), 'r'); // decoding it will tell
});

test('trees and html apply when newer: gaps are fine, stale ones are dropped', () => {
  for (const m of [r, h]) {
    assert.equal(gate(st(2), m('a', 3), false), 'apply');
    assert.equal(gate(st(2), m('a', 9), false), 'apply'); // a whole page: no need for 3..8
    assert.equal(gate(st(2), m('a', 2), false), null); // what the page shows
    assert.equal(gate(st(2), m('a', 1), false), null); // late
    assert.equal(gate(st(2, null), m('a', 3), false), 'apply'); // no tree needed
  }
});

test('a diff applies only on top of the seq right before it', () => {
  assert.equal(gate(st(2), d('a', 3), false), 'apply');
  assert.equal(gate(st(2), d('a', 2), false), null); // already applied
  assert.equal(gate(st(2), d('a', 1), false), null);
  assert.equal(gate(st(2), d('a', 4), false), 'hold'); // 3 is still to come
  assert.equal(gate(st(2), d('a', 2 + MAX_PENDING + 5), false), 'hold'); // the caller bounds what it holds
});

test('a diff the client has no tree for asks for a render', () => {
  assert.equal(gate(st(2, null), d('a', 3), false), 'resync');
  assert.equal(gate(st(2, null), d('a', 2), false), null); // stale anyway
  assert.equal(gate(st(2, null), d('a', 5), false), 'hold'); // a tree may come at 3 or 4
});

test('messages of another connection are ignored, whatever they carry', () => {
  for (const m of [r, d, h]) {
    assert.equal(gate(st(1), m('b', 2), false), null);
    assert.equal(gate(st(1), m(undefined, 2), false), null);
  }
});

test('a render of ours always applies a tree or html, even an older one', () => {
  assert.equal(gate(st(2), r('a', 2), true), 'apply'); // not newer
  assert.equal(gate(st(40), h('a', 1), true), 'apply'); // a multi-instance resync may go back
  assert.equal(gate(st(2, null), r('a', 1), true), 'apply');
  assert.equal(gate(st(2), d('a', 3), true), null); // a render is never a diff
  assert.equal(gate(st(2), { c: 'a', s: 3 }, true), null); // nor empty
  assert.equal(gate(st(2), { s: 3, r: TREE }, true), null); // and must name its conn
  assert.equal(gate(st(2), { s: 3, o: 'a', r: TREE }, true), null); // even when replacing ours
});

test('a render of a connection that replaces ours applies; other renders do not', () => {
  // The server restarted (or ours expired): a new conn, seq starts over.
  assert.equal(gate(st(40), { ...r('b', 1), o: 'a' }, true), 'apply');
  assert.equal(gate(st(40), { ...h('b', 1), o: 'a' }, true), 'apply');
  // The render of another tab sharing the stream, new or replaced.
  assert.equal(gate(st(40), r('b', 1), true), null);
  assert.equal(gate(st(40), h('b', 41), true), null);
  assert.equal(gate(st(40), { ...r('b', 1), o: 'x' }, true), null);
  // o only counts on a render.
  assert.equal(gate(st(40), { ...r('b', 41), o: 'a' }, false), null);
});

test('messages without content or seq change nothing', () => {
  const s = st(1);
  assert.equal(gate(s, { c: 'a', s: 2 }, false), null); // POST answer, nothing changed
  assert.equal(gate(s, { c: 'a', s: 2, error: 'boom' }, false), null);
  assert.equal(gate(s, { c: 'a', h: 'x' }, false), null);
  assert.equal(gate(s, { c: 'a', s: '2', h: 'x' }, false), null);
  assert.equal(gate(s, { error: 'boom' }, false), null);
  assert.equal(gate(s, null, true), null);
  assert.equal(gate(s, 'text', false), null);
  assert.equal(gate(s, 5, true), null);
});

test('gate does not mutate the state or the message', () => {
  const s = Object.freeze({ conn: 'a', seq: 1, tree: Object.freeze({}) });
  const m = Object.freeze(d('a', 2));
  assert.equal(gate(s, m, false), 'apply');
  assert.equal(gate(s, Object.freeze({ ...h('z', 0), o: 'a' }), true), 'apply');
  assert.deepEqual(s, { conn: 'a', seq: 1, tree: {} });
});
