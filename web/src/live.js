// The wiring: the stream, the delegated action listeners and page state.
// Everything comes in through win and morph so that tests can drive it with
// fakes; in the browser win is window.

import { streamURL, backoff } from './stream.js';
import { gate, kind, MAX_PENDING } from './gate.js';
import { learn, decode, patch, render, region } from './tree.js';
import { liveForm, formBody, buttonBody } from './actions.js';

const BUSY = 'data-lt-busy';

/**
 * start runs the client on the page of win, applying new body html with
 * morph(html). It does nothing when the page has no livesse script tag, when
 * the browser lacks EventSource or fetch (plain form posts keep working) or
 * when a client already runs on the page.
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
  let fresh = false; // the stream was opened without _lt_seq, no render yet
  let es = null; // the only EventSource, null while waiting to reconnect
  let timer = 0;
  let attempt = 0;

  const setStatus = (s) => (root.dataset.ltStatus = s);
  const emit = (type, detail) => doc.dispatchEvent(new win.CustomEvent(type, { detail }));
  const fail = (status, message) => {
    console.warn('livesse:', status, message);
    emit('lt:error', { status, message });
  };

  // resync drops the tree and gets a render by reconnecting without
  // _lt_seq, unless the stream is such a fresh one already.
  function resync() {
    state.tree = null;
    pending.clear();
    if (!fresh) connect();
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
    emit('lt:update', { seq: state.seq });
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

  function onMessage(e) {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return fail(0, 'bad ' + e.type + ' event');
    }
    receive(msg, e.type === 'render');
  }

  function connect() {
    win.clearTimeout(timer);
    if (es) es.close();
    setStatus('connecting');
    // Without a tree the client cannot take diffs: ask for a render.
    fresh = !state.tree;
    const url = streamURL(win.location.href, state.conn, fresh ? null : state.seq);
    const src = (es = new win.EventSource(url));
    src.addEventListener('open', () => {
      attempt = 0;
      setStatus('online');
    });
    src.addEventListener('error', () => {
      if (src !== es) return;
      // Close to stop the browser's own retry: we retry with backoff and a
      // fresh URL carrying the seq we have reached since.
      src.close();
      es = null;
      setStatus('offline');
      timer = win.setTimeout(connect, backoff(attempt++));
    });
    src.addEventListener('render', onMessage);
    src.addEventListener('update', onMessage);
  }

  async function post(el, body) {
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
      // The server forgot our connection: the stream gets a fresh render.
      if (res.status === 410) connect();
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
    post(s || form, formBody(new win.FormData(form, s), s, state.conn, live.multipart));
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
  });
  connect();
}

/**
 * keepBusy is an Idiomorph beforeAttributeUpdated callback: a morph must not
 * clear the busy marks of an element whose request is still running.
 */
export function keepBusy(name, el) {
  return !(el.hasAttribute(BUSY) && (name === 'aria-busy' || name === BUSY));
}
