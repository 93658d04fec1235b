// livesse browser client: applies server renders streamed over Server-Sent
// Events to <body> and sends user actions as plain HTTP POSTs.
//
// Protocol in short. The page's <script data-lt-conn=ID data-lt-seq=N> gives
// the connection and the seq it was rendered at. The stream is an EventSource
// on the page URL plus _lt_conn and _lt_seq, empty until the client holds a
// tree (the server then starts with a render). Its `render` (always applied
// if for this tab) and `update` events carry JSON {c: conn, s: seq} plus one
// of r: the tree of the whole template output, d: a diff against the tree of
// seq s-1, h: the body html (a fallback), and S: statics of new fragments.
// Updates apply only for the same conn: trees and html if newer, diffs in
// order (later ones wait for the missing ones). Actions POST the form fields
// (or a button's name=value) plus _lt_action and _lt_conn to the page URL,
// with Accept: application/json, and get back the same JSON or {error}.
// One stream serves all tabs of the browser on the page: the tab holding the
// Web Lock 'livesse:' + path + query opens it, naming every tab's _lt_conn
// and _lt_seq (empty: send a render), and relays its events over a
// BroadcastChannel of that name; each tab applies those of its own conn (a
// render whose o is its conn gives it a new one). Without Web Locks or
// BroadcastChannel each tab has its own stream. A stream that is silent for
// 2.5 heartbeats (`hb` events carry "<interval ms> <retry ms>", or the
// interval alone from old servers) is reconnected; after an error or such a
// silence the stream comes back after the server's retry time plus a
// full-jitter exponential backoff.
// Status on <html data-lt-status>: connecting, online, offline. Events on
// document: lt:update {seq}, lt:error {status, message}.
// Forms: a morph keeps what the user entered into a field (value !==
// defaultValue, checked !== defaultChecked, selected !== defaultSelected)
// unless the server changed what it renders for it; the field being typed
// in (focused, edited since) keeps its value, caret and selection. A form with the attribute data-lt-reset is reset (form.reset())
// when its live POST succeeds (2xx), once the update of that POST is on the
// page, so that its fields show what the server rendered: a chat box sent
// with Enter is emptied. A page hidden by navigation (pagehide) closes its
// stream and gives up the lead; back from the back/forward cache (pageshow)
// it joins or leads again. Details in live.js, fields.js, gate.js and
// tree.js.

import { start } from './live.js';
import { morph } from './morph.js';
import { nav } from './nav.js';
import { lists } from './list.js';

// Morph in place (morph.js) so that focus, caret, the value being typed and
// scroll positions survive: the morph keeps the values of the fields keep
// (from live.js) names (the one being typed in, those whose form has a
// newer POST waiting) and the values the user entered into other fields
// (unless the server changed what it renders there), and gives a focused
// element it had to move its focus and selection back. A focused button or
// untouched field is morphed like any element. An element with
// data-lt-ignore is left as it is, subtree and all (a third-party script
// owns it). A data-lt-stick element scrolled to its bottom stays at its
// bottom as it grows.
const stick = (all) => all.forEach((e) => (e.scrollTop = e.scrollHeight));
const update = (html, keep, L) => {
  const bottom = [...document.querySelectorAll('[data-lt-stick]')].filter(
    (e) => e.scrollHeight - e.scrollTop - e.clientHeight < 2,
  );
  morph(document.body, html, keep);
  lists(document, L, keep); // a live list's items (list.js), after the morph
  stick(bottom);
};

const go = () => {
  stick(document.querySelectorAll('[data-lt-stick]'));
  start(window, update, nav);
};
// The tag is deferred, but be safe if an app loads it otherwise.
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', go);
else go();
