// The wiring: the stream, the delegated action listeners and page state.
// Everything comes in through win and morph so that tests can drive it with
// fakes; in the browser win is window.

import { streamURL, backoff } from './stream.js';
import { gate, kind, MAX_PENDING } from './gate.js';
import { learn, decode, patch, render, region } from './tree.js';
import { formAttr, liveForm, formBody, buttonBody, fieldBody } from './actions.js';
import { keyAction, timing } from './events.js';
import { hooks } from './hooks.js';
import { BUSY, LIST } from './morph.js';
import { viewport } from './list.js';
import { uploads } from './upload.js';

const FAILED = 'data-lt-failed';

// The DOM events that send actions: data-lt-KIND, or KIND:event type.
const KINDS = 'input change focus:focusin blur:focusout keydown keyup';

/** Debounce of a leader's reconnect when the tabs it serves change, in ms. */
export const GATHER_MS = 30;

/** Heartbeat interval assumed until the stream names it, in ms. */
export const HEARTBEAT_MS = 15000;

/** Most connections one stream carries (the server's limit). */
export const MAX_CONNS = 64;

/**
 * Without Web Locks: the period of a leader's beacon, and of every tab's
 * check of its leader, in ms. A follower that hears no beacon for 3 of its
 * periods claims the lead; a leader drops a follower that answered none of
 * its last 3 beacons.
 */
export const BEAT_MS = 1000;

/** How long a claim waits for a leader's or a better claim's answer, in ms. */
export const CLAIM_MS = 500;

/**
 * A POST without an answer after PROBE_MS is probed (a HEAD of the stream,
 * which opens nothing); when the probe has no answer either PROBE_MS later,
 * the tab cannot send its actions (the browser's connections to the origin
 * are all taken, or the network is gone): it says offline until one of them
 * gets through.
 */
export const PROBE_MS = 1000;

let elections = 0; // in this realm: part of the tabs' ids

/**
 * start runs the client on the page of win, applying new body html with
 * morph(html, focus), where focus is the field the user is typing in (see
 * userFields), else null. It does nothing when the page has no livesse script tag, when
 * the browser lacks EventSource or fetch (plain form posts keep working) or
 * when a client already runs on the page. nav, if given (nav.js), is
 * called with win and {conn(), receive(msg), adopt(conn, seq, html, from)}
 * and returns the function that applies an update's u.
 *
 * All tabs of a browser on the same page share one stream (a browser opens
 * at most 6 HTTP/1.1 connections per origin): one tab, the leader, opens
 * the one EventSource for itself and the other tabs (the followers) and
 * relays its events to them over a BroadcastChannel named after the page.
 * Each tab applies the messages of its own connection, as it would from a
 * stream of its own. When the leader goes away, another tab leads: the
 * followers join it with the seq they have reached, and its stream resumes
 * every one of them (nothing lost, nothing applied twice: the gate drops
 * what a tab has). A stream names at most 64 tabs: a leader that has 63
 * followers answers a join with full, and that tab runs the same election
 * among the tabs over 64 (channel and lock names get '#1', '#2'...), which
 * open a stream of their own.
 *
 * With Web Locks (secure contexts) the leader is the tab holding the lock
 * named after the page; when it goes, the next tab in the lock's queue
 * leads and announces itself (leader), and the followers join again. A
 * follower also holds a lock of its own, named in its join, for as long as
 * it follows, and the leader queues for it: the browser grants it to the
 * leader when the follower is gone, whether or not its pagehide ran (a tab
 * closed while its renderer is busy, a crash, a discarded tab). The leader
 * then drops it from the stream as it does on a leave, so that its server
 * connection ends after the reconnect grace instead of living on, carried
 * by the leader's stream, for as long as the leader does.
 *
 * Without Web Locks (plain http from a host other than localhost, or the
 * lock refused) the tabs elect their leader over the channel itself, with
 * leases. Each tab has an id and a rank {id, b} (b: when it started; the
 * older tab, then the smaller id, is better). A tab without a leader
 * claims (claim {id, b}) and leads when, CLAIM_MS later, no leader has
 * answered and no better claim came. A leader beacons every BEAT_MS (a
 * status message that carries its rank and the round n of its beacons),
 * answers every claim at once with a beacon, and steps down for a better
 * leader's beacon (two leaders: one claim was not answered in time). A
 * follower follows the first leader it hears, or a better one, answers each
 * round with a join (sent to the leader's inbox, a channel named after the
 * page and the leader's id, so that the other tabs are not woken), and
 * claims when it has heard no beacon for 3 of its own BEAT_MS periods (a
 * leader that vanished: a crash, a frozen tab) or at once when its leader
 * says bye (pagehide). The leader drops the followers that answered none of
 * its last 3 rounds. The counts are in rounds and periods, not in time, so
 * that a hidden tab whose timers the browser throttles does not lose its
 * leader or followers: channel messages are not throttled.
 *
 * Without BroadcastChannel each tab has a stream of its own, held while the
 * page is visible: a hidden tab gives it up, so that the visible ones have
 * connections left for their streams and POSTs, and resumes it when shown.
 *
 * A page hidden by navigation (pagehide: it may go into the back/forward
 * cache, where it must not hold a stream, the lock or a place in its queue)
 * tells the server it leaves (a beacon, _lt_leave=conn) and closes its
 * stream; a leader tells its followers and gives the lead up, so
 * that the next tab leads at once; a follower leaves. Back from the cache
 * (pageshow, persisted), the tab joins or leads again.
 *
 * The status is offline while an action cannot be sent: a POST without an
 * answer after PROBE_MS, whose probe got none either (see PROBE_MS).
 *
 * A live form with the attribute data-lt-reset is reset when its POST
 * succeeds, once the update that POST answered with is on the page: its
 * fields then show the values the server rendered (a chat box sent with
 * Enter is empty again).
 *
 * Channel messages, {t, ...}: from followers, join {conn, seq, tab} (seq
 * null without a tree: the stream starts that tab with a render; tab the
 * name of its own lock, or its id), resync {conn, tab} (that tab needs a
 * render) and leave {conn}; from the leader, leader (join again), ev {type,
 * data} (an SSE event), status {s, r, id, b, n} (the stream's status, the
 * server's retry time, so that a follower that comes to lead has it before
 * its stream's first hb, and the beacon's fields), full {conn} (that tab
 * is one too many) and bye {id}; from tabs without a leader, claim {id, b}.
 */
export function start(win, morph, nav) {
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
  // last hb of our own stream, or the leader's status; 0 until one comes.
  let retry = 0;
  let attempt = 0;
  let status = ''; // the stream's: connecting, online or offline
  let stuck = 0; // POSTs that cannot be sent (see PROBE_MS)
  let onURL = null; // applies an update's u (nav.js)

  let page = 'livesse:' + win.location.pathname + win.location.search;
  let name = page; // the channel's and the lock's: '#' + n for the tabs over 64
  let group = 0; // n
  const BC = win.BroadcastChannel;
  const locks = win.navigator?.locks;
  let lease = !locks; // the election without Web Locks
  let bc = null; // the channel to the other tabs, while shared and shown
  let leader = !BC; // without a channel, a stream of our own
  let release = null; // gives up the lock (the lead)
  let abort = null; // withdraws the lock requests
  const members = new Map(); // the leader's followers: conn -> seq, null without a tree
  const tabOf = new Map(); // the leader's followers: conn -> the name of their tab (lock or id)
  const seen = new Map(); // the leader's followers' tabs -> the round they last answered
  const waits = new Map(); // the leader's requests for those locks: name -> AbortController
  let tab = ''; // the name of this tab's own lock, or its id, while it may follow
  let untab = null; // gives the lock up
  let me = null; // this tab's rank, {id, b}
  let boss = null; // without locks: the beacon of the leader followed, null while none
  let said; // the round of boss's beacons answered last
  let miss = 0; // periods (BEAT_MS) without a beacon of boss
  let claiming = 0; // the claim's timer, while claiming
  let pulsing = 0; // the next period's timer
  let inbox = null; // without locks, the leader's: the followers' messages
  let round = 0; // the leader's beacons
  const send = (m) => bc?.postMessage(m);
  // tell sends a follower's message to its leader: without locks to its
  // inbox only, on a channel made for the message.
  const tell = (m) => {
    if (!lease) return send(m);
    if (!boss) return;
    const c = new BC(name + ' ' + boss.id);
    c.postMessage(m);
    c.close();
  };
  const resets = new Set(); // {form, c, s}: reset form once update s of conn c shows

  // The field the user is typing in: edited (an input event) since it got
  // focus. A morph keeps its value (fields.js); anything else focused (a
  // button...) is morphed. used: the fields typed in or left since the page
  // loaded (_lt_used).
  let edited = null;
  const used = new WeakSet();
  const { schedule, blurred } = timing(win);
  doc.addEventListener('input', (e) => used.add((edited = e.target)));
  doc.addEventListener('focusout', (e) => {
    const t = e.target;
    if (t === edited) edited = null;
    if (t.form) used.add(t);
    blurred(t); // debounce "blur"
  });
  // queues: per form (or element outside any form), the POST in flight
  // (busy) and those waiting (list). A form's POSTs go one at a time, in
  // order, so that the server runs them in the order of the user's events,
  // and the answer to an older one cannot land after a newer one's.
  const queues = new Map();
  const sent = new WeakMap(); // form -> its submits so far
  // keep tells which fields a morph leaves as the user has them (fields.js):
  // the one being typed in, and those of a form with a newer POST waiting,
  // which the answer to an older one must not overwrite.
  const keep = (el) =>
    (el === edited && el === doc.activeElement) || !!(el.form && queues.get(el.form)?.list.length);

  const show = () => (root.dataset.ltStatus = stuck ? 'offline' : status);
  const beacon = () => send({ t: 'status', s: status, r: retry, ...me, n: round });
  const setStatus = (s) => {
    status = s;
    show();
    if (leader) beacon();
  };
  const up = uploads(win); // a form's files: progress, cancel (upload.js)
  const emit = (type, detail) => doc.dispatchEvent(new win.CustomEvent(type, { detail }));
  const fail = (status, message) => {
    console.warn('livesse:', status, message);
    emit('lt:error', { status, message });
  };

  // ask gets a render: a leader reconnects, a follower asks its leader.
  function ask() {
    if (leader) return connect();
    fresh = true;
    tell({ t: 'resync', conn: state.conn, tab });
  }

  // resync drops the tree and gets a render, unless one is on its way.
  function resync() {
    state.tree = null;
    pending.clear();
    if (!fresh) ask();
  }

  // retitle gives the document the title of the page the tree renders
  // (its <title> is outside the live region: a patch to another item, say,
  // changes it), when that changed. The text is escaped HTML, which a
  // textarea decodes.
  let title;
  function retitle(whole) {
    const t = /<title[^>]*>([^<]*)/i.exec(whole)?.[1];
    if (t == null || t === title) return;
    title = t;
    const dec = doc.createElement('textarea');
    dec.innerHTML = t;
    // Not when it is the title already (a page's first render): setting it
    // rewrites the <title> element all the same.
    if (doc.title !== dec.value) doc.title = dec.value;
  }

  // apply is the one place where a message reaches the page.
  function apply(msg, reset) {
    // A render for another connection (Mount ran) or one whose L says
    // Mount ran again: the lists are what it shows. Otherwise the page
    // keeps their items (list.js).
    const relist = reset && (msg.c !== state.conn || !!msg.L);
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
        const whole = render(state.tree, statics);
        html = region(whole);
        retitle(whole);
      }
    } catch (err) {
      fail(0, 'bad ' + (reset ? 'render' : 'update') + ': ' + err.message);
      return resync();
    }
    if (reset) fresh = false;
    state.seq = msg.s;
    morph(html, relist ? keep : (el) => keep(el) || el.hasAttribute?.(LIST), !relist && msg.L);
    flush();
    hooked.sync();
    scan();
    if (msg.u && onURL) onURL(msg.u);
    emit('lt:update', { seq: state.seq });
    // Server-pushed events: [name, detail] pairs, once the page shows them.
    for (const [n, d] of msg.e || []) {
      emit(n, d);
      hooked.tell(n, d);
    }
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

  // stop closes the stream, if any, and cancels its timers.
  function stop() {
    win.clearTimeout(timer);
    win.clearTimeout(dog);
    backing = false;
    es?.close();
    es = null;
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
    es?.close();
    setStatus('connecting');
    // Without a tree the client cannot take diffs: ask for a render.
    fresh = !state.tree;
    const conns = [[state.conn, fresh ? null : state.seq], ...members];
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
    // Numbers that are not numbers leave the value as it was. The
    // followers are told a new retry (they may come to lead).
    src.addEventListener('hb', (e) => {
      const [i, r = '0'] = e.data.split(' ');
      every = Number(i) || every;
      if (/^\d+$/.test(r) && +r !== retry) {
        retry = +r;
        beacon();
      }
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

  // post sends an action for el (a button, a field, or a form without
  // submitter) of form (if any), resetting form if reset, and returns the
  // answer, {ok, msg, error}. While it is pending el and form are marked
  // busy and el shows its data-lt-disable-with text. An action is never
  // lost silently: while the browser is offline (navigator.onLine) or POSTs
  // are stuck (see PROBE_MS) it is refused, not sent, and like a POST that
  // fails for the network its element gets data-lt-failed (until it is sent
  // again) and lt:error fires.
  async function post(el, body, form, reset) {
    const marks = [el, form || el];
    el.removeAttribute(FAILED);
    if (stuck || win.navigator?.onLine === false) {
      el.setAttribute(FAILED, '');
      fail(0, 'offline');
      return { error: 'offline' };
    }
    for (const m of marks) {
      m.setAttribute('aria-busy', 'true');
      m.setAttribute(BUSY, '');
    }
    // A button's text while it is pending.
    const label = el.getAttribute('data-lt-disable-with');
    const was = el.textContent;
    if (label) el.textContent = label;
    let out = {};
    // Not answered after PROBE_MS: is the server slow, or is the POST not
    // even sent? A probe answered says slow; a probe without an answer
    // PROBE_MS later makes the tab offline until one of them is answered.
    let late = false;
    let probing = 0;
    const answered = () => {
      win.clearTimeout(probing);
      if (late) {
        late = false;
        stuck--;
        show();
      }
    };
    const slow = win.setTimeout(() => {
      probing = win.setTimeout(() => {
        late = true;
        stuck++;
        show();
      }, PROBE_MS);
      win
        .fetch(win.location.href, { method: 'HEAD', headers: { Accept: 'text/event-stream' }, cache: 'no-store' })
        .then(answered, answered);
    }, PROBE_MS);
    try {
      const res = await (up(body, form) ||
        win.fetch(win.location.href, {
          method: 'POST',
          body,
          headers: { Accept: 'application/json' },
          credentials: 'same-origin',
        }));
      const msg = await res.json().catch(() => null);
      out = { ok: res.ok, msg, error: msg?.error };
      // A non-JSON answer after a redirect is a handler that does not speak
      // livesse (e.g. the plain-HTML 303): follow it as the browser would.
      if (!msg && res.redirected) return win.location.assign(res.url), out;
      // An action's error, or its field errors, rendered into the page come
      // as an update with 422.
      if (msg) receive(msg, false);
      // Reset once the page shows the answer's update (at once when it
      // carries none: 202, the update comes on the stream).
      if (reset && res.ok) {
        resets.add({ form, c: state.conn, s: (msg?.c === state.conn && +msg.s) || 0 });
        flush();
      }
      // The server forgot our connection: the stream gets a fresh render.
      if (res.status === 410) ask();
      // A 422 without an error text is the update that shows field
      // errors (lt.FieldErrors): handled, not a failure.
      const shown = res.status === 422 && msg && !msg.error && msg.c === state.conn;
      if (!(res.ok || shown) || !msg) fail(res.status, msg?.error || 'HTTP ' + res.status);
    } catch (err) {
      out.error = String(err?.message || err);
      // Its files cancelled (upload.js): not sent, on purpose.
      if (err.name !== 'AbortError') el.setAttribute(FAILED, ''), fail(0, out.error);
    } finally {
      win.clearTimeout(slow);
      answered();
      for (const m of marks) {
        m.removeAttribute('aria-busy');
        m.removeAttribute(BUSY);
      }
      // Unless an update gave it a label of its own.
      if (label && el.textContent === label) el.textContent = was;
    }
    return out;
  }

  // queue sends a POST for el (of form, if any) after those of the same
  // form, or element, already pending: {el, form, body() (built when
  // sent), action (of a field's event: a newer one of the same action
  // replaces it while it waits; a key's is a step, never replaced), sig
  // (of a submit), reset}. A submit with the sig of one still pending is a
  // double submit, dropped; others wait their turn.
  function queue(it) {
    const key = it.form || it.el;
    const q = queues.get(key) || { list: [] };
    queues.set(key, q);
    if (it.sig && [q.busy, ...q.list].some((x) => x?.sig === it.sig)) return;
    const n = q.list.length;
    if (n && it.action && q.list[n - 1].action === it.action) q.list[n - 1] = it;
    else q.list.push(it);
    pump(key, q);
  }

  async function pump(key, q) {
    if (q.busy) return;
    const it = (q.busy = q.list.shift());
    if (!it) return queues.delete(key);
    await post(it.el, it.body(), it.form, it.reset);
    q.busy = null;
    pump(key, q);
  }

  doc.addEventListener('submit', (e) => {
    const form = e.target;
    const s = e.submitter;
    if (e.defaultPrevented) return;
    const live = liveForm(formAttr(form, s), doc.baseURI, win.location.href);
    if (!live) return;
    e.preventDefault();
    // Its values now, and its submitter's name and value (a morph may make
    // that button another one), though it may wait for the form's POSTs
    // pending.
    const fd = new win.FormData(form, s);
    const by = s && { name: s.name, value: s.value };
    // A double submit: the same button with the same values, in a form
    // that sends more than its button (a counter's + counts each click),
    // before the page changed (a click on what the page shows now counts).
    const vals = [...fd];
    sent.set(form, (sent.get(form) || 0) + 1);
    queue({
      el: s || form,
      form,
      sig: vals.length > !!s?.name && state.seq + JSON.stringify(vals),
      reset: form.hasAttribute('data-lt-reset'),
      body: () => formBody(fd, by, state.conn, live.multipart),
    });
  });

  doc.addEventListener('click', (e) => {
    const b = e.target.closest?.('button[name]');
    // Buttons in a form (b.form set) act through the form's submit event.
    if (!b || !b.name || b.form || e.defaultPrevented) return;
    queue({ el: b, body: () => buttonBody(b.name, b.value, state.conn) });
  });

  // A field's events: data-lt-input="action" (or change, focus, blur,
  // keydown, keyup) on the field or an element around it (its form) sends
  // the action with the form's values, _lt_target (the field) and _lt_used.
  for (const k of KINDS.split(' ')) {
    const [kind, type = kind] = k.split(':');
    doc.addEventListener(type, (e) => {
      const t = e.target;
      const at = 'data-lt-' + kind;
      const carrier = t.closest?.('[' + at + ']');
      if (!carrier) return;
      let action = carrier.getAttribute(at);
      if (type[0] === 'k') {
        action = keyAction(action, e.key);
        if (!action) return;
        e.preventDefault(); // Enter does not also submit the form
      }
      const opt = (n) => t.getAttribute('data-lt-' + n) ?? carrier.getAttribute('data-lt-' + n);
      const form = t.form || t.closest('form');
      const was = sent.get(form);
      // A field's value, and which fields the user has used, as now;
      // nothing once its form was submitted (the submit sent them all).
      const fire = () => {
        if (sent.get(form) !== was) return;
        const fd = form ? new win.FormData(form) : new win.FormData();
        const names = new Set();
        for (const f of form ? form.elements : []) if (f.name && used.has(f)) names.add(f.name);
        queue({ el: t, form, action: type[0] !== 'k' && action, body: () => fieldBody(fd, t, action, state.conn, names) });
      };
      if (type === 'focusout' || type === 'focusin') fire();
      else schedule(t, kind, opt('debounce'), opt('throttle'), fire);
    });
  }

  // hooked: the elements bound to hooks by data-lt-hook (hooks.js).
  const hooked = hooks(doc, (name, data) => action(name, data));
  // data-lt-viewport-bottom/top: an action as a list's end comes into view.
  const scan = viewport(doc, win.IntersectionObserver, (el, a) => post(el, buttonBody(a, '', state.conn)));

  // action runs an action with data (an object: a value, or an array of
  // them, per field), as a form POST: {ok, msg, error}.
  const action = (name, data = {}) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(data)) for (const x of [].concat(v)) p.append(k, x);
    p.set('_lt_action', name);
    p.set('_lt_conn', state.conn);
    return post(root, p).then((r) => (r.ok ? r.msg : Promise.reject(new Error(r.error || 'failed'))));
  };

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
    // livesse.action(name, data) runs an action: a Promise of its answer.
    action,
    // livesse.hook(name, {mounted, updated, destroyed, onEvent}).
    hook: hooked.define,
  });
  hooked.sync();
  scan();

  // A follower joins once it holds its own lock (the leader's request for
  // it would be granted at once otherwise), or, without locks, once it
  // follows a leader; it joins again to answer each round of its beacons.
  const join = () =>
    tab && tell({ t: 'join', conn: state.conn, seq: state.tree ? state.seq : null, tab });

  // cut drops connection c from the leader's followers, telling whether
  // it was one.
  function cut(c) {
    seen.delete(tabOf.get(c));
    tabOf.delete(c);
    return members.delete(c);
  }

  // outlive queues the leader for the lock of a follower's tab, granted
  // when that tab is gone: its connections then leave the stream.
  function outlive(lock) {
    if (!lock || waits.has(lock)) return;
    const ctl = new AbortController();
    waits.set(lock, ctl);
    locks
      .request(lock, { signal: ctl.signal }, () => {
        waits.delete(lock);
        if (!leader || ctl.signal.aborted) return;
        let gone = false;
        for (const [c, t] of tabOf) if (t === lock) gone = cut(c) || gone;
        if (gone) gather();
      })
      .catch(() => waits.delete(lock)); // withdrawn
  }

  // better tells whether the rank a ({id, b}) beats z's: the older tab,
  // then the smaller id.
  const better = (a, z) => a.b < z.b || (a.b === z.b && a.id < z.id);

  const onMessage = ({ data: m }) => {
    const t = m.t;
    // The retry, for this tab's stream if it comes to lead (even when the
    // lock says so before the last leader's status came).
    if (t === 'status' && m.r != null) retry = m.r;
    // Two leaders without locks: the worse one follows the better one.
    if (leader && lease && t === 'status' && better(m, me)) abdicate();
    if (leader) {
      if (t === 'join' || t === 'resync') {
        const c = m.conn;
        // A follower answering a round, or joining again.
        if (t === 'join' && seen.has(m.tab)) return seen.set(m.tab, round);
        if (!members.has(c) && members.size >= MAX_CONNS - 1) return send({ t: 'full', conn: c });
        members.set(c, m.seq ?? null);
        if (m.tab) {
          tabOf.set(c, m.tab);
          seen.set(m.tab, round);
        }
        if (!lease) {
          outlive(m.tab);
          beacon(); // the status, for a new follower
        }
        gather();
      } else if (t === 'leave') {
        if (cut(m.conn)) gather();
      } else if (t === 'claim' || t === 'status') beacon(); // a leader is here
      return;
    }
    if (t === 'ev') onEvent(m.type, m.data);
    else if (t === 'status') {
      if (lease) {
        if (!boss || m.id !== boss.id) {
          // A leader: the first one heard, or one better than ours (which
          // steps down when it hears it).
          if (boss) {
            if (!better(m, boss)) return;
            tell({ t: 'leave', conn: state.conn });
          }
          win.clearTimeout(claiming);
          claiming = 0;
          said = null;
        }
        boss = m;
        miss = 0;
        if (said !== m.n) {
          said = m.n;
          join();
        }
      }
      setStatus(m.s);
    } else if (t === 'leader') join();
    else if (t === 'full') {
      // One too many for that stream: on to the next group's.
      if (m.conn === state.conn) {
        hide();
        group++;
        elect();
      }
    } else if (t === 'claim') {
      if (claiming && better(m, me)) {
        // Let the better one lead; claim again if it does not.
        win.clearTimeout(claiming);
        claiming = 0;
        miss = 0;
      }
    } else if (t === 'bye' && boss && m.id === boss.id) claim();
  };

  // lead makes this tab the leader: it tells the other tabs and connects
  // once its followers had time to join.
  function lead() {
    leader = true;
    claiming = 0;
    if (lease) {
      inbox = new BC(name + ' ' + me.id);
      inbox.onmessage = onMessage;
    }
    setStatus('connecting'); // no stream yet; without locks, a beacon
    if (!lease) send({ t: 'leader' });
    gather();
  }

  // abdicate ends the lead: no stream, no followers.
  function abdicate() {
    stop();
    leader = false;
    members.clear();
    tabOf.clear();
    seen.clear();
    for (const ctl of waits.values()) ctl.abort();
    waits.clear();
    inbox?.close();
    inbox = null;
  }

  // claim asks for the lead (without locks): it is this tab's unless a
  // leader or a better claim answers within CLAIM_MS.
  function claim() {
    boss = null;
    miss = 0;
    send({ t: 'claim', ...me });
    win.clearTimeout(claiming);
    claiming = win.setTimeout(lead, CLAIM_MS);
  }

  // pulse runs every BEAT_MS without locks: a leader drops the followers
  // that answered none of its last 3 rounds and beacons the next; a tab
  // that has heard no leader for 3 periods claims.
  function pulse() {
    pulsing = win.setTimeout(pulse, BEAT_MS);
    if (leader) {
      round++;
      let gone = false;
      for (const [c, t] of tabOf) if (!(seen.get(t) >= round - 3)) gone = cut(c) || gone;
      if (gone) gather();
      beacon();
    } else if (!claiming && ++miss > 2) claim();
  }

  // campaign starts the election without locks.
  function campaign() {
    tab = me.id;
    pulsing = win.setTimeout(pulse, BEAT_MS);
    claim();
  }

  // elect opens the channel of this tab's group and runs its election:
  // with Web Locks this tab queues for the lock, granted when no other tab
  // leads, and held until this tab goes away or is hidden; meanwhile the
  // tab follows.
  function elect() {
    name = page + (group ? '#' + group : '');
    bc = new BC(name);
    bc.onmessage = onMessage;
    setStatus('connecting');
    // Random, after a count of the elections in this realm (a test's
    // fake tabs share one: they rank in the order they started).
    const id = 1e6 + ++elections + Math.random().toString(36).slice(2);
    me = { id, b: Date.now() };
    if (lease) return campaign();
    const ctl = (abort = new AbortController());
    // This tab's own lock, held while it is shown; a new name each time, so
    // that a leader still queued for the last one never takes this one.
    const own = [name, 'tab', elections, id, Date.now().toString(36)].join(' ');
    locks
      .request(own, { signal: ctl.signal }, () => {
        if (ctl.signal.aborted) return;
        tab = own;
        join();
        return new Promise((r) => (untab = r));
      })
      .catch(() => {}); // withdrawn, or refused (then no lock is)
    locks
      .request(name, { signal: ctl.signal }, () => {
        // Granted as the page was being hidden: let it go at once.
        if (ctl.signal.aborted) return;
        lead();
        return new Promise((r) => (release = r));
      })
      .catch(() => {
        if (ctl.signal.aborted) return; // withdrawn
        // No lock (an opaque origin...): elect without.
        lease = true;
        campaign();
      });
  }

  // hide is the page going away, maybe into the back/forward cache: it
  // keeps no stream, no lead, no place in the lock's queue, no channel.
  function hide() {
    stop();
    win.clearTimeout(pulsing);
    win.clearTimeout(claiming);
    claiming = 0;
    if (!bc) return; // a stream of our own (or hidden already)
    if (leader) {
      // The followers wait for the next leader, which the lock names now,
      // or elect one at once.
      setStatus('connecting');
      send({ t: 'bye', id: me.id });
      abdicate();
      release?.();
    } else tell({ t: 'leave', conn: state.conn });
    boss = null;
    untab?.();
    untab = null;
    tab = '';
    abort?.abort();
    bc.close();
    bc = null;
  }

  // alone keeps a stream of our own (no channel) while the page is
  // visible: a hidden tab gives it up for the visible ones.
  const alone = () => (doc.hidden ? (stop(), setStatus('offline')) : es || connect());

  // A tab closed, reloaded or navigated away from says so: the server ends
  // its connection at once (OnDisconnect runs) rather than after the grace
  // it keeps for a network loss. sendBeacon outlives the page. Back from
  // the back/forward cache, the stream finds the connection gone and gets
  // a new one with a render.
  const leave = (href) => {
    const n = win.navigator;
    if (n?.sendBeacon) n.sendBeacon(href, new URLSearchParams({ _lt_leave: state.conn }));
    hide();
  };
  win.addEventListener('pagehide', () => leave(win.location.href));
  win.addEventListener('pageshow', (e) => e.persisted && !bc && (BC ? ((group = 0), elect()) : alone()));
  doc.addEventListener('visibilitychange', () => BC || alone());
  if (BC) elect();
  else alone();

  // adopt takes up the connection c (at seq s) of another live page whose
  // body html is swapped in (live navigation, nav.js): the tab leaves its
  // connection (from: a URL of its page), its stream and its group, and
  // joins those of the page it now shows, at the URL it now has.
  const adopt = (c, s, html, from) => {
    leave(from);
    Object.assign(state, { conn: c, seq: s, tree: null });
    statics = new Map();
    pending.clear();
    fresh = false;
    morph(html, () => false);
    hooked.sync();
    page = 'livesse:' + win.location.pathname + win.location.search;
    group = 0;
    if (BC) elect();
    else alone();
  };
  if (nav) onURL = nav(win, { conn: () => state.conn, receive: (m) => receive(m, false), adopt });
}

