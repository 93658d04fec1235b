// Tabs sharing one stream: live.js in several fake windows of one fake
// browser, with an in-memory BroadcastChannel bus, a Web Locks queue,
// EventSources and a clock of their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start, GATHER_MS, BEAT_MS, CLAIM_MS, PROBE_MS } from '../src/live.js';

const PAGE = 'https://ex.com/room?x=1';

// browser returns a fake browser whose tabs run the client on PAGE.
// opts.locks = false or opts.channels = false take the API away; opts.refuse
// makes every lock request fail. A tab's timers do not run while its
// throttled is set (a hidden tab's timers, throttled by the browser), nor
// are channel messages delivered to it while deaf is set (a busy or frozen
// tab): they wait, in order.
function browser(opts = {}) {
  const channels = new Set(); // open BroadcastChannels
  const mail = []; // [channel, message] not delivered yet, in order
  const lockQueues = new Map(); // name -> [{tab, cb}], the first holds it
  const timers = new Set(); // {at, fn, tab}
  const sources = []; // every EventSource of every tab
  let now = 0;

  class Channel {
    constructor(name, tab) {
      Object.assign(this, { name, tab, onmessage: null });
      channels.add(this);
    }
    postMessage(m) {
      assert.ok(channels.has(this), 'post on a closed channel');
      // Delivered later to every other channel of that name, as a copy.
      for (const ch of channels) if (ch !== this && ch.name === this.name) mail.push([ch, structuredClone(m)]);
    }
    close() {
      channels.delete(this);
    }
  }

  function grant(name) {
    const q = lockQueues.get(name);
    if (!q || !q.length || q[0].granted) return;
    q[0].granted = true;
    const held = q[0];
    // Granted asynchronously, held until the callback's promise settles.
    Promise.resolve()
      .then(() => held.cb({ name }))
      .then((v) => {
        release(held);
        held.resolve(v);
      });
  }
  function release(req) {
    const q = lockQueues.get(req.name);
    const i = q.indexOf(req);
    if (i < 0) return;
    q.splice(i, 1);
    if (i === 0) grant(req.name);
  }

  class Source extends EventTarget {
    constructor(url, tab) {
      super();
      Object.assign(this, { url, tab, closed: false });
      sources.push(this);
    }
    close() {
      this.closed = true;
    }
    emit(type, data) {
      assert.ok(!this.closed, 'event on a closed EventSource');
      const e = new Event(type);
      if (data !== undefined) e.data = typeof data === 'string' ? data : JSON.stringify(data);
      this.dispatchEvent(e);
    }
    // conns returns the [conn, seq] pairs of the URL, seq '' when absent.
    get conns() {
      const q = new URL(this.url, PAGE).searchParams;
      const seqs = q.getAll('_lt_seq');
      return q.getAll('_lt_conn').map((c, i) => [c, seqs[i]]);
    }
  }

  const tabs = [];

  // open starts a tab whose page came with connection conn, hidden when
  // o.hidden (opened in the background).
  function open(conn, o = {}) {
    const tab = { conn, morphs: [], errors: [], fetches: [], closed: false };
    const win = new EventTarget();
    const doc = new EventTarget();
    doc.documentElement = { dataset: {} };
    doc.hidden = !!o.hidden;
    doc.baseURI = PAGE;
    const tag = { dataset: { ltConn: conn, ltSeq: '0' } };
    doc.querySelector = (sel) => (sel === 'script[data-lt-conn]' ? tag : null);
    doc.addEventListener('lt:error', (e) => tab.errors.push(e.detail.message));
    const u = new URL(PAGE);
    Object.assign(win, {
      document: doc,
      location: { href: PAGE, pathname: u.pathname, search: u.search },
      CustomEvent,
      EventSource: class extends Source {
        constructor(url) {
          super(url, tab);
        }
      },
      fetch(url, init) {
        return new Promise((resolve) => tab.fetches.push({ url, init, resolve }));
      },
      setTimeout(fn, ms) {
        const t = { at: now + ms, ms, fn, tab };
        timers.add(t);
        return t;
      },
      clearTimeout(t) {
        timers.delete(t);
      },
    });
    if (opts.channels !== false) {
      win.BroadcastChannel = class extends Channel {
        constructor(name) {
          super(name, tab);
        }
      };
    }
    const locks = {
      // request(name, [{signal},] cb): the promise settles as the
      // callback's does, or rejects when the request is withdrawn (its
      // signal aborted) before its turn.
      request(name, options, cb) {
        if (!cb) [options, cb] = [{}, options];
        if (opts.refuse) return Promise.reject(new DOMException('no locks here', 'SecurityError'));
        return new Promise((resolve, reject) => {
          const req = { name, cb, tab, resolve };
          if (!lockQueues.has(name)) lockQueues.set(name, []);
          lockQueues.get(name).push(req);
          options.signal?.addEventListener('abort', () => {
            if (req.granted) return; // too late: no effect
            release(req);
            reject(options.signal.reason);
          });
          grant(name);
        });
      },
    };
    win.navigator = opts.locks === false ? {} : { locks };
    Object.assign(tab, {
      win,
      status: () => doc.documentElement.dataset.ltStatus,
      // The EventSources this tab opened, open ones only.
      open: () => sources.filter((s) => s.tab === tab && !s.closed),
      // close is the tab going away: pagehide, then everything it had.
      close() {
        win.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: false }));
        tab.vanish();
      },
      // hide and show change the page's visibility (another tab in front).
      hide: () => visible(true),
      show: () => visible(false),
      // vanish is the tab going away without pagehide (a crash, a close
      // the renderer had no time for): the browser drops what it had.
      vanish() {
        tab.closed = true;
        for (const ch of [...channels]) if (ch.tab === tab) ch.close();
        for (const q of lockQueues.values()) for (const req of q.filter((r) => r.tab === tab)) release(req);
        for (const s of sources) if (s.tab === tab) s.closed = true;
        for (const t of [...timers]) if (t.tab === tab) timers.delete(t);
      },
    });
    function visible(hidden) {
      doc.hidden = hidden;
      doc.dispatchEvent(new Event('visibilitychange'));
    }
    Object.defineProperty(tab, 'live', { get: () => win.livesse }); // what the page sees
    start(win, (html) => tab.morphs.push(html));
    tabs.push(tab);
    return tab;
  }

  // settle lets promises run and delivers the channel messages until
  // nothing is left to do.
  async function settle() {
    for (let idle = 0; idle < 2; ) {
      await new Promise((r) => setImmediate(r));
      const i = mail.findIndex(([ch]) => !ch.tab.deaf);
      if (i < 0) {
        idle++;
        continue;
      }
      idle = 0;
      const [[ch, data]] = mail.splice(i, 1);
      if (channels.has(ch) && ch.onmessage) ch.onmessage({ data });
    }
  }

  // run lets ms pass, running the timers due and settling after each.
  async function run(ms = 0) {
    const end = now + ms;
    await settle();
    for (;;) {
      const due = [...timers].filter((t) => t.at <= end && !t.tab.throttled).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers.delete(due);
      now = due.at;
      due.fn();
      await settle();
    }
    now = end;
  }

  // streams returns the open EventSources of every tab.
  const streams = () => sources.filter((s) => !s.closed);
  return { open, run, settle, streams, sources, tabs, timers: () => [...timers] };
}

// The page's template: one fragment, a document with a value in <p>.
const S = { 1: ['<!DOCTYPE html><html><head></head><body><p>', '</p></body></html>'] };
const r = (c, s, v) => ({ c, s, r: { f: 1, v: [v] }, S });
const d = (c, s, v) => ({ c, s, d: { 0: v } });
const p = (v) => `<p>${v}</p>`;

// three opens tabs a, b and c at once and lets them settle on one stream,
// online, each with the render of its connection at the seq given; opts
// are the browser's.
async function three(seqs = { a: 1, b: 5, c: 2 }, opts = {}) {
  const br = browser(opts);
  const tabs = ['a', 'b', 'c'].map((c) => br.open(c));
  await br.run((opts.locks === false ? CLAIM_MS : 0) + GATHER_MS);
  assert.equal(br.streams().length, 1);
  const [es] = br.streams();
  es.emit('open');
  for (const [c, s] of Object.entries(seqs)) es.emit('render', r(c, s, c + s));
  await br.settle();
  for (const t of tabs) t.morphs.length = 0;
  return { br, tabs, es };
}

test('three tabs share one stream, opened by the first', async () => {
  const br = browser();
  const [a, b, c] = ['a', 'b', 'c'].map((conn) => br.open(conn));
  await br.run(GATHER_MS - 1);
  assert.equal(br.sources.length, 0); // still gathering the tabs
  await br.run(1);
  assert.equal(br.sources.length, 1);
  const [es] = br.streams();
  assert.equal(es.tab, a);
  assert.deepEqual([a.live.leader, b.live.leader, c.live.leader], [true, false, false]);
  // No tree yet in any tab: every one asks for a render.
  assert.equal(es.url, '/room?x=1&_lt_conn=a&_lt_seq=&_lt_conn=b&_lt_seq=&_lt_conn=c&_lt_seq=');
  assert.deepEqual([a.status(), b.status(), c.status()], ['connecting', 'connecting', 'connecting']);
  es.emit('open');
  await br.settle();
  assert.deepEqual([a.status(), b.status(), c.status()], ['online', 'online', 'online']);
  // A fourth tab joins later: the leader reconnects once, with it.
  const late = br.open('d');
  await br.settle();
  assert.equal(late.status(), 'online'); // the leader told it
  await br.run(GATHER_MS);
  assert.equal(br.streams().length, 1);
  assert.ok(es.closed);
  assert.equal(br.streams()[0].tab, a);
  assert.deepEqual(br.streams()[0].conns.map(([conn]) => conn), ['a', 'b', 'c', 'd']);
  assert.equal(br.sources.length, 2);
  assert.deepEqual([a.status(), b.status(), c.status(), late.status()], Array(4).fill('connecting'));
});

test('each tab applies the events of its own connection', async () => {
  const br = browser();
  const [a, b, c] = ['a', 'b', 'c'].map((conn) => br.open(conn));
  await br.run(GATHER_MS);
  const [es] = br.streams();
  es.emit('render', r('b', 5, 'b5'));
  es.emit('render', r('a', 1, 'a1'));
  es.emit('render', r('c', 2, 'c2'));
  es.emit('update', d('b', 6, 'b6'));
  es.emit('update', d('c', 3, 'c3'));
  es.emit('update', d('b', 7, 'b7'));
  await br.settle();
  assert.deepEqual(a.morphs, [p('a1')]);
  assert.deepEqual(b.morphs, [p('b5'), p('b6'), p('b7')]);
  assert.deepEqual(c.morphs, [p('c2'), p('c3')]);
  assert.deepEqual([a.live.seq, b.live.seq, c.live.seq], [1, 7, 3]);
  assert.deepEqual([a.errors, b.errors, c.errors], [[], [], []]);
  // A follower's POST goes out on its own, with its own connection.
  assert.equal(c.fetches.length, 0);
});

test('the leader resumes every tab at its seq after an error, with backoff', async (t) => {
  t.mock.method(Math, 'random', () => 0.5);
  const { br, tabs, es } = await three();
  const [a, b, c] = tabs;
  es.emit('update', d('b', 6, 'b6'));
  es.emit('error');
  await br.settle();
  assert.deepEqual([a.status(), b.status(), c.status()], ['offline', 'offline', 'offline']);
  // A tab that joins during the backoff does not cut it short.
  const late = br.open('d');
  await br.run(249);
  assert.equal(br.streams().length, 0);
  await br.run(1);
  assert.equal(br.streams().length, 1);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['b', '6'], ['c', '2'], ['d', '']]);
  assert.equal(late.open().length, 0);
});

test('when the leader goes, the next tab leads and resumes the others', async () => {
  const { br, tabs, es } = await three();
  const [a, b, c] = tabs;
  es.emit('update', d('c', 3, 'c3'));
  es.emit('update', d('a', 2, 'a2'));
  await br.settle();
  a.close();
  await br.settle();
  assert.ok(b.live.leader);
  assert.ok(!c.live.leader);
  assert.equal(br.streams().length, 0); // gathering the followers first
  await br.run(GATHER_MS);
  const streams = br.streams();
  assert.equal(streams.length, 1);
  assert.equal(streams[0].tab, b);
  // b at its render, c at the update it applied last; a is gone.
  assert.equal(streams[0].url, '/room?x=1&_lt_conn=b&_lt_seq=5&_lt_conn=c&_lt_seq=3');
  streams[0].emit('open');
  streams[0].emit('update', d('c', 4, 'c4'));
  streams[0].emit('update', d('b', 6, 'b6'));
  await br.settle();
  assert.deepEqual(c.morphs, [p('c3'), p('c4')]);
  assert.deepEqual(b.morphs, [p('b6')]);
  assert.equal(c.status(), 'online');
  // And c leads after b.
  b.close();
  await br.run(GATHER_MS);
  assert.equal(br.streams().length, 1);
  assert.equal(br.streams()[0].url, '/room?x=1&_lt_conn=c&_lt_seq=4');
});

test('a tab whose connection the server replaced adopts the new one', async (t) => {
  t.mock.method(Math, 'random', () => 0);
  const { br, tabs, es } = await three();
  const [a, b, c] = tabs;
  // c's connection expired: the render of its replacement names it in o.
  es.emit('render', { ...r('c9', 1, 'new c'), o: 'c' });
  es.emit('update', d('c9', 2, 'c9 two'));
  es.emit('update', d('c', 3, 'old c'));
  await br.settle();
  assert.deepEqual(c.morphs, [p('new c'), p('c9 two')]);
  assert.equal(c.live.conn, 'c9');
  assert.deepEqual([a.morphs, b.morphs], [[], []]);
  assert.deepEqual([a.live.conn, b.live.conn], ['a', 'b']);
  // The leader follows: the next stream names c9 at 2, and no more c.
  es.emit('error');
  await br.run(0);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['b', '5'], ['c9', '2']]);
  // The leader's own connection can be replaced as well.
  br.streams()[0].emit('render', { ...r('a7', 1, 'new a'), o: 'a' });
  await br.settle();
  assert.equal(a.live.conn, 'a7');
  assert.deepEqual(a.morphs, [p('new a')]);
  br.streams()[0].emit('error');
  await br.run(0);
  assert.deepEqual(br.streams()[0].conns, [['a7', '1'], ['b', '5'], ['c9', '2']]);
});

test('the shared stream has a watchdog too', async (t) => {
  t.mock.method(Math, 'random', () => 0.5);
  const { br, tabs, es } = await three();
  es.emit('hb', '1000');
  await br.run(2400);
  es.emit('update', d('b', 6, 'b6')); // anything restarts it
  await br.run(2499);
  assert.ok(!es.closed);
  await br.run(1);
  assert.ok(es.closed);
  assert.deepEqual(tabs.map((x) => x.status()), ['offline', 'offline', 'offline']);
  await br.run(250);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['b', '6'], ['c', '2']]);
});

test('the leader reconnects after the server\'s retry plus the backoff', async (t) => {
  t.mock.method(Math, 'random', () => 0.5);
  const { br, tabs, es } = await three();
  es.emit('hb', '15000 2000');
  es.emit('error');
  await br.run(2249);
  assert.equal(br.streams().length, 0);
  assert.deepEqual(tabs.map((x) => x.status()), ['offline', 'offline', 'offline']);
  await br.run(1);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['b', '5'], ['c', '2']]);
  // Silent (no hb on this stream yet): the retry learnt still floors it.
  await br.run(37500);
  assert.equal(br.streams().length, 0);
  await br.run(2499);
  assert.equal(br.streams().length, 0);
  await br.run(1);
  assert.equal(br.streams().length, 1);
  assert.equal(br.streams()[0].tab, tabs[0]);
});

// click clicks a button named x outside any form in tab.
function click(tab) {
  const button = { name: 'x', value: '', form: null, closest: () => button, getAttribute: () => null, setAttribute() {}, removeAttribute() {} };
  const e = new Event('click');
  Object.defineProperty(e, 'target', { value: button });
  tab.win.document.dispatchEvent(e);
  return tab.fetches.at(-1);
}

test('a follower that needs a render asks the leader for one', async (t) => {
  t.mock.method(console, 'warn', () => {});
  const { br, tabs, es } = await three();
  const [, b, c] = tabs;
  es.emit('update', { c: 'b', s: 6, d: { 9: 'no such slot' } });
  await br.settle();
  assert.deepEqual(b.errors, ['bad update: no slot 9']);
  // More updates of b before the reconnect: b cannot apply them, and the
  // leader must not take them for b's seq.
  es.emit('update', d('b', 6, 'b6'));
  es.emit('update', d('b', 7, 'b7'));
  es.emit('update', d('c', 3, 'c3')); // the leader still tracks c
  await br.run(GATHER_MS - 1);
  assert.ok(!es.closed);
  await br.run(1);
  assert.ok(es.closed);
  assert.equal(br.sources.length, 2);
  const [next] = br.streams();
  assert.deepEqual(next.conns, [['a', '1'], ['b', ''], ['c', '3']]);
  // A POST answer that b cannot apply either: a render is on its way
  // already, b does not ask again.
  const post = click(b);
  post.resolve(new Response(JSON.stringify(d('b', 6, 'b6')), { status: 200 }));
  await br.run(GATHER_MS);
  assert.equal(br.sources.length, 2);
  // Updates of b on the new stream before its render change nothing.
  next.emit('update', d('b', 7, 'b7'));
  next.emit('render', r('b', 7, 'b7'));
  next.emit('update', d('b', 8, 'b8'));
  await br.settle();
  assert.deepEqual(b.morphs, [p('b7'), p('b8')]);
  assert.equal(br.sources.length, 2);
  // A POST answered 410 asks too, for c's connection.
  const gone = click(c);
  assert.match(gone.init.body.toString(), /_lt_conn=c$/);
  gone.resolve(new Response('{"error":"gone"}', { status: 410 }));
  await br.run(GATHER_MS);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['b', '8'], ['c', '']]);
  assert.equal(br.sources.length, 3);
});

for (const [mode, opts] of [
  ['with Web Locks', {}],
  ['without Web Locks', { locks: false }],
]) {
  test(`${mode} the tabs over 64 share a second stream`, async () => {
    const br = browser(opts);
    const tabs = Array.from({ length: 70 }, (_, i) => br.open('t' + i));
    // The 6 tabs the first leader finds one too many elect their own.
    await br.run(2 * CLAIM_MS + GATHER_MS);
    const names = (n, from) => Array.from({ length: n }, (_, i) => 't' + (from + i));
    assert.deepEqual(
      br.streams().map((x) => [x.tab.conn, x.conns.map(([c]) => c)]),
      [
        ['t0', names(64, 0)],
        ['t64', names(6, 64)],
      ],
    );
    const [one, two] = br.streams();
    one.emit('open');
    two.emit('open');
    await br.settle();
    assert.deepEqual(new Set(tabs.map((x) => x.status())), new Set(['online']));
    two.emit('render', r('t69', 4, 'last'));
    one.emit('render', r('t1', 2, 'second'));
    await br.settle();
    assert.deepEqual(tabs[69].morphs, [p('last')]);
    assert.deepEqual(tabs[1].morphs, [p('second')]);
    // The second stream's leader goes: the next of its group takes over.
    tabs[64].close();
    await br.run(CLAIM_MS + GATHER_MS);
    assert.deepEqual(
      br.streams().map((x) => [x.tab.conn, x.conns]),
      [
        ['t0', one.conns],
        ['t65', [...names(4, 65).map((c) => [c, '']), ['t69', '4']]],
      ],
    );
    // A tab that comes when both streams are full opens a third.
    tabs[64] = br.open('late');
    await br.run(3 * CLAIM_MS + GATHER_MS);
    assert.equal(br.streams().length, 2);
    assert.deepEqual(br.streams()[1].conns.map(([c]) => c), [...names(5, 65), 'late']);
  });
}

test('a tab that leaves is dropped from the stream', async () => {
  const { br, tabs } = await three();
  tabs[1].close();
  await br.run(GATHER_MS);
  assert.equal(br.streams().length, 1);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['c', '2']]);
});

test('a tab that goes without pagehide is dropped from the stream all the same', async () => {
  const { br, tabs } = await three();
  tabs[1].vanish();
  await br.run(GATHER_MS);
  assert.equal(br.streams().length, 1);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['c', '2']]);
});

test('a tab that goes without pagehide after the server replaced its connection is dropped too', async () => {
  const { br, tabs, es } = await three();
  es.emit('render', { ...r('b9', 1, 'new b'), o: 'b' });
  await br.settle();
  assert.equal(tabs[1].live.conn, 'b9');
  tabs[1].vanish();
  await br.run(GATHER_MS);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['c', '2']]);
});

test('a tab back from the back/forward cache joins again', async () => {
  const { br, tabs } = await three();
  const c = tabs[2];
  const page = (type) => c.win.dispatchEvent(Object.assign(new Event(type), { persisted: true }));
  page('pagehide');
  await br.run(GATHER_MS);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['b', '5']]);
  page('pageshow');
  await br.run(GATHER_MS);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['b', '5'], ['c', '2']]);
  assert.equal(br.streams().length, 1);
});

// shown dispatches pagehide or pageshow (from the back/forward cache) in tab.
const shown = (tab, type) => tab.win.dispatchEvent(Object.assign(new Event(type), { persisted: true }));

test('a leader hidden by navigation closes the stream and hands the lead over at once', async () => {
  const { br, tabs, es } = await three();
  const [a, b, c] = tabs;
  shown(a, 'pagehide');
  assert.ok(es.closed);
  assert.ok(!a.live.leader);
  await br.settle();
  // The lock is free: b leads without waiting for a to be closed for good.
  assert.ok(b.live.leader);
  assert.ok(!c.live.leader);
  // Nobody has a stream now: the followers know.
  assert.deepEqual([b.status(), c.status()], ['connecting', 'connecting']);
  await br.run(GATHER_MS);
  assert.equal(br.streams().length, 1);
  assert.equal(br.streams()[0].tab, b);
  assert.deepEqual(br.streams()[0].conns, [['b', '5'], ['c', '2']]);
  assert.deepEqual(a.open(), []);
  // Back from the cache, a follows b and is resumed at its seq.
  shown(a, 'pageshow');
  await br.run(GATHER_MS);
  assert.ok(!a.live.leader && b.live.leader);
  const [next] = br.streams();
  assert.deepEqual(next.conns, [['b', '5'], ['c', '2'], ['a', '1']]);
  next.emit('open');
  next.emit('update', d('a', 2, 'a2'));
  await br.settle();
  assert.deepEqual(a.morphs, [p('a2')]);
  assert.equal(a.status(), 'online');
});

test('a tab alone leads again when it comes back from the cache', async () => {
  const br = browser();
  const a = br.open('a');
  await br.run(GATHER_MS);
  const [es] = br.streams();
  es.emit('render', r('a', 3, 'a3'));
  await br.settle();
  shown(a, 'pagehide');
  await br.run(60000);
  assert.deepEqual(br.streams(), []);
  assert.equal(br.timers().length, 0);
  shown(a, 'pageshow');
  await br.run(GATHER_MS);
  assert.ok(a.live.leader);
  assert.deepEqual(br.streams().map((x) => x.conns), [[['a', '3']]]);
});

test('a hidden follower gives up its place in the queue for the lock', async () => {
  const { br, tabs } = await three();
  const [a, b, c] = tabs;
  shown(c, 'pagehide');
  a.close();
  await br.run(GATHER_MS);
  assert.ok(b.live.leader);
  assert.deepEqual(br.streams()[0].conns, [['b', '5']]);
  // With b gone too, nobody leads: c, hidden, opens nothing.
  b.close();
  await br.run(GATHER_MS);
  assert.deepEqual(br.streams(), []);
  assert.ok(!c.live.leader);
  shown(c, 'pageshow');
  await br.run(GATHER_MS);
  assert.ok(c.live.leader);
  assert.deepEqual(br.streams()[0].conns, [['c', '2']]);
});

test('without BroadcastChannel each tab has a stream of its own', async () => {
  const br = browser({ channels: false });
  const tabs = ['a', 'b', 'c'].map((c) => br.open(c));
  await br.run(GATHER_MS);
  assert.equal(br.streams().length, 3);
  for (const tab of tabs) {
    assert.equal(tab.open().length, 1);
    assert.equal(tab.open()[0].url, `/room?x=1&_lt_conn=${tab.conn}&_lt_seq=`);
    assert.ok(tab.live.leader);
  }
  // A tab takes only its own events, even from its own stream.
  tabs[0].open()[0].emit('render', r('b', 1, 'b on the stream of a'));
  tabs[1].open()[0].emit('render', r('b', 1, 'b1'));
  await br.settle();
  assert.deepEqual(tabs.map((x) => x.morphs), [[], [p('b1')], []]);
});

test('without BroadcastChannel a hidden tab gives its stream up and resumes it when shown', async () => {
  const br = browser({ channels: false });
  const [a, b] = ['a', 'b'].map((c) => br.open(c));
  const back = br.open('c', { hidden: true }); // opened in the background
  await br.run(GATHER_MS);
  assert.deepEqual(br.streams().map((x) => x.tab), [a, b]);
  assert.equal(back.status(), 'offline');
  b.open()[0].emit('open');
  b.open()[0].emit('render', r('b', 3, 'b3'));
  b.open()[0].emit('hb', '15000 1000');
  await br.settle();
  b.hide();
  assert.deepEqual(br.streams().map((x) => x.tab), [a]);
  assert.equal(b.status(), 'offline');
  await br.run(60000); // no watchdog, no reconnect while hidden
  assert.deepEqual(br.streams().map((x) => x.tab), [a]);
  b.show();
  back.show();
  assert.deepEqual(br.streams().map((x) => [x.tab.conn, x.conns]), [
    ['a', [['a', '']]],
    ['b', [['b', '3']]],
    ['c', [['c', '']]],
  ]);
  assert.equal(b.status(), 'connecting');
  // Shown again while its stream is up: nothing changes.
  b.show();
  assert.equal(br.sources.length, 5);
});

test('the retry reaches the followers: one that comes to lead waits it before its first hb', async (t) => {
  t.mock.method(Math, 'random', () => 0.5);
  for (const opts of [{}, { locks: false }]) {
    const { br, tabs, es } = await three(undefined, opts);
    es.emit('hb', '15000 2000');
    tabs[0].close();
    await br.run(CLAIM_MS + GATHER_MS);
    const [next] = br.streams();
    assert.equal(next.tab, tabs[1]);
    next.emit('error');
    await br.run(2249);
    assert.equal(br.streams().length, 0);
    await br.run(1);
    assert.deepEqual(br.streams()[0].conns, [['b', '5'], ['c', '2']]);
  }
});

// Without Web Locks: the election over the channel.
const lease = { locks: false };

test('without Web Locks the tabs elect one leader over the channel and share its stream', async () => {
  const br = browser(lease);
  const [a, b, c] = ['a', 'b', 'c'].map((conn) => br.open(conn));
  await br.run(CLAIM_MS - 1);
  assert.deepEqual([a.live.leader, b.live.leader, c.live.leader], [false, false, false]); // claiming
  await br.run(1);
  assert.deepEqual([a.live.leader, b.live.leader, c.live.leader], [true, false, false]);
  await br.run(GATHER_MS);
  assert.equal(br.sources.length, 1);
  const [es] = br.streams();
  assert.equal(es.tab, a);
  assert.equal(es.url, '/room?x=1&_lt_conn=a&_lt_seq=&_lt_conn=b&_lt_seq=&_lt_conn=c&_lt_seq=');
  es.emit('open');
  es.emit('render', r('c', 2, 'c2'));
  await br.settle();
  assert.deepEqual([a.status(), b.status(), c.status()], ['online', 'online', 'online']);
  assert.deepEqual(c.morphs, [p('c2')]);
  // A tab that comes later follows at once: the leader answers its claim.
  const d = br.open('d');
  await br.settle();
  assert.ok(!d.live.leader);
  assert.equal(d.status(), 'online');
  await br.run(GATHER_MS);
  assert.ok(es.closed);
  assert.deepEqual(br.streams()[0].conns, [['a', ''], ['b', ''], ['c', '2'], ['d', '']]);
  // Beacons and their answers keep it so: no claim, no other leader.
  await br.run(60000);
  assert.deepEqual(new Set(br.sources.map((x) => x.tab)), new Set([a]));
  assert.deepEqual([a, b, c, d].map((x) => x.live.leader), [true, false, false, false]);
});

test('without Web Locks a leader that closes hands over at once, resuming each tab at its seq', async () => {
  const { br, tabs, es } = await three(undefined, lease);
  const [a, b, c] = tabs;
  es.emit('update', d('c', 3, 'c3'));
  es.emit('update', d('a', 2, 'a2'));
  await br.settle();
  a.close(); // bye: no waiting for its beacons to stop
  assert.ok(es.closed);
  await br.run(CLAIM_MS + GATHER_MS);
  assert.ok(b.live.leader && !c.live.leader);
  const [next] = br.streams();
  assert.equal(next.tab, b);
  assert.equal(next.url, '/room?x=1&_lt_conn=b&_lt_seq=5&_lt_conn=c&_lt_seq=3');
  next.emit('open');
  next.emit('update', d('c', 3, 'c3 again')); // replayed: already applied
  next.emit('update', d('c', 4, 'c4'));
  await br.settle();
  assert.deepEqual(c.morphs, [p('c3'), p('c4')]);
  assert.equal(c.status(), 'online');
  assert.equal(br.sources.length, 2);
});

test('without Web Locks a leader that vanishes is replaced after 3 periods without its beacon', async () => {
  const { br, tabs } = await three(undefined, lease);
  const [a, b, c] = tabs;
  a.vanish();
  await br.run(2 * BEAT_MS);
  assert.deepEqual(br.streams(), []);
  assert.ok(!b.live.leader && !c.live.leader);
  await br.run(BEAT_MS + CLAIM_MS + GATHER_MS);
  assert.ok(b.live.leader && !c.live.leader);
  assert.deepEqual(br.streams().map((x) => [x.tab, x.conns]), [[b, [['b', '5'], ['c', '2']]]]);
});

test('without Web Locks a follower that vanishes is dropped once it answered none of 3 rounds', async () => {
  const { br, tabs, es } = await three(undefined, lease);
  tabs[1].vanish();
  await br.run(3 * BEAT_MS);
  assert.ok(!es.closed);
  await br.run(BEAT_MS + GATHER_MS);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['c', '2']]);
  assert.equal(br.sources.length, 2);
});

test('without Web Locks a tab whose timers are throttled keeps its place, leader or follower', async () => {
  const { br, tabs, es } = await three(undefined, lease);
  const [a, b, c] = tabs;
  // Hidden tabs: the browser runs their timers rarely, if at all, but
  // delivers their messages.
  a.throttled = true;
  b.throttled = true;
  await br.run(60000);
  // c claimed every 3 periods, and a answered each claim.
  assert.deepEqual([a, b, c].map((x) => x.live.leader), [true, false, false]);
  assert.ok(!es.closed);
  assert.equal(br.sources.length, 1);
});

test('without Web Locks two leaders settle on the better one, whose stream takes every tab', async () => {
  const { br, tabs } = await three(undefined, lease);
  const [a] = tabs;
  // Busy: it neither hears the claim of a new tab in time nor beacons.
  a.deaf = a.throttled = true;
  const late = br.open('d');
  await br.run(CLAIM_MS + GATHER_MS);
  assert.ok(late.live.leader);
  const mine = late.open()[0];
  assert.deepEqual(mine.conns, [['d', '']]);
  mine.emit('render', r('d', 4, 'd4'));
  await br.settle();
  // a hears it at last: a is the older tab, d steps down and follows it.
  a.deaf = a.throttled = false;
  await br.run(GATHER_MS);
  assert.ok(a.live.leader && !late.live.leader);
  assert.ok(mine.closed);
  assert.deepEqual(br.streams().map((x) => [x.tab, x.conns]), [
    [a, [['a', '1'], ['b', '5'], ['c', '2'], ['d', '4']]],
  ]);
  br.streams()[0].emit('update', d('d', 5, 'd5'));
  await br.settle();
  assert.deepEqual(late.morphs, [p('d4'), p('d5')]);
});

test('without Web Locks a follower back from the back/forward cache follows again', async () => {
  const { br, tabs } = await three(undefined, lease);
  const c = tabs[2];
  shown(c, 'pagehide');
  await br.run(GATHER_MS);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['b', '5']]);
  shown(c, 'pageshow');
  await br.run(GATHER_MS);
  assert.ok(!c.live.leader);
  assert.deepEqual(br.streams()[0].conns, [['a', '1'], ['b', '5'], ['c', '2']]);
});

test('when the lock is refused the tabs elect their leader without it', async () => {
  const br = browser({ refuse: true });
  const tabs = ['a', 'b', 'c'].map((c) => br.open(c));
  await br.run(CLAIM_MS + GATHER_MS);
  assert.deepEqual(br.streams().map((x) => [x.tab, x.conns.map(([c]) => c)]), [[tabs[0], ['a', 'b', 'c']]]);
});
