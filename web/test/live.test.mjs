// Drives live.js (the wiring) with small fakes of the browser objects it uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, PROBE_MS } from '../src/live.js';

const tick = () => new Promise((r) => setImmediate(r));

// ev returns a cancelable event whose read-only fields (target...) are props.
function ev(type, props) {
  const e = new Event(type, { cancelable: true });
  for (const [k, value] of Object.entries(props)) Object.defineProperty(e, k, { value });
  return e;
}

class FakeEl {
  constructor(tag, attrs = {}, props = {}) {
    this.tag = tag;
    this.attrs = new Map(Object.entries(attrs));
    Object.assign(this, props);
  }
  getAttribute(n) {
    return this.attrs.has(n) ? this.attrs.get(n) : null;
  }
  setAttribute(n, v) {
    this.attrs.set(n, String(v));
  }
  removeAttribute(n) {
    this.attrs.delete(n);
  }
  hasAttribute(n) {
    return this.attrs.has(n);
  }
  closest(sel) {
    assert.equal(sel, 'button[name]');
    for (let el = this; el; el = el.parent) if (el.tag === 'button' && el.attrs.has('name')) return el;
    return null;
  }
}

// page builds a fake window and starts the client on it; opts.noEventSource
// drops EventSource, opts.twice starts a second client on the same page.
function page(opts = {}) {
  const sources = [];
  class FakeEventSource extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.closed = false;
      sources.push(this);
    }
    close() {
      this.closed = true;
    }
    // emit dispatches an event whose data is a string as is, else as JSON.
    emit(type, data) {
      assert.ok(!this.closed, 'event on a closed EventSource');
      const raw = typeof data === 'string' ? data : JSON.stringify(data);
      this.dispatchEvent(Object.assign(new Event(type), { data: raw }));
    }
  }
  const doc = new EventTarget();
  doc.documentElement = { dataset: {} };
  doc.baseURI = 'https://ex.com/room?x=1';
  const tag = { dataset: { ltConn: 'c1', ltSeq: '3' } };
  doc.querySelector = (sel) => (sel === 'script[data-lt-conn]' ? tag : null);

  const timers = [];
  const fetches = [];
  const win = Object.assign(new EventTarget(), {
    document: doc,
    location: {
      href: 'https://ex.com/room?x=1',
      assign(u) {
        win.assigned = u;
      },
    },
    CustomEvent,
    EventSource: opts.noEventSource ? undefined : FakeEventSource,
    // FormData(form, submitter) as a browser builds it from the fake form.
    FormData: class extends FormData {
      constructor(form, submitter) {
        super();
        for (const [k, v] of form.fields) this.append(k, v);
        if (submitter && submitter.name) this.append(submitter.name, submitter.value);
      }
    },
    fetch(url, init) {
      return new Promise((resolve, reject) => fetches.push({ url, init, resolve, reject }));
    },
    setTimeout(fn, ms) {
      timers.push({ fn, ms, cleared: false });
      return timers.length;
    },
    clearTimeout(id) {
      if (id) timers[id - 1].cleared = true;
    },
  });
  const morphs = [];
  const events = [];
  for (const t of ['lt:update', 'lt:error']) doc.addEventListener(t, (e) => events.push([t, e.detail]));
  start(win, (html) => morphs.push(html));
  if (opts.twice) start(win, (html) => morphs.push('second client: ' + html));
  const open = () => sources.filter((s) => !s.closed);
  const status = () => doc.documentElement.dataset.ltStatus;
  return { win, doc, sources, open, timers, fetches, morphs, events, status };
}

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

function quiet(t) {
  t.mock.method(console, 'warn', () => {});
}

// The page's template: one fragment, a document with a value in <p>. Its
// statics come with the first render of a connection.
const S = { 1: ['<!DOCTYPE html><html><head></head><body><p>', '</p></body></html>'] };
const r = (c, s, v, withStatics = true) => ({ c, s, r: { f: 1, v: [v] }, ...(withStatics && { S }) });
// o marks a render of the connection that replaces conn o.
const o = (msg, old) => ({ ...msg, o: old });
const d = (c, s, v) => ({ c, s, d: { 0: v } });
const h = (c, s, html) => ({ c, s, h: html });
const p = (v) => `<p>${v}</p>`; // what the body becomes
const updates = (events) => events.filter(([t]) => t === 'lt:update').map(([, e]) => e.seq);

// online starts a page whose stream has delivered the render of value v at seq.
function online(v = 'zero', seq = 3) {
  const pg = page();
  pg.sources[0].emit('open');
  pg.sources[0].emit('render', r('c1', seq, v));
  pg.morphs.length = 0;
  pg.events.length = 0;
  return pg;
}

test('start connects with the conn from the script tag, asking for a render', () => {
  const pg = page();
  assert.equal(pg.status(), 'connecting');
  assert.equal(pg.sources.length, 1);
  // The page came from a plain GET: no tree yet, so no _lt_seq.
  assert.equal(pg.sources[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=');
  assert.deepEqual([pg.win.livesse.conn, pg.win.livesse.seq, pg.win.livesse.status], ['c1', 3, 'connecting']);
  pg.sources[0].emit('open');
  assert.equal(pg.status(), 'online');
  assert.equal(pg.win.livesse.status, 'online');
  assert.throws(() => {
    pg.win.livesse.seq = 99;
  });
  assert.equal(pg.win.livesse.seq, 3);
});

test('does nothing without EventSource', () => {
  const pg = page({ noEventSource: true });
  assert.equal(pg.win.livesse, undefined);
  assert.equal(pg.status(), undefined);
});

test('starting twice runs one client', () => {
  const pg = page({ twice: true });
  assert.equal(pg.sources.length, 1);
  pg.sources[0].emit('render', r('c1', 4, 'four'));
  assert.deepEqual(pg.morphs, [p('four')]);
});

test('the first render dispatches the events it carries, once the page shows it', () => {
  const pg = page();
  const seen = [];
  pg.doc.addEventListener('hello', (e) => seen.push([e.detail, pg.morphs.length]));
  pg.sources[0].emit('render', { ...r('c1', 3, 'three'), e: [['hello', 1], ['hello', 2]] });
  assert.deepEqual(seen, [[1, 1], [2, 1]]); // in order, after the morph
  pg.sources[0].emit('render', { ...r('c1', 3, 'three'), e: [['hello', 3]] }); // a render again: applied, dispatched
  assert.deepEqual(seen.map(([d]) => d), [1, 2, 3]);
});

test('the document takes the title the tree renders, when it changed (a patch to another page of a kind)', () => {
  const pg = page();
  const sets = [];
  pg.doc.createElement = () => ({ set innerHTML(v) { this.value = v.replace(/&amp;/g, '&'); } });
  Object.defineProperty(pg.doc, 'title', { set: (v) => sets.push(v), get: () => sets.at(-1) });
  const T = { 1: ['<!DOCTYPE html><html><head><title>', '</title></head><body><p>', '</p></body></html>'] };
  pg.sources[0].emit('render', { c: 'c1', s: 3, r: { f: 1, v: ['Item 1 &amp; co', 'one'] }, S: T });
  pg.sources[0].emit('update', { c: 'c1', s: 4, d: { 1: 'still one' } }); // the body only
  pg.sources[0].emit('update', { c: 'c1', s: 5, d: { 0: 'Item 2', 1: 'two' } });
  assert.deepEqual(pg.morphs, [p('one'), p('still one'), p('two')]);
  assert.deepEqual(sets, ['Item 1 & co', 'Item 2']); // decoded, and set only when it changed
});

test('a render sets the tree and morphs the body; diffs follow in order', () => {
  const pg = page();
  const es = pg.sources[0];
  es.emit('render', r('c1', 3, 'three'));
  es.emit('update', d('c1', 4, 'four'));
  es.emit('update', d('c1', 4, 'four again')); // the same seq twice
  es.emit('update', d('c1', 3, 'old'));
  es.emit('update', d('zz', 5, 'other conn'));
  es.emit('update', r('c1', 6, 'six', false)); // a tree: no need for 5; statics known
  es.emit('update', d('c1', 7, 'seven'));
  assert.deepEqual(pg.morphs, [p('three'), p('four'), p('six'), p('seven')]);
  assert.deepEqual(updates(pg.events), [3, 4, 6, 7]);
  assert.deepEqual(pg.events.length, 4);
  assert.deepEqual([pg.win.livesse.conn, pg.win.livesse.seq], ['c1', 7]);
});

test('a render of ours always applies: a replacing conn, an older seq', () => {
  const pg = online('a', 40);
  const es = pg.sources[0];
  es.emit('render', r('c7', 1, 'a render of another tab'));
  es.emit('render', o(r('c8', 1, 'another tab, replaced'), 'c6'));
  es.emit('render', o(r('c2', 1, 'reset'), 'c1')); // the server restarted
  es.emit('update', d('c1', 41, 'straggler of the old conn'));
  es.emit('update', d('c2', 2, 'two'));
  es.emit('render', r('c2', 2, 'again', false)); // not newer, still applied
  assert.deepEqual(pg.morphs, [p('reset'), p('two'), p('again')]);
  assert.deepEqual(updates(pg.events), [1, 2, 2]);
  assert.deepEqual([pg.win.livesse.conn, pg.win.livesse.seq], ['c2', 2]);
});

test('diffs that come early wait for the ones before them', () => {
  const pg = online('three', 3);
  const es = pg.sources[0];
  es.emit('update', d('c1', 6, 'six'));
  es.emit('update', d('c1', 5, 'five'));
  es.emit('update', d('c1', 8, 'eight')); // 7 never comes
  assert.deepEqual(pg.morphs, []);
  assert.equal(pg.win.livesse.seq, 3);
  es.emit('update', d('c1', 4, 'four'));
  assert.deepEqual(pg.morphs, [p('four'), p('five'), p('six')]);
  assert.deepEqual(updates(pg.events), [4, 5, 6]);
  // A tree at 9 passes over 7 and 8; a held diff older than it is dropped.
  es.emit('update', r('c1', 9, 'nine', false));
  es.emit('update', d('c1', 10, 'ten'));
  assert.deepEqual(pg.morphs.slice(3), [p('nine'), p('ten')]);
  assert.equal(pg.win.livesse.seq, 10);
});

test('held diffs of an old connection are dropped by a render of a new one', () => {
  const pg = online('three', 3);
  const es = pg.sources[0];
  for (let s = 5; s < 5 + 64; s++) es.emit('update', d('c1', s, 'old conn'));
  es.emit('render', o(r('c2', 1, 'new conn'), 'c1')); // its seqs start over
  // Had they been kept, holding one more would be one too many.
  es.emit('update', d('c2', 3, 'three'));
  assert.equal(pg.sources.length, 1);
  es.emit('update', d('c2', 2, 'two'));
  assert.deepEqual(pg.morphs, [p('new conn'), p('two'), p('three')]);
  assert.equal(pg.win.livesse.seq, 3);
});

test('statics are kept per connection and forgotten with it', (t) => {
  quiet(t);
  const pg = online('a', 3);
  pg.sources[0].emit('render', r('c1', 4, 'same conn', false));
  assert.deepEqual(pg.morphs, [p('same conn')]);
  pg.sources[0].emit('render', o(r('c2', 1, 'new conn, no statics', false), 'c1'));
  assert.deepEqual(pg.morphs, [p('same conn')]);
  assert.deepEqual(pg.events.at(-1), ['lt:error', { status: 0, message: 'bad render: bad statics 1' }]);
  assert.equal(pg.win.livesse.conn, 'c2');
});

test('html replaces the body and drops the tree; a diff then gets a fresh render', () => {
  const pg = online('three', 3);
  pg.sources[0].emit('update', h('c1', 4, '<p>html</p>'));
  assert.deepEqual(pg.morphs, ['<p>html</p>']);
  pg.sources[0].emit('update', d('c1', 5, 'five')); // no tree to patch
  assert.deepEqual(pg.morphs, ['<p>html</p>']);
  assert.ok(pg.sources[0].closed);
  assert.equal(pg.open().length, 1);
  assert.equal(pg.open()[0].url, '/room?x=1&_lt_conn=c1&_lt_seq='); // no seq: a render comes
  assert.equal(pg.win.livesse.seq, 4);
  // More diffs before that render do not reconnect again.
  pg.open()[0].emit('update', d('c1', 5, 'five'));
  assert.equal(pg.sources.length, 2);
  pg.open()[0].emit('render', r('c1', 5, 'five'));
  pg.open()[0].emit('update', d('c1', 6, 'six'));
  assert.deepEqual(pg.morphs, ['<p>html</p>', p('five'), p('six')]);
  assert.deepEqual(updates(pg.events), [4, 5, 6]);
  assert.deepEqual(pg.events.length, 3); // no error
  // With a tree again, reconnects resume at the seq reached.
  pg.open()[0].emit('error');
  pg.timers.at(-1).fn();
  assert.equal(pg.open()[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=6');
});

test('a render can be html, then diffs reconnect for a tree', () => {
  const pg = page();
  pg.sources[0].emit('render', h('c1', 3, '<p>fallback</p>'));
  assert.deepEqual(pg.morphs, ['<p>fallback</p>']);
  pg.sources[0].emit('update', d('c1', 4, 'four'));
  assert.equal(pg.sources.length, 2);
  assert.equal(pg.sources[1].url, '/room?x=1&_lt_conn=c1&_lt_seq=');
});

test('a diff that does not fit warns, drops the tree and reconnects for a render', (t) => {
  quiet(t);
  const pg = online('three', 3);
  pg.sources[0].emit('update', { c: 'c1', s: 4, d: { 7: 'no such slot' } });
  assert.deepEqual(pg.morphs, []);
  assert.deepEqual(pg.events, [['lt:error', { status: 0, message: 'bad update: no slot 7' }]]);
  assert.equal(console.warn.mock.callCount(), 1);
  assert.ok(pg.sources[0].closed);
  assert.equal(pg.open()[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=');
  assert.equal(pg.win.livesse.seq, 3);
  // The good diff at 4 from a POST response: still no tree, no second reconnect.
  pg.open()[0].emit('update', d('c1', 4, 'four'));
  assert.equal(pg.sources.length, 2);
  assert.deepEqual(pg.morphs, []);
  pg.open()[0].emit('render', r('c1', 4, 'four', false));
  assert.deepEqual(pg.morphs, [p('four')]);
});

test('missing statics and bad trees are errors too', (t) => {
  quiet(t);
  const pg = online('three', 3);
  pg.sources[0].emit('update', { c: 'c1', s: 4, r: { f: 2, v: [] } }); // fragment 2: statics never sent
  pg.open()[0].emit('render', { c: 'c1', s: 4, r: 'not a tree' });
  pg.open()[0].emit('render', { c: 'c1', s: 4, r: { f: 1, v: ['x'] }, S: ['not statics'] });
  assert.deepEqual(pg.morphs, []);
  assert.deepEqual(
    pg.events.map(([, e]) => e.message),
    [
      'bad update: bad statics 2',
      'bad render: bad fragment',
      'bad render: bad statics',
    ],
  );
  // One reconnect for the first; a broken render does not make the client
  // hammer the server: it waits for the next message.
  assert.equal(pg.sources.length, 2);
  pg.open()[0].emit('update', r('c1', 5, 'five'));
  assert.deepEqual(pg.morphs, [p('five')]);
});

test('before the first render, diffs are dropped and html or trees apply', () => {
  const pg = page();
  pg.sources[0].emit('update', d('c1', 4, 'four')); // e.g. a POST answer that beat the render
  assert.deepEqual(pg.morphs, []);
  assert.equal(pg.sources.length, 1); // the stream was opened for a render: no reconnect
  pg.sources[0].emit('update', h('c1', 5, '<p>five</p>'));
  pg.sources[0].emit('update', r('c1', 6, 'six'));
  assert.deepEqual(pg.morphs, ['<p>five</p>', p('six')]);
});

test('too many held diffs make the client start over from a render', () => {
  const pg = online('three', 3);
  const es = pg.sources[0];
  es.emit('update', d('c1', 5, 'five'));
  es.emit('update', r('c1', 5, 'five', false)); // the held diff is stale now, and forgotten
  assert.deepEqual(pg.morphs, [p('five')]);
  for (let s = 7; s < 7 + 64; s++) es.emit('update', d('c1', s, String(s)));
  assert.equal(pg.sources.length, 1); // 64 held
  es.emit('update', d('c1', 7, 'the same again')); // already held
  assert.equal(pg.sources.length, 1);
  es.emit('update', d('c1', 71, 'one too many'));
  assert.ok(es.closed);
  assert.equal(pg.open()[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=');
  pg.open()[0].emit('update', d('c1', 6, 'six')); // the held ones are gone, so is the tree
  assert.deepEqual(pg.morphs, [p('five')]);
  assert.equal(pg.sources.length, 2);
  pg.open()[0].emit('render', r('c1', 71, 'seventy-one'));
  assert.deepEqual(pg.morphs, [p('five'), p('seventy-one')]);
});

test('errors reconnect one EventSource at a time with growing backoff', (t) => {
  t.mock.method(Math, 'random', () => 0.999);
  const pg = page();
  // Before any render, reconnects still ask for one.
  pg.sources[0].emit('error');
  pg.timers.at(-1).fn();
  assert.equal(pg.open()[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=');
  pg.open()[0].emit('render', r('c1', 7, 'seven'));
  for (const ceil of [1000, 2000, 4000]) {
    const es = pg.open()[0];
    es.emit('error');
    assert.ok(es.closed);
    assert.equal(pg.open().length, 0);
    assert.equal(pg.status(), 'offline');
    const timer = pg.timers.at(-1);
    assert.ok(timer.ms < ceil && timer.ms > ceil * 0.99, `${timer.ms} vs ${ceil}`);
    timer.fn();
    assert.equal(pg.status(), 'connecting');
    assert.equal(pg.open().length, 1);
    assert.equal(pg.open()[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=7');
  }
  // A successful open resets the backoff.
  pg.open()[0].emit('open');
  pg.open()[0].emit('error');
  assert.ok(pg.timers.at(-1).ms < 500);
  assert.equal(pg.sources.length, 5);
});

test('a click on a button outside forms posts the action, busy until handled', async () => {
  const pg = online('three', 3);
  const button = new FakeEl('button', { name: 'inc' }, { name: 'inc', value: '2', form: null });
  const icon = new FakeEl('span', {}, { parent: button });
  pg.doc.dispatchEvent(ev('click', { target: icon }));
  assert.equal(pg.fetches.length, 1);
  const { url, init } = pg.fetches[0];
  assert.equal(url, 'https://ex.com/room?x=1');
  assert.equal(init.method, 'POST');
  assert.equal(init.credentials, 'same-origin');
  assert.deepEqual(init.headers, { Accept: 'application/json' });
  assert.equal(init.body.toString(), '_lt_action=inc&inc=2&_lt_conn=c1');
  assert.equal(button.getAttribute('aria-busy'), 'true');
  assert.ok(button.hasAttribute('data-lt-busy'));
  pg.fetches[0].resolve(json(200, d('c1', 4, 'after click')));
  await tick();
  assert.deepEqual(pg.morphs, [p('after click')]);
  assert.ok(!button.hasAttribute('aria-busy') && !button.hasAttribute('data-lt-busy'));
  // The same update from the stream is not applied twice.
  pg.sources[0].emit('update', d('c1', 4, 'after click'));
  assert.equal(pg.morphs.length, 1);
});

test('a POST answer ahead of the stream waits for it', async () => {
  const pg = online('three', 3);
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  pg.doc.dispatchEvent(ev('click', { target: b }));
  pg.fetches[0].resolve(json(200, d('c1', 5, 'mine')));
  await tick();
  assert.deepEqual(pg.morphs, []);
  assert.ok(!b.hasAttribute('data-lt-busy')); // handled, even if held
  pg.sources[0].emit('update', d('c1', 4, 'theirs'));
  pg.sources[0].emit('update', d('c1', 5, 'mine'));
  assert.deepEqual(pg.morphs, [p('theirs'), p('mine')]);
});

// late fires the newest timer, which must be a POST's watch of PROBE_MS.
function late(pg) {
  const t = pg.timers.at(-1);
  assert.ok(t.ms === PROBE_MS && !t.cleared);
  t.cleared = true;
  t.fn();
}

test('a POST that is not answered, nor its probe, makes the page offline until one is', async () => {
  const pg = online('three', 3);
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  pg.doc.dispatchEvent(ev('click', { target: b }));
  late(pg);
  // The probe: a HEAD of the stream, which opens nothing.
  assert.equal(pg.fetches.length, 2);
  assert.equal(pg.fetches[1].url, 'https://ex.com/room?x=1');
  assert.deepEqual(pg.fetches[1].init, { method: 'HEAD', headers: { Accept: 'text/event-stream' }, cache: 'no-store' });
  assert.equal(pg.status(), 'online');
  late(pg);
  assert.equal(pg.status(), 'offline');
  assert.equal(pg.win.livesse.status, 'offline');
  // Whatever the stream does meanwhile.
  pg.sources[0].emit('error');
  pg.timers.at(-1).fn();
  pg.open()[0].emit('open');
  assert.equal(pg.status(), 'offline');
  // Another action meanwhile is refused, visibly: not sent, marked failed.
  const b2 = new FakeEl('button', { name: 'y' }, { name: 'y', value: '', form: null });
  pg.doc.dispatchEvent(ev('click', { target: b2 }));
  assert.equal(pg.fetches.length, 2);
  assert.ok(b2.hasAttribute('data-lt-failed') && !b2.hasAttribute('data-lt-busy'));
  assert.deepEqual(pg.events.at(-1), ['lt:error', { status: 0, message: 'offline' }]);
  pg.fetches[0].resolve(json(200, d('c1', 4, 'four')));
  await tick();
  assert.equal(pg.status(), 'online');
  assert.deepEqual(pg.morphs, [p('four')]);
  // Sent again once online: no longer marked failed.
  pg.doc.dispatchEvent(ev('click', { target: b2 }));
  assert.equal(pg.fetches.length, 3);
  assert.ok(!b2.hasAttribute('data-lt-failed'));
  // Late answers change nothing.
  pg.fetches[1].resolve(new Response(null, { status: 200 }));
  pg.fetches[2].resolve(json(200, d('c1', 5, 'five')));
  await tick();
  await tick();
  assert.equal(pg.status(), 'online');
  assert.deepEqual(pg.morphs, [p('four'), p('five')]);
  assert.deepEqual(pg.timers.filter((x) => !x.cleared && x.ms === PROBE_MS), []);
});

test('a slow POST whose probe is answered keeps the page online', async () => {
  const pg = online('three', 3);
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  pg.doc.dispatchEvent(ev('click', { target: b }));
  late(pg);
  const wait = pg.timers.at(-1);
  pg.fetches[1].resolve(new Response(null, { status: 404 })); // any answer
  await tick();
  assert.ok(wait.cleared);
  assert.equal(pg.status(), 'online');
  pg.fetches[0].resolve(json(200, d('c1', 4, 'four')));
  await tick();
  assert.equal(pg.status(), 'online');
  assert.deepEqual(pg.morphs, [p('four')]);
});

test('a POST answered in time sends no probe', async () => {
  const pg = online('three', 3);
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  pg.doc.dispatchEvent(ev('click', { target: b }));
  const watch = pg.timers.at(-1);
  pg.fetches[0].resolve(json(200, d('c1', 4, 'four')));
  await tick();
  assert.ok(watch.cleared);
  assert.equal(pg.fetches.length, 1);
});

test('buttons inside a form are left to the submit event', () => {
  const pg = page();
  const button = new FakeEl('button', { name: 'inc' }, { name: 'inc', value: '', form: {} });
  pg.doc.dispatchEvent(ev('click', { target: button }));
  pg.doc.dispatchEvent(ev('click', { target: new FakeEl('div') }));
  assert.equal(pg.fetches.length, 0);
});

function submit(pg, form, submitter) {
  const e = ev('submit', { target: form, submitter });
  pg.doc.dispatchEvent(e);
  return e;
}

test('a POST form submit is sent live with the submitter as action', async () => {
  const pg = online('three', 3);
  const form = new FakeEl('form', { method: 'post' }, { fields: [['title', 'milk']] });
  const add = new FakeEl('button', { name: 'add' }, { name: 'add', value: '' });
  const e = submit(pg, form, add);
  assert.ok(e.defaultPrevented);
  assert.equal(pg.fetches[0].init.body.toString(), 'title=milk&add=&_lt_action=add&_lt_conn=c1');
  assert.ok(add.hasAttribute('data-lt-busy') && form.hasAttribute('data-lt-busy')); // and its form
  pg.fetches[0].resolve(json(200, { c: 'c1', s: 4 })); // nothing changed
  await tick();
  assert.deepEqual(pg.morphs, []);
  assert.deepEqual(pg.events, []);
  assert.ok(!add.hasAttribute('data-lt-busy'));
  // Its seq was not adopted: the real update 4 still applies.
  pg.sources[0].emit('update', d('c1', 4, 'four'));
  assert.deepEqual(pg.morphs, [p('four')]);

  // Without submitter the form is busy; multipart sends the FormData.
  const up = new FakeEl('form', { method: 'post', enctype: 'multipart/form-data' }, { fields: [['f', 'x']] });
  submit(pg, up, null);
  assert.ok(pg.fetches[1].init.body instanceof FormData);
  assert.ok(up.hasAttribute('data-lt-busy'));
});

test('a submit waiting behind a pending POST of its form sends the action its button named when clicked', async () => {
  const pg = online('three', 3);
  const form = new FakeEl('form', { method: 'post' }, { fields: [['title', 'eggs']] });
  const save = new FakeEl('button', { name: 'save' }, { name: 'save', value: '' });
  submit(pg, form, new FakeEl('button', { name: 'first' }, { name: 'first', value: '' }));
  submit(pg, form, save); // waits its turn
  // The answer to the first is morphed in: the same button is now Edit.
  Object.assign(save, { name: 'edit', value: '2' });
  pg.fetches[0].resolve(json(200, d('c1', 4, 'four')));
  await tick();
  assert.equal(pg.fetches[1].init.body.toString(), 'title=eggs&save=&_lt_action=save&_lt_conn=c1');
});

test('GET forms, other targets and handled submits keep the browser default', () => {
  const pg = page();
  assert.ok(!submit(pg, new FakeEl('form', {}, { fields: [] }), null).defaultPrevented);
  const other = new FakeEl('form', { method: 'post', action: '/elsewhere' }, { fields: [] });
  assert.ok(!submit(pg, other, null).defaultPrevented);
  // The submitter's formmethod overrides the form's.
  const form = new FakeEl('form', { method: 'post' }, { fields: [] });
  const search = new FakeEl('button', { formmethod: 'get' }, { name: '', value: '' });
  assert.ok(!submit(pg, form, search).defaultPrevented);
  assert.equal(pg.fetches.length, 0);
});

test('422 with an update applies it and reports the error', async (t) => {
  quiet(t);
  const pg = online('three', 3);
  const b = new FakeEl('button', { name: 'save' }, { name: 'save', value: '', form: null });
  pg.doc.dispatchEvent(ev('click', { target: b }));
  pg.fetches[0].resolve(json(422, { ...d('c1', 4, 'with error'), error: 'title required' }));
  await tick();
  assert.deepEqual(pg.morphs, [p('with error')]);
  assert.deepEqual(pg.events, [
    ['lt:update', { seq: 4 }],
    ['lt:error', { status: 422, message: 'title required' }],
  ]);
});

test('422 with field errors and no error text is handled: the update applies, no lt:error', async () => {
  const pg = online('three', 3);
  const warn = [];
  const form = new FakeEl('form', { method: 'post', 'data-lt-input': 'validate' }, { fields: [['email', 'x']] });
  const email = new FakeEl('input', {}, { name: 'email', form });
  email.closest = (sel) => (sel === '[data-lt-input]' ? form : null);
  form.elements = [email];
  const original = console.warn;
  console.warn = (...a) => warn.push(a);
  try {
    // Each validated keystroke answers 422 with the field's error shown.
    pg.doc.dispatchEvent(ev('input', { target: email }));
    pg.fetches[0].resolve(json(422, d('c1', 4, 'email: not an address')));
    await tick();
    // The same errors again: the answer carries no change.
    pg.doc.dispatchEvent(ev('input', { target: email }));
    pg.fetches[1].resolve(json(422, { c: 'c1', s: 4 }));
    await tick();
  } finally {
    console.warn = original;
  }
  assert.deepEqual(pg.morphs, [p('email: not an address')]);
  assert.deepEqual(pg.events, [['lt:update', { seq: 4 }]]);
  assert.deepEqual(warn, []);
  assert.ok(!email.hasAttribute('data-lt-failed') && !email.hasAttribute('data-lt-busy'));
  // A 422 that is not an update of this tab is still a failure.
  const quietly = [];
  console.warn = (...a) => quietly.push(a);
  try {
    pg.doc.dispatchEvent(ev('input', { target: email }));
    pg.fetches[2].resolve(json(422, { c: 'other', s: 9 }));
    await tick();
  } finally {
    console.warn = original;
  }
  assert.deepEqual(pg.events.at(-1), ['lt:error', { status: 422, message: 'HTTP 422' }]);
  assert.equal(quietly.length, 1);
});

test('410 reconnects the stream at once', async (t) => {
  quiet(t);
  const pg = online('three', 3);
  const first = pg.sources[0];
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  pg.doc.dispatchEvent(ev('click', { target: b }));
  pg.fetches[0].resolve(json(410, { error: 'connection expired' }));
  await tick();
  assert.ok(first.closed);
  assert.equal(pg.open().length, 1);
  assert.equal(pg.open()[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=3');
  // No retry pending, only the new stream's watchdog.
  assert.deepEqual(pg.timers.filter((x) => !x.cleared).map((x) => x.ms), [37500]);
  assert.deepEqual(pg.events, [['lt:error', { status: 410, message: 'connection expired' }]]);
  pg.open()[0].emit('render', o(r('c9', 1, 'fresh'), 'c1'));
  assert.equal(pg.win.livesse.conn, 'c9');
  assert.deepEqual(pg.morphs, [p('fresh')]);
});

test('410 while waiting to reconnect replaces the pending retry', async (t) => {
  quiet(t);
  const pg = page();
  pg.sources[0].emit('error');
  const retry = pg.timers.at(-1);
  assert.ok(retry.ms < 500 && !retry.cleared);
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  pg.doc.dispatchEvent(ev('click', { target: b }));
  pg.fetches[0].resolve(json(410, { error: 'gone' }));
  await tick();
  assert.ok(retry.cleared);
  assert.equal(pg.open().length, 1);
});

test('network errors and non-JSON answers are reported, busy is cleared', async (t) => {
  quiet(t);
  const pg = page();
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  pg.doc.dispatchEvent(ev('click', { target: b }));
  pg.fetches[0].reject(new TypeError('Failed to fetch'));
  await tick();
  pg.doc.dispatchEvent(ev('click', { target: b }));
  pg.fetches[1].resolve(new Response('<html>', { status: 500 }));
  await tick();
  assert.deepEqual(pg.events, [
    ['lt:error', { status: 0, message: 'Failed to fetch' }],
    ['lt:error', { status: 500, message: 'HTTP 500' }],
  ]);
  assert.ok(!b.hasAttribute('aria-busy') && !b.hasAttribute('data-lt-busy'));
  assert.equal(console.warn.mock.callCount(), 2);
});

test('a redirect to a non-JSON page is followed like a native form post', async () => {
  const pg = page();
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  pg.doc.dispatchEvent(ev('click', { target: b }));
  const res = new Response('<html>', { status: 200 });
  Object.defineProperties(res, { redirected: { value: true }, url: { value: 'https://ex.com/login' } });
  pg.fetches[0].resolve(res);
  await tick();
  assert.equal(pg.win.assigned, 'https://ex.com/login');
  assert.deepEqual(pg.events, []);
});

test('a silent stream is closed and reconnected after 2.5 heartbeats', (t) => {
  t.mock.method(Math, 'random', () => 0.5);
  const pg = online('three', 3);
  const live = () => pg.timers.filter((x) => !x.cleared);
  // Until the stream names its heartbeat, 15 s is assumed.
  assert.deepEqual(live().map((x) => x.ms), [37500]);
  pg.sources[0].emit('hb', 4000);
  assert.deepEqual(live().map((x) => x.ms), [10000]);
  // Any event restarts the watchdog.
  const before = live()[0];
  pg.sources[0].emit('update', d('c1', 4, 'four'));
  assert.ok(before.cleared);
  const [dog] = live();
  assert.equal(dog.ms, 10000);
  assert.equal(pg.status(), 'online');
  dog.fn(); // 10 s of silence
  assert.ok(pg.sources[0].closed);
  assert.equal(pg.open().length, 0);
  assert.equal(pg.status(), 'offline');
  const [retry] = live(); // with backoff, not at once
  assert.equal(retry.ms, 250);
  retry.fn();
  assert.equal(pg.open().length, 1);
  assert.equal(pg.open()[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=4');
  // The new stream keeps the interval learnt; its silence is watched too.
  assert.deepEqual(live().map((x) => x.ms), [10000]);
  pg.open()[0].emit('hb', 'not a number');
  assert.deepEqual(live().map((x) => x.ms), [10000]);
  live()[0].fn();
  assert.equal(pg.open().length, 0);
  assert.equal(live()[0].ms, 500); // the backoff grows: no open in between
  assert.deepEqual(pg.morphs, [p('four')]);
});

test('hb names the interval and the retry: reconnects wait the retry plus the backoff', (t) => {
  let rnd = 0.5;
  t.mock.method(Math, 'random', () => rnd);
  const pg = online('three', 3);
  const live = () => pg.timers.filter((x) => !x.cleared);
  pg.sources[0].emit('hb', '15000 1000');
  assert.deepEqual(live().map((x) => x.ms), [37500]); // the interval, as before
  // A silent stream: the retry floors the backoff (500 * 0.5).
  live()[0].fn();
  assert.equal(pg.status(), 'offline');
  assert.deepEqual(live().map((x) => x.ms), [1000 + 250]);
  live()[0].fn();
  // The retry outlives the stream that named it; the backoff still grows.
  rnd = 0;
  pg.open()[0].emit('error');
  assert.deepEqual(live().map((x) => x.ms), [1000]); // never sooner than asked
  live()[0].fn();
  rnd = 0.999;
  pg.open()[0].emit('error');
  const [late] = live();
  assert.ok(late.ms > 1000 + 1990 && late.ms < 1000 + 2000, `${late.ms}`);
  late.fn();
  // A later hb replaces it; a second field that is no number is ignored.
  rnd = 0.5;
  const es = pg.open()[0];
  es.emit('open'); // the backoff starts over
  for (const bad of ['soon', '-1', '1e3', '']) es.emit('hb', '6000 ' + bad);
  es.emit('hb', '6000 3000');
  es.emit('hb', '8000 later');
  assert.deepEqual(live().map((x) => x.ms), [20000]);
  es.emit('error');
  assert.deepEqual(live().map((x) => x.ms), [3000 + 250]);
});

test('an hb with the interval alone (an older server) means no retry', (t) => {
  t.mock.method(Math, 'random', () => 0.5);
  const pg = online('three', 3);
  const live = () => pg.timers.filter((x) => !x.cleared);
  pg.sources[0].emit('hb', '4000 2000');
  pg.sources[0].emit('hb', '4000');
  assert.deepEqual(live().map((x) => x.ms), [10000]);
  pg.sources[0].emit('error');
  assert.deepEqual(live().map((x) => x.ms), [250]);
});

test('one tab alone (no BroadcastChannel) leads its own stream', () => {
  const pg = online('three', 3);
  assert.equal(pg.win.livesse.leader, true);
});

// resettable returns a live form with data-lt-reset (unless plain) that logs
// its resets, with the number of morphs the page had by then, in log.
function resettable(pg, log, plain = false) {
  const form = new FakeEl('form', { method: 'post', ...(!plain && { 'data-lt-reset': '' }) }, { fields: [['text', 'hi']] });
  form.reset = () => log.push('reset after ' + pg.morphs.length + ' morphs');
  return form;
}

test('a data-lt-reset form is reset once the update of its POST is on the page', async () => {
  const pg = online('three', 3);
  const log = [];
  const form = resettable(pg, log);
  submit(pg, form, null);
  assert.equal(pg.fetches[0].init.body.toString(), 'text=hi&_lt_conn=c1');
  assert.deepEqual(log, []);
  pg.fetches[0].resolve(json(200, d('c1', 4, 'sent')));
  await tick();
  assert.deepEqual(pg.morphs, [p('sent')]);
  assert.deepEqual(log, ['reset after 1 morphs']);
  // The same update from the stream: no second reset.
  pg.sources[0].emit('update', d('c1', 4, 'sent'));
  assert.deepEqual(log, ['reset after 1 morphs']);

  // An answer ahead of the stream: the reset waits until it applies.
  submit(pg, form, null);
  pg.fetches[1].resolve(json(200, d('c1', 6, 'second')));
  await tick();
  assert.deepEqual(log, ['reset after 1 morphs']);
  pg.sources[0].emit('update', d('c1', 5, 'theirs')); // then the held 6 applies
  assert.deepEqual(pg.morphs.slice(1), [p('theirs'), p('second')]);
  assert.deepEqual(log, ['reset after 1 morphs', 'reset after 3 morphs']);

  // The stream was first, or nothing changed: reset at once.
  submit(pg, form, null);
  pg.sources[0].emit('update', d('c1', 7, 'third'));
  pg.fetches[2].resolve(json(200, d('c1', 7, 'third')));
  await tick();
  submit(pg, form, null);
  pg.fetches[3].resolve(json(200, { c: 'c1', s: 7 }));
  await tick();
  assert.deepEqual(log.slice(2), ['reset after 4 morphs', 'reset after 4 morphs']);
});

test('a data-lt-reset form whose update comes on the stream (202) is reset at once', async () => {
  const pg = online('three', 3);
  const log = [];
  submit(pg, resettable(pg, log), null);
  pg.fetches[0].resolve(json(202, { c: 'c1', forwarded: true }));
  await tick();
  assert.deepEqual(log, ['reset after 0 morphs']);
});

test('a data-lt-reset form waiting for its update is reset by a render of a new connection', async () => {
  const pg = online('three', 3);
  const log = [];
  submit(pg, resettable(pg, log), null);
  pg.fetches[0].resolve(json(200, d('c1', 9, 'far ahead')));
  await tick();
  assert.deepEqual(log, []);
  pg.sources[0].emit('render', o(r('c2', 1, 'new conn'), 'c1'));
  assert.deepEqual(log, ['reset after 1 morphs']);
});

test('failed POSTs and forms without data-lt-reset keep their fields', async (t) => {
  quiet(t);
  const pg = online('three', 3);
  const log = [];
  submit(pg, resettable(pg, log, true), null);
  pg.fetches[0].resolve(json(200, d('c1', 4, 'sent')));
  const form = resettable(pg, log);
  submit(pg, form, null);
  pg.fetches[1].resolve(json(422, { ...d('c1', 5, 'with error'), error: 'too long' }));
  await tick();
  submit(pg, form, null);
  pg.fetches[2].resolve(json(410, { error: 'gone' }));
  await tick();
  submit(pg, form, null);
  pg.fetches[3].reject(new TypeError('Failed to fetch'));
  await tick();
  submit(pg, form, null);
  pg.fetches[4].resolve(new Response('<html>', { status: 500 }));
  await tick();
  assert.deepEqual(pg.morphs, [p('sent'), p('with error')]);
  assert.deepEqual(log, []);
});

test('a page hidden by navigation closes its stream; back from the cache it resumes', (t) => {
  t.mock.method(Math, 'random', () => 0.5);
  const pg = online('three', 3);
  const live = () => pg.timers.filter((x) => !x.cleared);
  const page = (type, persisted) => pg.win.dispatchEvent(Object.assign(new Event(type), { persisted }));
  page('pagehide', true);
  assert.equal(pg.open().length, 0);
  assert.deepEqual(live(), []); // no watchdog, no reconnect
  page('pageshow', true);
  assert.equal(pg.open().length, 1);
  assert.equal(pg.open()[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=3');
  assert.equal(pg.status(), 'connecting');
  // A first pageshow (not from the cache) changes nothing.
  page('pageshow', false);
  assert.equal(pg.sources.length, 2);
  // Hidden while waiting to reconnect: the retry is dropped as well.
  pg.open()[0].emit('error');
  assert.equal(live().length, 1);
  page('pagehide', false);
  assert.deepEqual(live(), []);
  assert.equal(pg.open().length, 0);
});

test('a morph names the field being typed in: edited since it got focus, and focused', () => {
  const focus = [];
  const doc = new EventTarget();
  doc.documentElement = { dataset: {} };
  const tag = { dataset: { ltConn: 'c1', ltSeq: '0' } };
  doc.querySelector = (sel) => (sel === 'script[data-lt-conn]' ? tag : null);
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
  start(win, (html, keep) => focus.push([field, button].find(keep) || null));
  const field = { id: 'field' };
  const button = { id: 'button' };
  const send = (s) =>
    sources[0].dispatchEvent(Object.assign(new Event('update'), { data: JSON.stringify(r('c1', s, String(s))) }));
  const at = (type, target) => doc.dispatchEvent(ev(type, { target }));
  // Focused, not typed in.
  doc.activeElement = field;
  send(1);
  at('input', field);
  send(2);
  // The user clicked a button: it has the focus.
  doc.activeElement = button;
  send(3);
  // Back in the field, which lost focus in between: not typed in since.
  at('focusout', field);
  doc.activeElement = field;
  send(4);
  at('input', field);
  send(5);
  assert.deepEqual(focus, [null, field, null, null, field]);
});

test('a page going away tells the server with a beacon naming its connection', () => {
  const pg = page();
  const beacons = [];
  pg.win.navigator = { sendBeacon: (url, body) => beacons.push([url, String(body)]) };
  pg.win.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: false }));
  assert.deepEqual(beacons, [['https://ex.com/room?x=1', '_lt_leave=c1']]);
  assert.equal(pg.open().length, 0);
});

test('a field event sends the form with _lt_target and _lt_used, one POST of a form at a time, the newest waiting', async () => {
  const pg = online('three', 3);
  const form = new FakeEl('form', { method: 'post', 'data-lt-input': 'search' });
  const field = (name) => {
    const f = new FakeEl('input', {}, { name, form });
    f.closest = (sel) => (sel === '[data-lt-input]' ? form : null);
    return f;
  };
  const q = field('q');
  const other = field('other');
  form.fields = [['q', 'a'], ['other', '']];
  form.elements = [q, other];
  const saved = [];
  pg.doc.addEventListener('saved', (e) => saved.push(e.detail));
  pg.doc.dispatchEvent(ev('input', { target: q }));
  assert.equal(pg.fetches.length, 1);
  assert.equal(pg.fetches[0].init.body.toString(), 'q=a&other=&_lt_conn=c1&_lt_action=search&_lt_target=q&_lt_used=q');
  assert.ok(q.hasAttribute('data-lt-busy') && form.hasAttribute('data-lt-busy'));
  // Typed on while it is on its way: one POST waits, with the newest values.
  form.fields = [['q', 'ab'], ['other', '']];
  pg.doc.dispatchEvent(ev('input', { target: q }));
  form.fields = [['q', 'abc'], ['other', '']];
  pg.doc.dispatchEvent(ev('input', { target: q }));
  assert.equal(pg.fetches.length, 1);
  pg.fetches[0].resolve(json(200, d('c1', 4, 'a')));
  await tick();
  assert.equal(pg.fetches.length, 2);
  assert.equal(pg.fetches[1].init.body.get('q'), 'abc');
  // The server pushes an event with the answer: dispatched once applied.
  pg.fetches[1].resolve(json(200, { ...d('c1', 5, 'abc'), e: [['saved', { id: 1 }]] }));
  await tick();
  assert.deepEqual(pg.morphs, [p('a'), p('abc')]);
  assert.deepEqual(saved, [{ id: 1 }]);
  // A submit while the same one (same button, same values) is pending is
  // a double submit, dropped; another button's, or other values, wait
  // their turn, in order.
  submit(pg, form, null);
  submit(pg, form, null);
  const fail = new FakeEl('button', { name: 'fail' }, { name: 'fail', value: '' });
  submit(pg, form, fail);
  submit(pg, form, fail);
  form.fields = [['q', 'abcd'], ['other', '']];
  submit(pg, form, fail);
  assert.equal(pg.fetches.length, 3);
  assert.ok(!pg.fetches[2].init.body.has('_lt_target'));
  for (const [i, want] of [[3, 'fail'], [4, 'fail']]) {
    pg.fetches[i - 1].resolve(json(200, d('c1', 3 + i, 'abc')));
    await tick();
    assert.equal(pg.fetches.length, i + 1);
    assert.equal(pg.fetches[i].init.body.get('_lt_action'), want);
  }
  assert.equal(pg.fetches[4].init.body.get('q'), 'abcd');
  // The same submit again, once the page changed (an update came on the
  // stream while its POST is on its way): the user acted on what the page
  // shows now, not a double submit.
  submit(pg, form, fail);
  pg.sources[0].emit('update', d('c1', 8, 'abcd'));
  submit(pg, form, fail);
  pg.fetches[4].resolve(json(200, d('c1', 8, 'abcd')));
  await tick();
  assert.equal(pg.fetches.length, 6);
  pg.fetches[5].resolve(json(200, d('c1', 9, 'abcd')));
  await tick();
  assert.equal(pg.fetches.length, 7);
  assert.equal(pg.fetches[6].init.body.get('_lt_action'), 'fail');
});

test('a form that sends only its button counts every click, even while one is pending', async () => {
  const pg = online('three', 3);
  const form = new FakeEl('form', { method: 'post' }, { fields: [] });
  const inc = new FakeEl('button', { name: 'inc' }, { name: 'inc', value: '' });
  submit(pg, form, inc);
  submit(pg, form, inc);
  submit(pg, form, inc);
  for (let i = 0; i < 3; i++) {
    assert.equal(pg.fetches.length, i + 1);
    assert.equal(pg.fetches[i].init.body.get('_lt_action'), 'inc');
    pg.fetches[i].resolve(json(200, d('c1', 4 + i, String(i))));
    await tick();
  }
  assert.equal(pg.fetches.length, 3);
});

test('a debounced field event is not sent once its form was submitted; key actions are steps, each sent', async () => {
  const pg = online('three', 3);
  const form = new FakeEl('form', { method: 'post', 'data-lt-input': 'check', 'data-lt-debounce': '300' });
  const q = new FakeEl('input', { 'data-lt-keydown': 'ArrowDown:down' }, { name: 'q', form });
  q.closest = (sel) => (sel === '[data-lt-keydown]' ? q : sel === '[data-lt-input]' ? form : null);
  form.fields = [['q', 'a']];
  form.elements = [q];
  pg.doc.dispatchEvent(ev('input', { target: q }));
  const debounced = pg.timers.at(-1);
  assert.equal(debounced.ms, 300);
  submit(pg, form, null);
  assert.equal(pg.fetches.length, 1); // the submit
  debounced.fn(); // the debounce ends after the submit: nothing sent
  assert.equal(pg.fetches.length, 1);
  pg.fetches[0].resolve(json(200, d('c1', 4, 'a')));
  await tick();
  // Three quick ArrowDowns while one is on its way: each is sent.
  for (let i = 0; i < 3; i++) pg.doc.dispatchEvent(ev('keydown', { target: q, key: 'ArrowDown', preventDefault() {} }));
  for (let i = 1; i <= 3; i++) {
    assert.equal(pg.fetches.length, i + 1);
    assert.equal(pg.fetches[i].init.body.get('_lt_action'), 'down');
    pg.fetches[i].resolve(json(200, d('c1', 4 + i, 'a')));
    await tick();
  }
  assert.equal(pg.fetches.length, 4);
});

test('livesse.action posts an action with data and resolves with its answer', async () => {
  const pg = online('three', 3);
  // <html>, which is busy while a script's action is pending.
  const root = pg.doc.documentElement;
  Object.setPrototypeOf(root, FakeEl.prototype);
  root.attrs = new Map();
  const p1 = pg.win.livesse.action('add', { item: ['x', 'y'], n: 2 });
  assert.equal(pg.fetches[0].init.body.toString(), 'item=x&item=y&n=2&_lt_action=add&_lt_conn=c1');
  assert.ok(root.hasAttribute('aria-busy'));
  pg.fetches[0].resolve(json(200, d('c1', 4, 'four')));
  assert.deepEqual(await p1, d('c1', 4, 'four'));
  const p2 = pg.win.livesse.action('nope');
  pg.fetches[1].resolve(json(400, { error: 'no action named nope' }));
  await assert.rejects(p2, /no action named nope/);
});
