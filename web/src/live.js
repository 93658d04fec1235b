// The wiring: the stream, the delegated action listeners and page state.
// Everything comes in through win and morph so that tests can drive it with
// fakes; in the browser win is window.

import { streamURL, backoff } from './stream.js';
import { gate, kind, MAX_PENDING } from './gate.js';
import { learn, decode, patch, render, region } from './tree.js';
import { liveForm, formBody, buttonBody } from './actions.js';

const BUSY = 'data-lt-busy';

/** Debounce of a leader's reconnect when the tabs it serves change, in ms. */
export const GATHER_MS = 30;

/** Heartbeat interval assumed until the stream names it, in ms. */
export const HEARTBEAT_MS = 15000;

/** Most connections one stream carries (the server's limit). */
export const MAX_CONNS = 64;

let elections = 0; // in this realm: part of the names of the tabs' own locks

/**
 * start runs the client on the page of win, applying new body html with
 * morph(html). It does nothing when the page has no livesse script tag, when
 * the browser lacks EventSource or fetch (plain form posts keep working) or
 * when a client already runs on the page.
 *
 * All tabs of a browser on the same page share one stream (a browser opens
 * at most 6 HTTP/1.1 connections per origin): the tab holding the Web Lock
 * named after the page is the leader, opens the one EventSource for itself
 * and the other tabs (the followers) and relays its events to them over a
 * BroadcastChannel of the same name. Each tab applies the messages of its
 * own connection, as it would from a stream of its own. When the leader
 * goes away, the next tab in the lock's queue leads: it announces itself,
 * the followers join again with the seq they have reached, and the new
 * stream resumes every one of them. Without Web Locks or BroadcastChannel
 * (or when the lock is refused) each tab has a stream of its own.
 *
 * A follower also holds a lock of its own, named in its join, for as long
 * as it follows, and the leader queues for it: the browser grants it to the
 * leader when the follower is gone, whether or not its pagehide ran (a tab
 * closed while its renderer is busy, a crash, a discarded tab). The leader
 * then drops it from the stream as it does on a leave, so that its server
 * connection ends after the reconnect grace instead of living on, carried
 * by the leader's stream, for as long as the leader does.
 *
 * A page hidden by navigation (pagehide: it may go into the back/forward
 * cache, where it must not hold a stream, the lock or a place in its queue)
 * closes its stream; a leader tells its followers and gives the lock up, so
 * that the next tab leads at once; a follower leaves. Back from the cache
 * (pageshow, persisted), the tab joins or leads again.
 *
 * A live form with the attribute data-lt-reset is reset when its POST
 * succeeds, once the update that POST answered with is on the page: its
 * fields then show the values the server rendered (a chat box sent with
 * Enter is empty again).
 *
 * Channel messages, {t, ...}: from followers, join {conn, seq, tab} (seq
 * null without a tree: the stream starts that tab with a render; tab the
 * name of its own lock), resync {conn, tab} (that tab needs a render) and
 * leave {conn}; from the leader, leader (join again), ev {type, data} (an
 * SSE event) and status {s}.
 */
export function start(win, morph) {
  const doc = win.document;
  const tag = doc.querySelector('script[data-lt-conn]');
  const root = doc.documentElement;
  // A set status means a client already runs (not window.livesse: an element
  // with id="livesse" would show up there).
  if (!tag || !win.EventSource || !win.fetch || root.dataset.ltStatus) return;

  // The connection, the update the page shows and its tree: null until the
  // first render (the page came from a plain GET) and after an html fallback.
  const state = { conn: tag.dataset.ltConn, seq: Number(tag.dataset.ltSeq) || 0, tree: null };
  let statics = new Map(); // fragment id -> statics, learned per connection
  const pending = new Map(); // seq -> a diff waiting for the ones before it
  let fresh = false; // a render has been asked for and has not come yet
  let es = null; // the leader's EventSource, null while waiting to (re)connect
  let timer = 0; // the next connect: a backoff or gathering the followers
  let backing = false; // timer is a backoff
  let dog = 0; // the watchdog of a silent stream
  let every = HEARTBEAT_MS;
  // The server's retry time, the floor of every reconnect's delay: from the
  // last hb of our own stream (followers get no hb), 0 until one comes.
  let retry = 0;
  let attempt = 0;

  const name = 'livesse:' + win.location.pathname + win.location.search;
  const locks = win.navigator && win.navigator.locks;
  // Whether tabs share a stream; false for a stream of our own.
  let shared = !!(locks && win.BroadcastChannel);
  let bc = null; // the channel to the other tabs, while shared and shown
  let leader = !shared;
  let release = null; // gives up the lock (the lead)
  let abort = null; // withdraws the lock request
  const members = new Map(); // the leader's followers: conn -> seq, null without a tree
  const tabOf = new Map(); // the leader's followers: conn -> the name of their tab's own lock
  const waits = new Map(); // the leader's requests for those locks: name -> AbortController
  let tab = ''; // the name of this tab's own lock, while it holds it
  let untab = null; // gives it up
  const send = (m) => bc && bc.postMessage(m);
  const resets = new Set(); // {form, c, s}: reset form once update s of conn c shows

  const setStatus = (s) => {
    root.dataset.ltStatus = s;
    if (leader) send({ t: 'status', s });
  };
  const emit = (type, detail) => doc.dispatchEvent(new win.CustomEvent(type, { detail }));
  const fail = (status, message) => {
    console.warn('livesse:', status, message);
    emit('lt:error', { status, message });
  };

  // ask gets a render: a leader reconnects, a follower asks its leader.
  function ask() {
    if (leader) return connect();
    fresh = true;
    send({ t: 'resync', conn: state.conn, tab });
  }

  // resync drops the tree and gets a render, unless one is on its way.
  function resync() {
    state.tree = null;
    pending.clear();
    if (!fresh) ask();
  }

  // apply is the one place where a message reaches the page.
  function apply(msg, reset) {
    if (reset) {
      // A new connection (the server restarted): its seqs start over and
      // its fragment ids may stand for other statics.
      if (msg.c !== state.conn) {
        statics = new Map();
        pending.clear();
      }
      state.conn = msg.c;
    }
    let html;
    try {
      learn(statics, msg.S);
      const k = kind(msg);
      if (k === 'h') {
        state.tree = null;
        html = msg.h;
      } else {
        if (k === 'r') state.tree = decode(msg.r);
        else patch(state.tree, msg.d);
        html = region(render(state.tree, statics));
      }
    } catch (err) {
      fail(0, 'bad ' + (reset ? 'render' : 'update') + ': ' + err.message);
      return resync();
    }
    if (reset) fresh = false;
    state.seq = msg.s;
    morph(html);
    flush();
    emit('lt:update', { seq: state.seq });
  }

  // flush resets the data-lt-reset forms whose update is on the page (or
  // that wait for a connection we no longer have).
  function flush() {
    for (const r of resets) {
      if (r.c !== state.conn || r.s <= state.seq) {
        resets.delete(r);
        r.form.reset();
      }
    }
  }

  // receive runs msg through the gate, then the held diffs that have become
  // next in line.
  function receive(msg, reset) {
    for (;;) {
      const act = gate(state, msg, reset);
      if (act === 'apply') apply(msg, reset);
      else if (act === 'resync') resync();
      else if (act === 'hold') {
        // Too far behind to wait: start over from a render.
        if (pending.size >= MAX_PENDING && !pending.has(msg.s)) resync();
        else pending.set(msg.s, msg);
      }
      for (const s of pending.keys()) if (s <= state.seq) pending.delete(s);
      msg = pending.get(state.seq + 1);
      if (!msg) return;
      pending.delete(msg.s);
      reset = false;
    }
  }

  // onEvent takes an SSE render or update event, from the leader's stream
  // (lead) or relayed by the leader.
  function onEvent(type, data, lead) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return fail(0, 'bad ' + type + ' event');
    }
    const reset = type === 'render';
    if (lead && msg && kind(msg)) track(msg, reset);
    receive(msg, reset);
  }

  // track follows the seq each follower reaches (by the messages they can
  // apply) and the connections the server replaces, so that the next
  // stream resumes each of them where it is.
  function track(msg, reset) {
    const c = msg.c;
    if (reset && members.delete(msg.o)) {
      members.set(c, msg.s);
      if (tabOf.has(msg.o)) tabOf.set(c, tabOf.get(msg.o));
      tabOf.delete(msg.o);
    } else if (members.has(c) && (reset || members.get(c) != null)) members.set(c, msg.s);
  }

  // gather reconnects soon with the followers, unless a backoff runs.
  function gather() {
    if (backing) return;
    win.clearTimeout(timer);
    timer = win.setTimeout(connect, GATHER_MS);
  }

  // watch restarts the watchdog: a stream that says nothing for 2.5
  // heartbeats is dead, even if the network did not tell.
  function watch() {
    win.clearTimeout(dog);
    dog = win.setTimeout(drop, every * 2.5);
  }

  // drop closes the stream and reconnects after the server's retry time
  // (never sooner than it asked) plus a backoff (spreading the tabs of many
  // browsers over the time after it).
  function drop() {
    win.clearTimeout(dog);
    es.close();
    es = null;
    setStatus('offline');
    backing = true;
    timer = win.setTimeout(connect, retry + backoff(attempt++));
  }

  function connect() {
    win.clearTimeout(timer);
    backing = false;
    if (es) es.close();
    setStatus('connecting');
    // Without a tree the client cannot take diffs: ask for a render.
    fresh = !state.tree;
    const conns = [[state.conn, fresh ? null : state.seq], ...members].slice(0, MAX_CONNS);
    const src = (es = new win.EventSource(streamURL(win.location.href, conns)));
    watch();
    src.addEventListener('open', () => {
      attempt = 0;
      setStatus('online');
      watch();
    });
    // Close to stop the browser's own retry: we retry with backoff and a
    // fresh URL carrying the seqs reached since.
    src.addEventListener('error', () => src === es && drop());
    // hb data: "<interval ms> <retry ms>", the retry: field of the event
    // (which EventSource keeps from scripts); old servers send no retry.
    // Numbers that are not numbers leave the value as it was.
    src.addEventListener('hb', (e) => {
      const [i, r = '0'] = e.data.split(' ');
      every = Number(i) || every;
      if (/^\d+$/.test(r)) retry = +r;
      watch();
    });
    for (const type of ['render', 'update']) {
      src.addEventListener(type, (e) => {
        watch();
        send({ t: 'ev', type, data: e.data });
        onEvent(type, e.data, true);
      });
    }
  }

  // post sends an action for el (a button, or a form without submitter)
  // and resets form, if given, when it succeeds.
  async function post(el, body, form) {
    el.setAttribute('aria-busy', 'true');
    el.setAttribute(BUSY, '');
    try {
      const res = await win.fetch(win.location.href, {
        method: 'POST',
        body,
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      const msg = await res.json().catch(() => null);
      // A non-JSON answer after a redirect is a handler that does not speak
      // livesse (e.g. the plain-HTML 303): follow it as the browser would.
      if (!msg && res.redirected) return win.location.assign(res.url);
      // An action error rendered into the page comes as an update with 422.
      if (msg) receive(msg, false);
      // Reset once the page shows the answer's update (at once when it
      // carries none: 202, the update comes on the stream).
      if (form && res.ok) {
        resets.add({ form, c: state.conn, s: (msg && msg.c === state.conn && +msg.s) || 0 });
        flush();
      }
      // The server forgot our connection: the stream gets a fresh render.
      if (res.status === 410) ask();
      if (!res.ok || !msg) fail(res.status, (msg && msg.error) || 'HTTP ' + res.status);
    } catch (err) {
      fail(0, String((err && err.message) || err));
    } finally {
      el.removeAttribute('aria-busy');
      el.removeAttribute(BUSY);
    }
  }

  doc.addEventListener('submit', (e) => {
    const form = e.target;
    const s = e.submitter;
    if (e.defaultPrevented) return;
    const attr = (n) => (s && s.getAttribute('form' + n)) ?? form.getAttribute(n);
    const live = liveForm(attr, doc.baseURI, win.location.href);
    if (!live) return;
    e.preventDefault();
    const body = formBody(new win.FormData(form, s), s, state.conn, live.multipart);
    post(s || form, body, form.hasAttribute('data-lt-reset') && form);
  });

  doc.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('button[name]');
    // Buttons in a form (b.form set) act through the form's submit event.
    if (!b || !b.name || b.form || e.defaultPrevented) return;
    post(b, buttonBody(b.name, b.value, state.conn));
  });

  win.livesse = Object.freeze({
    get conn() {
      return state.conn;
    },
    get seq() {
      return state.seq;
    },
    get status() {
      return root.dataset.ltStatus;
    },
    // Whether this tab holds the stream (of its own, or shared with others).
    get leader() {
      return leader;
    },
  });

  // A follower joins once it holds its own lock (the leader's request for
  // it would be granted at once otherwise).
  const join = () =>
    tab && send({ t: 'join', conn: state.conn, seq: state.tree ? state.seq : null, tab });

  // outlive queues the leader for the lock of a follower's tab, granted
  // when that tab is gone: its connections then leave the stream.
  function outlive(name) {
    if (!name || waits.has(name)) return;
    const ctl = new AbortController();
    waits.set(name, ctl);
    locks
      .request(name, { signal: ctl.signal }, () => {
        waits.delete(name);
        if (!leader || ctl.signal.aborted) return;
        let gone = false;
        for (const [c, t] of tabOf) {
          if (t !== name) continue;
          tabOf.delete(c);
          gone = members.delete(c) || gone;
        }
        if (gone) gather();
      })
      .catch(() => waits.delete(name)); // withdrawn
  }

  const onMessage = ({ data: m }) => {
    if (leader) {
      if (m.t === 'join' || m.t === 'resync') {
        members.set(m.conn, m.seq ?? null);
        if (m.tab) tabOf.set(m.conn, m.tab);
        outlive(m.tab);
        send({ t: 'status', s: root.dataset.ltStatus });
      } else if (m.t === 'leave' && members.delete(m.conn)) tabOf.delete(m.conn);
      else return;
      gather();
    } else if (m.t === 'ev') onEvent(m.type, m.data);
    else if (m.t === 'status') setStatus(m.s);
    else if (m.t === 'leader') join();
  };

  // elect queues for the lock, granted when no other tab leads, and held
  // until this tab goes away or is hidden; meanwhile the tab follows.
  function elect() {
    bc = new win.BroadcastChannel(name);
    bc.onmessage = onMessage;
    setStatus('connecting');
    const ctl = (abort = new AbortController());
    // This tab's own lock, held while it is shown; a new name each time, so
    // that a leader still queued for the last one never takes this one.
    const nonce = Math.random().toString(36).slice(2);
    const own = [name, 'tab', ++elections, nonce, Date.now().toString(36)].join(' ');
    locks
      .request(own, { signal: ctl.signal }, () => {
        if (ctl.signal.aborted) return;
        tab = own;
        join();
        return new Promise((r) => (untab = r));
      })
      .catch(() => {}); // withdrawn, or refused (then no stream is shared)
    locks
      .request(name, { signal: ctl.signal }, () => {
        // Granted as the page was being hidden: let it go at once.
        if (ctl.signal.aborted) return;
        leader = true;
        setStatus('connecting'); // no stream yet
        send({ t: 'leader' });
        gather();
        return new Promise((r) => (release = r));
      })
      .catch(() => {
        if (ctl.signal.aborted) return; // withdrawn
        // No lock (an opaque origin...): a stream of our own.
        bc.close();
        bc = null;
        shared = false;
        leader = true;
        connect();
      });
  }

  // hide is the page going away, maybe into the back/forward cache: it
  // keeps no stream, no lead, no place in the lock's queue, no channel.
  function hide() {
    win.clearTimeout(timer);
    win.clearTimeout(dog);
    backing = false;
    if (es) es.close();
    es = null;
    if (!bc) return; // a stream of our own (or hidden already)
    if (leader) {
      // The followers wait for the next leader, which the lock names now.
      setStatus('connecting');
      leader = false;
      members.clear();
      tabOf.clear();
      for (const ctl of waits.values()) ctl.abort();
      waits.clear();
      release();
    } else send({ t: 'leave', conn: state.conn });
    if (untab) untab();
    untab = null;
    tab = '';
    abort.abort();
    bc.close();
    bc = null;
  }

  win.addEventListener('pagehide', hide);
  win.addEventListener('pageshow', (e) => e.persisted && !bc && (shared ? elect() : connect()));
  if (shared) elect();
  else connect();
}

/**
 * keepBusy is an Idiomorph beforeAttributeUpdated callback: a morph must not
 * clear the busy marks of an element whose request is still running.
 */
export function keepBusy(name, el) {
  return !(el.hasAttribute(BUSY) && (name === 'aria-busy' || name === BUSY));
}
