// Live lists (lt.List, docs/lists.md): items the server sends once and the
// page keeps, under a container marked data-lt-list; and the viewport
// events that load more of them (infinite scroll).

import { sync, LIST } from './morph.js';

/**
 * lists applies a message's list operations (its L) to the page of doc.
 * Each is [op, list, ...], list being the id of a container with
 * data-lt-list (others are skipped):
 *
 *   ['a', list, html]       append the item
 *   ['p', list, html]       prepend it
 *   ['i', list, pos, html]  insert it before the pos-th item (or append)
 *   ['u', list, html]       replace the item with its id, if there
 *   ['d', list, id]         remove the item with that id
 *   ['x', list]             remove every item
 *
 * An item is the first element of html, keyed by its id: an a, p or i of an
 * item the list has updates it in place (morphed, with hold as a morph's),
 * where it is. Scripts in items never run, as in a morph.
 */
export function lists(doc, L, hold) {
  for (const [t, id, a, b] of L || []) {
    const box = doc.getElementById(id);
    if (!box || !box.hasAttribute(LIST)) continue;
    if (t === 'x') box.replaceChildren();
    else if (t === 'd') {
      const el = doc.getElementById(a);
      if (el?.parentNode === box) el.remove();
    } else {
      const tpl = doc.createElement('template');
      tpl.innerHTML = t === 'i' ? b : a;
      const el = tpl.content.firstElementChild;
      const old = el && el.id && doc.getElementById(el.id);
      if (old?.parentNode === box) sync(old, el, hold);
      else if (el && t !== 'u') box.insertBefore(el, t === 'a' ? null : box.children[t === 'p' ? 0 : a]); // none: at the end
    }
  }
}

/**
 * viewport returns watch(), to call after each change of the page: it makes
 * an IntersectionObserver (IO, absent in old browsers: nothing happens)
 * watch, for each element with data-lt-viewport-bottom="action" (or -top),
 * its last (first) element child, or itself when it has none. When that
 * child comes into view, send(el, action) runs (it returns a Promise), one
 * at a time: a child that comes into view while one is pending makes every
 * child be looked at again once it is answered. A child watched already
 * fires again only by leaving the view and coming back, so that a list at
 * its end (the same last child) is not asked again and again.
 */
export function viewport(doc, IO, send) {
  let at = new Map(); // child watched -> [el, action]
  let busy, again;
  const io = IO && new IO((es) => es.forEach((e) => e.isIntersecting && go(e.target)));
  const go = (t) => {
    const v = at.get(t);
    if (!v) return;
    if (busy) return (again = 1);
    busy = 1;
    send(...v).finally(() => {
      const re = again;
      busy = again = 0;
      watch(re);
    });
  };
  // watch(re) watches the children as they are now; re: all of them anew.
  const watch = (re) => {
    if (!io) return;
    const now = new Map();
    for (let [n, k] of [['top', 'first'], ['bottom', 'last']]) {
      n = 'data-lt-viewport-' + n;
      for (const el of doc.querySelectorAll('[' + n + ']')) now.set(el[k + 'ElementChild'] || el, [el, el.getAttribute(n)]);
    }
    for (const t of at.keys()) (re || !now.has(t)) && io.unobserve(t);
    for (const t of now.keys()) (re || !at.has(t)) && io.observe(t);
    at = now;
  };
  return watch;
}
