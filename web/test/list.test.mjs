// Live lists (list.js): the operations of an update's L on a real DOM
// (jsdom), the morph keeping a list's items, and the viewport events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';
import { lists, viewport } from '../src/list.js';
import { morph, LIST } from '../src/morph.js';

const page = (html) => new JSDOM('<!DOCTYPE html><body>' + html).window.document;
const ids = (el) => [...el.children].map((c) => c.id).join(' ');
const li = (id, text = id) => `<li id="${id}">${text}</li>`;
// keep is live.js's hold for an update: list containers keep their items.
const keep = (el) => el.hasAttribute(LIST);

test('append, prepend, insert, update, delete and reset, by the items ids', () => {
  const doc = page('<ul id="feed" data-lt-list></ul><p id="other">x</p>');
  const feed = doc.getElementById('feed');
  lists(doc, [['a', 'feed', li('a')], ['a', 'feed', li('b')], ['p', 'feed', li('z')]], keep);
  assert.equal(ids(feed), 'z a b');
  lists(doc, [['i', 'feed', 1, li('m')], ['i', 'feed', 99, li('end')], ['i', 'feed', 0, li('first')]], keep);
  assert.equal(ids(feed), 'first z m a b end');
  // An item the list has is updated in place, where it is: the same node.
  const a = doc.getElementById('a');
  lists(doc, [['u', 'feed', li('a', 'new')], ['a', 'feed', '<li id="b" class="x">b2</li>'], ['u', 'feed', li('gone')]], keep);
  assert.equal(ids(feed), 'first z m a b end');
  assert.equal(doc.getElementById('a'), a);
  assert.equal(a.textContent, 'new');
  assert.equal(doc.getElementById('b').outerHTML, '<li id="b" class="x">b2</li>');
  lists(doc, [['d', 'feed', 'm'], ['d', 'feed', 'nothing'], ['d', 'feed', 'other']], keep);
  assert.equal(ids(feed), 'first z a b end');
  assert.ok(doc.getElementById('other'), 'an element outside the list is not its item');
  lists(doc, [['x', 'feed'], ['a', 'feed', li('c')]], keep);
  assert.equal(ids(feed), 'c');
});

test('operations for what is not a live list, or bad items, change nothing', () => {
  const doc = page('<ul id="plain"><li id="k">k</li></ul><ul id="feed" data-lt-list></ul>');
  lists(doc, [['x', 'plain'], ['a', 'plain', li('n')], ['a', 'nowhere', li('n')], ['a', 'feed', 'text only'], ['x']], keep);
  assert.equal(ids(doc.getElementById('plain')), 'k');
  assert.equal(ids(doc.getElementById('feed')), '');
  lists(doc, undefined, keep);
  lists(doc, false, keep);
});

test('scripts in items never run', () => {
  const dom = new JSDOM('<!DOCTYPE html><body><ul id="feed" data-lt-list></ul>', { runScripts: 'dangerously' });
  const doc = dom.window.document;
  lists(doc, [['a', 'feed', '<li id="s"><script>window.ran = 1</script></li>']], keep);
  assert.ok(doc.getElementById('s'));
  assert.equal(dom.window.ran, undefined);
});

test('a morph keeps a list container`s items when hold names it, and its attributes follow', () => {
  const doc = page('<ul id="feed" data-lt-list class="a"></ul>');
  lists(doc, [['a', 'feed', li('a')], ['a', 'feed', li('b')]], keep);
  const a = doc.getElementById('a');
  // The page as the server renders it has an empty container.
  morph(doc.body, '<h1>t</h1><ul id="feed" data-lt-list class="b"></ul>', keep);
  assert.equal(doc.body.innerHTML, '<h1>t</h1><ul id="feed" data-lt-list="" class="b"><li id="a">a</li><li id="b">b</li></ul>');
  assert.equal(doc.getElementById('a'), a);
  // A render after Mount ran again: the lists are what it shows.
  morph(doc.body, '<ul id="feed" data-lt-list>' + li('m') + '</ul>', () => false);
  assert.equal(ids(doc.getElementById('feed')), 'm');
});

// fakeIO is an IntersectionObserver whose targets the test shows and hides.
function fakeIO() {
  const io = { watched: new Set(), cb: null };
  io.IO = class {
    constructor(cb) {
      io.cb = cb;
    }
    observe(t) {
      io.watched.add(t);
      // As the browser does: the state at once, for each new target.
      if (t.shown) io.cb([{ target: t, isIntersecting: true }]);
    }
    unobserve(t) {
      io.watched.delete(t);
    }
  };
  io.show = (t, on = true) => {
    t.shown = on;
    if (io.watched.has(t)) io.cb([{ target: t, isIntersecting: on }]);
  };
  return io;
}

test('viewport: a list`s last item in view sends the action, one at a time, and again only for a new last item', async () => {
  const doc = page('<ul id="feed" data-lt-list data-lt-viewport-bottom="more" data-lt-viewport-top="less">' + li('a') + li('b') + '</ul>');
  const feed = doc.getElementById('feed');
  const io = fakeIO();
  const sent = [];
  let answer;
  const watch = viewport(doc, io.IO, (el, a) => {
    sent.push([el.id, a]);
    return new Promise((r) => (answer = r));
  });
  watch();
  assert.deepEqual([...io.watched].map((t) => t.id), ['a', 'b']);
  io.show(doc.getElementById('b'));
  assert.deepEqual(sent, [['feed', 'more']]);
  // While it is pending, the first item comes into view: not sent yet.
  io.show(doc.getElementById('a'));
  assert.equal(sent.length, 1);
  // The answer: every watched item is looked at again; a is in view.
  answer();
  await new Promise((r) => setTimeout(r));
  assert.deepEqual(sent, [['feed', 'more'], ['feed', 'less']]);
  io.show(doc.getElementById('a'), false);
  answer();
  await new Promise((r) => setTimeout(r));
  // The list grew: its new last item, in view, asks for more.
  lists(doc, [['a', 'feed', li('c')]], keep);
  doc.getElementById('c').shown = true;
  watch();
  assert.deepEqual(sent.at(-1), ['feed', 'more']);
  answer();
  await new Promise((r) => setTimeout(r));
  // At the end of the list (nothing new), the same last item is not asked again.
  const n = sent.length;
  watch();
  watch();
  assert.equal(sent.length, n);
  // Out of view and back: asked once more.
  io.show(doc.getElementById('c'), false);
  io.show(doc.getElementById('c'));
  assert.equal(sent.length, n + 1);
  // An empty container is watched itself; without the attribute, nothing is.
  feed.replaceChildren();
  watch();
  assert.ok(io.watched.has(feed));
  feed.removeAttribute('data-lt-viewport-bottom');
  feed.removeAttribute('data-lt-viewport-top');
  watch();
  assert.equal(io.watched.size, 0);
});

test('viewport without IntersectionObserver does nothing', () => {
  const doc = page('<ul id="feed" data-lt-viewport-bottom="more"></ul>');
  const watch = viewport(doc, undefined, () => assert.fail('sent'));
  watch();
});

// live.js's part: which morphs keep a list's items, and what L reaches them.
test('the client keeps lists through updates and its own renders, and starts them over after Mount ran again', async () => {
  const { start } = await import('../src/live.js');
  const doc = new EventTarget();
  doc.documentElement = { dataset: {} };
  const tag = { dataset: { ltConn: 'c1', ltSeq: '0' } };
  doc.querySelector = (sel) => (sel === 'script[data-lt-conn]' ? tag : null);
  doc.querySelectorAll = () => [];
  const sources = [];
  const win = Object.assign(new EventTarget(), {
    document: doc,
    location: { href: 'https://ex.com/' },
    CustomEvent,
    EventSource: class extends EventTarget {
      constructor() {
        super();
        sources.push(this);
      }
      close() {}
    },
    fetch() {},
    setTimeout: () => 1,
    clearTimeout() {},
  });
  const box = { hasAttribute: (n) => n === LIST };
  const seen = []; // per morph: does it keep the list's items, and its L
  start(win, (html, hold, L) => seen.push([hold(box), L || null]));
  const S = { 1: ['<!DOCTYPE html><html><body><ul id="feed" data-lt-list>', '</ul></body></html>'] };
  const send = (type, msg) => sources[0].dispatchEvent(Object.assign(new Event(type), { data: JSON.stringify(msg) }));
  const L = [['a', 'feed', '<li id="a">a</li>']];
  send('render', { c: 'c1', s: 1, r: { f: 1, v: [''] }, S }); // the page's first render
  send('update', { c: 'c1', s: 2, d: {}, L });
  send('render', { c: 'c1', s: 5, r: { f: 1, v: [''] } }); // a reconnect, far behind
  send('render', { c: 'c1', s: 6, r: { f: 1, v: ['<li id="m">m</li>'] }, L: [['x']] }); // Mount ran again
  send('render', { c: 'c2', o: 'c1', s: 1, r: { f: 1, v: [''] }, S }); // a new connection
  assert.deepEqual(seen, [
    [true, null],
    [true, L],
    [true, null],
    [false, null],
    [false, null],
  ]);
});
