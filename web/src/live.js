// The wiring: the stream, the delegated action listeners and page state.
// Everything comes in through win and morph so that tests can drive it with
// fakes; in the browser win is window.

import { streamURL, backoff } from './stream.js';
import { gate } from './gate.js';
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

  let state = { conn: tag.dataset.ltConn, seq: Number(tag.dataset.ltSeq) || 0 };
  let es = null; // the only EventSource, null while waiting to reconnect
  let timer = 0;
  let attempt = 0;

  const setStatus = (s) => (root.dataset.ltStatus = s);
  const emit = (type, detail) => doc.dispatchEvent(new win.CustomEvent(type, { detail }));
  const fail = (status, message) => {
    console.warn('livesse:', status, message);
    emit('lt:error', { status, message });
  };

  // apply is the one place where a message reaches the page.
  function apply(msg, reset) {
    const next = gate(state, msg, reset);
    if (!next) return;
    morph(msg.h);
    state = next;
    emit('lt:update', { seq: state.seq });
  }

  function onMessage(e) {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return fail(0, 'bad ' + e.type + ' event');
    }
    apply(msg, e.type === 'render');
  }

  function connect() {
    win.clearTimeout(timer);
    if (es) es.close();
    setStatus('connecting');
    const src = (es = new win.EventSource(streamURL(win.location.href, state.conn, state.seq)));
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
      if (msg) apply(msg, false);
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
