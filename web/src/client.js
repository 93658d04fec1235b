// livesse browser client: applies server renders streamed over Server-Sent
// Events to <body> and sends user actions as plain HTTP POSTs.
//
// Protocol in short. The page's <script data-lt-conn=ID data-lt-seq=N> gives
// the connection and the seq it was rendered at. The stream is an EventSource
// on the page URL plus _lt_conn and, once the client holds a tree, _lt_seq
// (without it the server starts with a render). Its `render` (always
// applied) and `update` events carry JSON {c: conn, s: seq} plus one of
// r: the tree of the whole template output, d: a diff against the tree of
// seq s-1, h: the body html (a fallback), and S: statics of new fragments.
// Updates apply only for the same conn: trees and html if newer, diffs in
// order (later ones wait for the missing ones). Actions POST the form fields
// (or a button's name=value) plus _lt_action and _lt_conn to the page URL,
// with Accept: application/json, and get back the same JSON or {error}.
// Status on <html data-lt-status>: connecting, online, offline. Events on
// document: lt:update {seq}, lt:error {status, message}. Details in live.js,
// gate.js and tree.js.

import { Idiomorph } from 'idiomorph';
import { start, keepBusy } from './live.js';

// Morph in place so that focus, caret, the value being typed and scroll
// positions survive: ignoreActiveValue keeps the focused field's value and
// restoreFocus (Idiomorph's default, made explicit) puts back focus and
// selection if the focused element had to be replaced.
const morph = (html) =>
  Idiomorph.morph(document.body, html, {
    morphStyle: 'innerHTML',
    ignoreActiveValue: true,
    restoreFocus: true,
    callbacks: { beforeAttributeUpdated: keepBusy },
  });

const go = () => start(window, morph);
// The tag is deferred, but be safe if an app loads it otherwise.
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', go);
else go();
