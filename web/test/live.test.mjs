// Drives live.js (the wiring) with small fakes of the browser objects it uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, keepBusy } from '../src/live.js';

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
    emit(type, data) {
      assert.ok(!this.closed, 'event on a closed EventSource');
      this.dispatchEvent(Object.assign(new Event(type), { data: JSON.stringify(data) }));
    }
  }
  const doc = new EventTarget();
  doc.documentElement = { dataset: {} };
  doc.baseURI = 'https://ex.com/room?x=1';
  const tag = { dataset: { ltConn: 'c1', ltSeq: '3' } };
  doc.querySelector = (sel) => (sel === 'script[data-lt-conn]' ? tag : null);

  const timers = [];
  const fetches = [];
  const win = {
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
  };
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

test('start connects with conn and seq from the script tag', () => {
  const p = page();
  assert.equal(p.status(), 'connecting');
  assert.equal(p.sources.length, 1);
  assert.equal(p.sources[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=3');
  assert.deepEqual([p.win.livesse.conn, p.win.livesse.seq, p.win.livesse.status], ['c1', 3, 'connecting']);
  p.sources[0].emit('open');
  assert.equal(p.status(), 'online');
  assert.equal(p.win.livesse.status, 'online');
  assert.throws(() => {
    p.win.livesse.seq = 99;
  });
  assert.equal(p.win.livesse.seq, 3);
});

test('does nothing without EventSource', () => {
  const p = page({ noEventSource: true });
  assert.equal(p.win.livesse, undefined);
  assert.equal(p.status(), undefined);
});

test('starting twice runs one client', () => {
  const p = page({ twice: true });
  assert.equal(p.sources.length, 1);
  p.sources[0].emit('update', { c: 'c1', s: 4, h: 'four' });
  assert.deepEqual(p.morphs, ['four']);
});

test('stream events go through the in-order gate to morph', () => {
  const p = page();
  const es = p.sources[0];
  es.emit('update', { c: 'c1', s: 3, h: 'old' });
  es.emit('update', { c: 'c1', s: 4, h: 'four' });
  es.emit('update', { c: 'c1', s: 4, h: 'four again' });
  es.emit('update', { c: 'zz', s: 9, h: 'other conn' });
  es.emit('render', { c: 'c2', s: 1, h: 'reset' });
  es.emit('update', { c: 'c2', s: 2, h: 'two' });
  assert.deepEqual(p.morphs, ['four', 'reset', 'two']);
  assert.deepEqual(p.events, [
    ['lt:update', { seq: 4 }],
    ['lt:update', { seq: 1 }],
    ['lt:update', { seq: 2 }],
  ]);
  assert.deepEqual([p.win.livesse.conn, p.win.livesse.seq], ['c2', 2]);
});

test('errors reconnect one EventSource at a time with growing backoff', (t) => {
  t.mock.method(Math, 'random', () => 0.999);
  const p = page();
  p.sources[0].emit('update', { c: 'c1', s: 7, h: 'seven' });
  for (const ceil of [500, 1000, 2000]) {
    const es = p.open()[0];
    es.emit('error');
    assert.ok(es.closed);
    assert.equal(p.open().length, 0);
    assert.equal(p.status(), 'offline');
    const timer = p.timers.at(-1);
    assert.ok(timer.ms < ceil && timer.ms > ceil * 0.99, `${timer.ms} vs ${ceil}`);
    timer.fn();
    assert.equal(p.status(), 'connecting');
    assert.equal(p.open().length, 1);
    assert.equal(p.open()[0].url, '/room?x=1&_lt_conn=c1&_lt_seq=7');
  }
  // A successful open resets the backoff.
  p.open()[0].emit('open');
  p.open()[0].emit('error');
  assert.ok(p.timers.at(-1).ms < 500);
  assert.equal(p.sources.length, 4);
});

test('a click on a button outside forms posts the action, busy until handled', async () => {
  const p = page();
  const button = new FakeEl('button', { name: 'inc' }, { name: 'inc', value: '2', form: null });
  const icon = new FakeEl('span', {}, { parent: button });
  p.doc.dispatchEvent(ev('click', { target: icon }));
  assert.equal(p.fetches.length, 1);
  const { url, init } = p.fetches[0];
  assert.equal(url, 'https://ex.com/room?x=1');
  assert.equal(init.method, 'POST');
  assert.equal(init.credentials, 'same-origin');
  assert.deepEqual(init.headers, { Accept: 'application/json' });
  assert.equal(init.body.toString(), '_lt_action=inc&inc=2&_lt_conn=c1');
  assert.equal(button.getAttribute('aria-busy'), 'true');
  assert.ok(button.hasAttribute('data-lt-busy'));
  p.fetches[0].resolve(json(200, { c: 'c1', s: 4, h: 'after click' }));
  await tick();
  assert.deepEqual(p.morphs, ['after click']);
  assert.ok(!button.hasAttribute('aria-busy') && !button.hasAttribute('data-lt-busy'));
  // The same update from the stream is not applied twice.
  p.sources[0].emit('update', { c: 'c1', s: 4, h: 'after click' });
  assert.equal(p.morphs.length, 1);
});

test('buttons inside a form are left to the submit event', () => {
  const p = page();
  const button = new FakeEl('button', { name: 'inc' }, { name: 'inc', value: '', form: {} });
  p.doc.dispatchEvent(ev('click', { target: button }));
  p.doc.dispatchEvent(ev('click', { target: new FakeEl('div') }));
  assert.equal(p.fetches.length, 0);
});

function submit(p, form, submitter) {
  const e = ev('submit', { target: form, submitter });
  p.doc.dispatchEvent(e);
  return e;
}

test('a POST form submit is sent live with the submitter as action', async () => {
  const p = page();
  const form = new FakeEl('form', { method: 'post' }, { fields: [['title', 'milk']] });
  const add = new FakeEl('button', { name: 'add' }, { name: 'add', value: '' });
  const e = submit(p, form, add);
  assert.ok(e.defaultPrevented);
  assert.equal(p.fetches[0].init.body.toString(), 'title=milk&add=&_lt_action=add&_lt_conn=c1');
  assert.ok(add.hasAttribute('data-lt-busy') && !form.hasAttribute('data-lt-busy'));
  p.fetches[0].resolve(json(200, { c: 'c1', s: 3 })); // nothing changed
  await tick();
  assert.deepEqual(p.morphs, []);
  assert.deepEqual(p.events, []);
  assert.ok(!add.hasAttribute('data-lt-busy'));

  // Without submitter the form is busy; multipart sends the FormData.
  const up = new FakeEl('form', { method: 'post', enctype: 'multipart/form-data' }, { fields: [['f', 'x']] });
  submit(p, up, null);
  assert.ok(p.fetches[1].init.body instanceof FormData);
  assert.ok(up.hasAttribute('data-lt-busy'));
});

test('GET forms, other targets and handled submits keep the browser default', () => {
  const p = page();
  assert.ok(!submit(p, new FakeEl('form', {}, { fields: [] }), null).defaultPrevented);
  const other = new FakeEl('form', { method: 'post', action: '/elsewhere' }, { fields: [] });
  assert.ok(!submit(p, other, null).defaultPrevented);
  // The submitter's formmethod overrides the form's.
  const form = new FakeEl('form', { method: 'post' }, { fields: [] });
  const search = new FakeEl('button', { formmethod: 'get' }, { name: '', value: '' });
  assert.ok(!submit(p, form, search).defaultPrevented);
  assert.equal(p.fetches.length, 0);
});

test('422 with an update applies it and reports the error', async (t) => {
  quiet(t);
  const p = page();
  const b = new FakeEl('button', { name: 'save' }, { name: 'save', value: '', form: null });
  p.doc.dispatchEvent(ev('click', { target: b }));
  p.fetches[0].resolve(json(422, { c: 'c1', s: 4, h: 'with error', error: 'title required' }));
  await tick();
  assert.deepEqual(p.morphs, ['with error']);
  assert.deepEqual(p.events, [
    ['lt:update', { seq: 4 }],
    ['lt:error', { status: 422, message: 'title required' }],
  ]);
});

test('410 reconnects the stream at once', async (t) => {
  quiet(t);
  const p = page();
  const first = p.sources[0];
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  p.doc.dispatchEvent(ev('click', { target: b }));
  p.fetches[0].resolve(json(410, { error: 'connection expired' }));
  await tick();
  assert.ok(first.closed);
  assert.equal(p.open().length, 1);
  assert.equal(p.timers.filter((x) => !x.cleared).length, 0);
  assert.deepEqual(p.events, [['lt:error', { status: 410, message: 'connection expired' }]]);
  p.open()[0].emit('render', { c: 'c9', s: 1, h: 'fresh' });
  assert.equal(p.win.livesse.conn, 'c9');
});

test('410 while waiting to reconnect replaces the pending retry', async (t) => {
  quiet(t);
  const p = page();
  p.sources[0].emit('error');
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  p.doc.dispatchEvent(ev('click', { target: b }));
  p.fetches[0].resolve(json(410, { error: 'gone' }));
  await tick();
  assert.ok(p.timers[0].cleared);
  assert.equal(p.open().length, 1);
});

test('network errors and non-JSON answers are reported, busy is cleared', async (t) => {
  quiet(t);
  const p = page();
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  p.doc.dispatchEvent(ev('click', { target: b }));
  p.fetches[0].reject(new TypeError('Failed to fetch'));
  await tick();
  p.doc.dispatchEvent(ev('click', { target: b }));
  p.fetches[1].resolve(new Response('<html>', { status: 500 }));
  await tick();
  assert.deepEqual(p.events, [
    ['lt:error', { status: 0, message: 'Failed to fetch' }],
    ['lt:error', { status: 500, message: 'HTTP 500' }],
  ]);
  assert.ok(!b.hasAttribute('aria-busy') && !b.hasAttribute('data-lt-busy'));
  assert.equal(console.warn.mock.callCount(), 2);
});

test('a redirect to a non-JSON page is followed like a native form post', async () => {
  const p = page();
  const b = new FakeEl('button', { name: 'x' }, { name: 'x', value: '', form: null });
  p.doc.dispatchEvent(ev('click', { target: b }));
  const res = new Response('<html>', { status: 200 });
  Object.defineProperties(res, { redirected: { value: true }, url: { value: 'https://ex.com/login' } });
  p.fetches[0].resolve(res);
  await tick();
  assert.equal(p.win.assigned, 'https://ex.com/login');
  assert.deepEqual(p.events, []);
});

test('keepBusy protects only the busy marks of busy elements', () => {
  const busy = new FakeEl('button', { 'data-lt-busy': '', 'aria-busy': 'true' });
  const idle = new FakeEl('button', { 'aria-busy': 'true' });
  assert.equal(keepBusy('aria-busy', busy, 'remove'), false);
  assert.equal(keepBusy('data-lt-busy', busy, 'remove'), false);
  assert.equal(keepBusy('class', busy, 'update'), true);
  assert.equal(keepBusy('aria-busy', idle, 'remove'), true);
});
