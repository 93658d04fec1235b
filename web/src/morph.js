// The morph: turns the page's live region into the server's new HTML in
// place, reusing the nodes it has, so that what the browser keeps in them
// (focus, caret, what the user typed, scroll positions, a playing video, an
// iframe, a widget a script built) survives an update.

import { field } from './fields.js';

export const BUSY = 'data-lt-busy';
export const LIST = 'data-lt-list';
const IGNORE = 'data-lt-ignore';

/**
 * morph makes the children of root (the <body>) those of content: an HTML
 * string (parsed as the content of a <body>, in standards mode, by a
 * DOMParser: its scripts are marked as already run, so those it inserts
 * never run) or a parsed node whose children are the new content, which
 * the morph leaves as it is.
 *
 * Each element or node of the new content takes the place of an old one,
 * synced, or of a copy of itself (document.importNode: SVG and MathML keep
 * their namespaces, a <template> its content). Among the children of one
 * parent, an element is matched
 *
 *   - by its id, else by its data-key (a keyed list item), with the old
 *     element of the same tag and the same id or data-key, wherever it is
 *     among those children: a reordered list moves its elements, the fewest
 *     it can (those outside the longest run that keeps its order), with
 *     moveBefore where the browser has it (focus, iframes and videos
 *     survive the move); elsewhere the focused element, if moved, gets its
 *     focus and selection back;
 *   - else (no id, no data-key, and text and comment nodes) with an old
 *     node of the same name that has neither, in order: those that are the
 *     same at the head and at the tail of the children, so that an element
 *     that comes or goes (an error message above a form) leaves the others
 *     matched, then in between each with the next old one of its name.
 *
 * Old nodes left unmatched are removed, an element with an id or data-key
 * the new content no longer has included. Matching is among siblings only:
 * an element that moves to another parent is a new element there.
 *
 * Syncing an element sets the attributes it gains or changes and removes
 * those it loses, then its children (a <template>'s content), and the
 * state of a form field (fields.js): value, checked, selected follow the
 * server, except what the user entered where the server renders the same as
 * before, and except in the fields hold(el) names (the one being typed in,
 * whose value, caret and selection stay; a form's fields while a newer POST
 * of it waits), whose attributes still follow the server. A held
 * contenteditable element is left whole.
 *
 * Left alone: an element with data-lt-ignore and everything in it (its
 * attributes too: a script owns it); the children of a live list's
 * container (data-lt-list) that hold(el) names (list.js); aria-busy and data-lt-busy on an
 * element whose action is pending (data-lt-busy, set by the client).
 */
export function morph(root, content, hold = () => false) {
  const doc = root.ownerDocument;
  if (typeof content === 'string') {
    content = new doc.defaultView.DOMParser().parseFromString('<!DOCTYPE html><body>' + content, 'text/html').body;
  }
  const active = doc.activeElement;
  let sel;
  try {
    sel = [active.selectionStart, active.selectionEnd, active.selectionDirection];
  } catch {}
  children(root, content, hold);
  // Moved without moveBefore, the focused element has lost its focus.
  if (active && active !== doc.activeElement && root.contains(active)) {
    active.focus({ preventScroll: true });
    try {
      if (sel[1] != null) active.setSelectionRange(...sel);
    } catch {}
  }
}

// key is what matches an element wherever it is among its siblings: its
// tag and id, else its tag and data-key; '' for other nodes.
const key = (n) => {
  if (n.nodeType !== 1) return '';
  const id = n.getAttribute('id');
  const k = id ? '#' + id : n.getAttribute('data-key');
  return k == null ? '' : n.localName + ' ' + k;
};

// children morphs the children of el into those of next.
function children(el, next, hold) {
  if (el.localName === 'template') [el, next] = [el.content, next.content];
  const olds = [...el.childNodes];
  const news = [...next.childNodes];
  const keyed = new Map(); // key -> the index of the old element
  const uo = []; // the indices of the old nodes without a key
  olds.forEach((n, i) => {
    const k = key(n);
    if (!k) uo.push(i);
    else if (!keyed.has(k)) keyed.set(k, i);
  });
  // For each new child, the index of the old one it takes, or -1.
  const un = []; // the indices of the new nodes without a key
  const from = news.map((n, j) => {
    const k = key(n);
    if (!k) return un.push(j), -1;
    const i = keyed.get(k) ?? -1;
    keyed.delete(k);
    return i;
  });
  // Those without a key match by name: the same at the head, the same at
  // the tail (a node that comes or goes between them leaves the others
  // matched), then in between each the next old one of its name.
  const same = (i, j) => olds[uo[i]].nodeName === news[un[j]].nodeName;
  let [a, b, x, y] = [0, 0, uo.length, un.length];
  while (a < x && b < y && same(a, b)) from[un[b++]] = uo[a++];
  while (a < x && b < y && same(x - 1, y - 1)) from[un[--y]] = uo[--x];
  for (; b < y; b++) {
    for (let i = a; i < x; i++) {
      if (same(i, b)) {
        from[un[b]] = uo[i];
        a = i + 1;
        break;
      }
    }
  }
  const taken = new Set(from);
  olds.forEach((n, i) => taken.has(i) || n.remove());
  const nodes = from.map((i, j) => (i < 0 ? el.ownerDocument.importNode(news[j], true) : olds[i]));
  // Put the nodes in order, from the last: those of the longest run that
  // keeps its old order stay, the others go before the node after them.
  const still = run(from);
  let ref = null;
  for (let j = nodes.length; j--; ref = nodes[j]) {
    const n = nodes[j];
    if (still.has(j)) continue;
    if (n.parentNode === el && el.moveBefore) el.moveBefore(n, ref);
    else el.insertBefore(n, ref);
  }
  from.forEach((i, j) => i >= 0 && sync(olds[i], news[j], hold));
}

// run returns the positions of a longest run of from (old indices, -1 for
// new nodes) whose old indices increase.
function run(from) {
  const prev = [];
  const ends = []; // ends[k]: where the best run of length k+1 found ends
  from.forEach((v, j) => {
    if (v < 0) return;
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (from[ends[m]] < v) lo = m + 1;
      else hi = m;
    }
    prev[j] = lo ? ends[lo - 1] : -1;
    ends[lo] = j;
  });
  const out = new Set();
  for (let j = ends.length ? ends[ends.length - 1] : -1; j >= 0; j = prev[j]) out.add(j);
  return out;
}

// sync makes node (text, comment or element) what next is.
export function sync(node, next, hold) {
  if (node.nodeType !== 1) {
    if (node.nodeValue !== next.nodeValue) node.nodeValue = next.nodeValue;
    return;
  }
  if (node.hasAttribute(IGNORE) || (node.isContentEditable && hold(node))) return;
  const done = field(node, next, hold);
  // A pending action's busy marks stay until it is answered.
  const busy = node.hasAttribute(BUSY);
  const mine = (name) => busy && (name === BUSY || name === 'aria-busy');
  for (const a of next.attributes) {
    // setAttributeNode: namespaced names (xlink:href) and names that
    // setAttribute rejects (@click) alike.
    if (node.getAttribute(a.name) !== a.value && !mine(a.name)) node.setAttributeNode(a.cloneNode());
  }
  for (const a of [...node.attributes]) {
    if (!next.hasAttribute(a.name) && !mine(a.name)) node.removeAttribute(a.name);
  }
  if (!(node.hasAttribute(LIST) && hold(node))) children(node, next, hold);
  done?.();
}
