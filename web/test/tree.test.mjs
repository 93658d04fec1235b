// Unit tests of the tree code. That it does exactly what its Go twin does on
// the whole oracle corpus is checked by internal/livetree/js_test.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learn, decode, patch, render, region } from '../src/tree.js';

// A page: fragment 1 is the document with a title value and a list of
// fragment-2 items; fragment 3 is a conditional inside each item.
const S = {
  1: ['<html><head><title>', '</title></head><body><ul>', '</ul></body></html>'],
  2: ['<li id="', '">', '', '</li>'],
  3: [' <b>', '</b>'],
};
const item = (k, name, bold) => ({ f: 2, k, v: [k, name, bold === undefined ? [] : [{ f: 3, v: [bold] }]] });
const page = (title, ...items) => ({ f: 1, v: [title, items] });
const cache = () => {
  const c = new Map();
  learn(c, S);
  return c;
};
const html = (t, c = cache()) => render(t, c);
const lis = (t) => html(t).match(/<ul>(.*)<\/ul>/)[1];

test('learn keeps statics by id, adding to what it has', () => {
  const c = new Map();
  learn(c, undefined);
  learn(c, null);
  assert.equal(c.size, 0);
  learn(c, { 1: ['a', 'b'] });
  learn(c, { 2: ['c'], 1: ['x', 'y'] });
  assert.deepEqual([...c], [['1', ['x', 'y']], ['2', ['c']]]);
});

test('learn refuses statics that are not lists of strings, learning none of them', () => {
  const c = new Map();
  for (const bad of [['a'], 'a', 5, { 1: ['a'], 2: [1] }, { 1: 'ab' }, { 1: { 0: 'a' } }]) {
    assert.throws(() => learn(c, bad), /statics/);
  }
  assert.equal(c.size, 0);
  learn(c, { ['__proto__']: ['p', 'q'] }); // keys are data, not properties
  assert.deepEqual(c.get('__proto__'), ['p', 'q']);
});

test('decode and render interleave statics and slots', () => {
  const t = decode(page('T & U', item('a', 'milk', 'new'), item('b', 'eggs')));
  assert.deepEqual(t.slots[1][0], {
    id: '2',
    key: 'a',
    slots: ['a', 'milk', [{ id: '3', key: '', slots: ['new'] }]],
  });
  assert.equal(
    html(t),
    '<html><head><title>T & U</title></head><body><ul>' +
      '<li id="a">milk <b>new</b></li><li id="b">eggs</li></ul></body></html>',
  );
});

test('decode defaults as the Go twin does, and refuses what is not a tree', () => {
  assert.deepEqual(decode({}), { id: '0', key: '', slots: [] });
  assert.deepEqual(decode({ f: 7.9, k: 3, v: 'x' }), { id: '7', key: '', slots: [] });
  assert.deepEqual(decode({ f: -0.5, v: [] }), { id: '0', key: '', slots: [] });
  for (const bad of [null, 'x', [], [{ f: 1 }], 3]) assert.throws(() => decode(bad), /bad fragment/);
  assert.throws(() => decode({ f: 1, v: [5] }), /bad slot/);
  assert.throws(() => decode({ f: 1, v: [[null]] }), /bad fragment/);
});

test('render needs n+1 statics for n slots', () => {
  assert.throws(() => html(decode({ f: 9, v: [] })), /bad statics 9/);
  assert.throws(() => html(decode({ f: 1, v: ['only one slot'] })), /bad statics 1/);
  assert.throws(() => html(decode(page('t', { f: 3, v: [] }))), /bad statics 3/); // nested fragments too
  const c = new Map([['5', ['just static']]]);
  assert.equal(render(decode({ f: 5 }), c), 'just static');
});

test('patch sets values and replaces slot content', () => {
  const t = decode(page('a', item('x', 'one')));
  patch(t, { 0: 'b' });
  assert.equal(t.slots[0], 'b');
  patch(t, { 1: [item('y', 'two', 'B')] });
  assert.equal(lis(t), '<li id="y">two <b>B</b></li>');
  patch(t, { '+1': [] }); // a slot index reads as Go's strconv.Atoi reads it
  assert.equal(lis(t), '');
  assert.match(html(t), /<title>b<\/title>/);
});

test('patch with j changes fragments in place by position', () => {
  const t = decode(page('a', item('x', 'one', 'B'), item('y', 'two', 'C')));
  patch(t, { 1: { j: { 1: { 1: 'deux', 2: { j: { 0: { 0: 'D' } } } }, 0: { 1: 'un' } } } });
  assert.equal(lis(t), '<li id="x">un <b>B</b></li><li id="y">deux <b>D</b></li>');
  assert.throws(() => patch(t, { 1: { j: { 2: { 1: 'z' } } } }), /no position 2/);
  assert.throws(() => patch(t, { 1: { j: { '-1': { 1: 'z' } } } }), /no position -1/);
  assert.throws(() => patch(t, { 0: { j: {} } }), /bad slot 0/);
});

test('patch refuses slots out of range and changes of the wrong type', () => {
  const t = decode(page('a'));
  for (const k of ['2', '-1', 'x', '1.0', ' 1', '']) {
    assert.throws(() => patch(t, { [k]: 'v' }), /no slot/, k);
  }
  assert.throws(() => patch(t, { 0: 5 }), /bad slot 0/);
  assert.throws(() => patch(t, { 0: null }), /bad slot 0/);
  assert.throws(() => patch(t, ['a']), /bad diff/);
  assert.throws(() => patch(t, { 1: [5] }), /bad fragment/);
});

// list runs ops on items with keys keys (value: the key in upper case) and
// returns the keys and values after, as "key=value ...".
function list(keys, ops) {
  const t = decode(page('t', ...keys.map((k) => item(k, k.toUpperCase()))));
  patch(t, { 1: { l: ops } });
  return t.slots[1].map((f) => `${f.key}=${f.slots[1]}`).join(' ');
}

test('list ops: remove, move, insert, update', () => {
  assert.equal(list(['a', 'b', 'c'], [['r', 'b']]), 'a=A c=C');
  assert.equal(list(['a', 'b', 'c'], [['m', 'c', 0]]), 'c=C a=A b=B');
  assert.equal(list(['a', 'b'], [['i', 1, item('n', 'new')]]), 'a=A n=new b=B');
  assert.equal(list([], [['i', 0, item('n', 'new')]]), 'n=new');
  assert.equal(list(['a', 'b'], [['u', 'b', { 1: 'bee' }]]), 'a=A b=bee');
  assert.equal(list(['a', 'b', 'c'], []), 'a=A b=B c=C');
});

test('list ops apply in three passes: removes and take-outs, then placements in order, then updates', () => {
  // Old a b c d e, new: e n a c (b, d removed; e moved to 0; n new at 1).
  // Positions count in the list being built: after pass 1 it is [a c].
  const ops = [['r', 'b'], ['r', 'd'], ['m', 'e', 0], ['i', 1, item('n', 'N')], ['u', 'e', { 1: 'E2' }], ['u', 'c', { 1: 'C2' }]];
  assert.equal(list(['a', 'b', 'c', 'd', 'e'], ops), 'e=E2 n=N a=A c=C2');
  // The op order of placements matters, not where removes or updates sit.
  const shuffled = [['u', 'e', { 1: 'E2' }], ['m', 'e', 0], ['r', 'd'], ['i', 1, item('n', 'N')], ['u', 'c', { 1: 'C2' }], ['r', 'b']];
  assert.equal(list(['a', 'b', 'c', 'd', 'e'], shuffled), 'e=E2 n=N a=A c=C2');
  // A moved item keeps its content, and an update can reach an inserted item.
  assert.equal(list(['a', 'b'], [['m', 'b', 0], ['i', 2, item('z', 'z')], ['u', 'z', { 1: 'Z' }]]), 'b=B a=A z=Z');
});

test('list ops refuse what does not fit the list', () => {
  const bad = (ops, re) => assert.throws(() => list(['a', 'b'], ops), re, JSON.stringify(ops));
  bad([['r']], /bad list op/); // too short
  bad(['r'], /bad list op/);
  bad([['i', 0]], /bad list op/); // without a tree
  bad([['i', 3, item('n', 'N')]], /no list position/); // past the end
  bad([['i', -1, item('n', 'N')]], /no list position/);
  bad([['m', 'zz', 0]], /no list position/); // no such item to move
  bad([['m', 'a']], /no list position/); // no position: -1
  bad([['m', 'a', 2]], /no list position/); // past the end once taken out
  bad([['u', 'zz', { 1: 'x' }]], /no list item/);
  bad([['u', 'a', { 5: 'x' }]], /no slot 5/);
  bad([['r', 'a'], ['u', 'a', { 1: 'x' }]], /no list item/); // removed, then updated
  bad([['i', 0, 'not a tree']], /bad fragment/);
  // Unknown ops and short updates are skipped, as the Go twin does.
  assert.equal(list(['a', 'b'], [['x', 'a'], ['u', 'a']]), 'a=A b=B');
});

test('patch leaves the content it replaces alone', () => {
  const t = decode(page('t', item('a', 'A'), item('b', 'B')));
  const before = t.slots[1];
  patch(t, { 1: { l: [['r', 'a']] } });
  assert.equal(before.length, 2);
  assert.equal(t.slots[1].length, 1);
});

// From lt's TestSplitPageAndWriteDocument, and more.
test('region cuts out the body content as the server does', () => {
  for (const [page, want] of [
    ['<html><head><title>t</title></head><body class="a"><p>x</p></body></html>', '<p>x</p>'],
    ['<HTML><HEAD></HEAD><BODY><p>x</p></BODY></HTML>', '<p>x</p>'],
    ['<!DOCTYPE html><body><p>x</p></body>', '<p>x</p>'],
    ['<head></head><bodyguard></bodyguard><body>y</body>', 'y'],
    ['<p>only a fragment</p>', '<p>only a fragment</p>'],
    ['<head></head><body><p>x</p>', '<p>x</p>'],
    ['<body\n data-x="1">a</body>b</Body >', 'a</body>b'], // to the last </body
    ['<body/>a', 'a'],
    ['<body\tclass=x>a', 'a'],
    ['<body', '<body'], // no '>': all of it
    ['<bodyx>a</body>', '<bodyx>a</body>'], // no body tag
    ['<body>', ''],
    ['<body></body>', ''],
    ['x</body><body>y', 'y'], // a </body before the region does not end it
    ['<body\u00a0>a</body>', '<body\u00a0>a</body>'], // not HTML whitespace
    ['<bodY>ſ İ K</BODY>', 'ſ İ K'], // non-ASCII letters do not shift positions
    ['İİİ<body>x</body>', 'x'],
    ['', ''],
  ]) {
    assert.equal(region(page), want, JSON.stringify(page));
  }
});
