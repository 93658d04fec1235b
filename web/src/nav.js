// Live navigation (docs/protocol.md, "URL changes"; docs/multi-page.md):
// the URL as state (data-lt-patch links and GET forms, an update's u, back
// and forward) and moving between the live pages of an app without a
// reload (data-lt-navigate). Without JavaScript the same links and forms
// are plain ones.

import { formAttr } from './actions.js';

const MARKED = '[data-lt-patch],[data-lt-navigate]';

/**
 * nav runs live navigation on the page of win for the client live:
 * {conn() (the tab's connection), receive(msg) (apply an update),
 * adopt(conn, seq, html, from) (take up another page's connection, its
 * body html swapped in, leaving the one of the page at from)}. It returns
 * the function that applies an update's u ({p, r, n}).
 *
 * Each history entry the tab makes or shows is stamped {lt, y}: lt the id
 * of the page (of one document, or one live navigation) that made it, y
 * the scroll position it was left at. Back or forward to an entry of the
 * page shown runs its Params (a _lt_params POST); to another page's, loads
 * that page live. Either way the entry's scroll position comes back once
 * its content shows.
 */
export function nav(win, live) {
  const doc = win.document;
  const loc = win.location;
  const hist = win.history;
  const here = () => loc.pathname + loc.search;
  const mine = doc.querySelector('script[data-lt-conn]').getAttribute('src');
  let page = Math.random(); // this page's id in its entries
  let from = loc.href; // the URL the page shown came by, for its leave beacon
  let at = here(); // the path and query the page shows
  let moves = 0; // the tab's moves so far: an answer to an older one is dropped
  const stamp = (y) => hist.replaceState({ ...hist.state, lt: page, y }, '');

  // move makes href the tab's URL: a new entry (the current one keeps its
  // scroll position), or the current one when replace; id: the page that
  // shows it from now on.
  function move(href, replace, id = page) {
    if (!replace) stamp(win.scrollY);
    page = id;
    hist[replace ? 'replaceState' : 'pushState']({ ...(replace && hist.state), lt: page }, '', href);
    at = here();
  }
  move(loc.href, 1); // this entry is the page's (its y and fragment kept)

  // params tells the server the tab's URL is href: Params runs on its
  // connection, with no remount. A URL of another page (410), or an error,
  // loads href instead. y: the scroll position to restore once it shows.
  async function params(href, y) {
    const my = ++moves;
    let res;
    try {
      res = await win.fetch(href, {
        method: 'POST',
        body: new URLSearchParams({ _lt_conn: live.conn(), _lt_params: 1 }),
        headers: { Accept: 'application/json' },
      });
    } catch {
      // No answer: the URL is loaded (normally, if the network is down).
    }
    const msg = res && (await res.json().catch(() => null));
    if (my !== moves) return;
    if (!res || !(res.ok || res.status === 422)) return load(href, 1, y);
    if (msg) live.receive(msg);
    if (y != null) win.scrollTo(0, y);
  }

  // load shows the page at href live: fetched, its title, styles and body
  // taken, its connection taken up on a stream of its own page. how: 0
  // pushes an entry, 1 replaces the current one (the URL is there already
  // after back or forward). Anything but a live page of this origin and
  // client, and any failure, is a normal navigation. A page that comes
  // after the tab moved again (a click, Back) is dropped: the last move
  // wins.
  async function load(href, how, y) {
    const my = ++moves;
    try {
      const res = await win.fetch(href);
      const u = new URL(res.url || href, loc.href);
      const d = new win.DOMParser().parseFromString(await res.text(), 'text/html');
      if (my !== moves) return;
      const t = d.querySelector('script[data-lt-conn]');
      if (!res.ok || u.origin !== loc.origin || !t || t.getAttribute('src') !== mine) throw 0;
      move(u.pathname + u.search, how, Math.random());
      doc.title = d.title;
      // The page's styles, when they differ.
      const css = (h) => [...h.querySelectorAll('style,link[rel=stylesheet]')];
      const key = (h) => css(h).map((e) => e.outerHTML).join();
      if (key(doc.head) !== key(d.head)) {
        css(doc.head).forEach((e) => e.remove());
        doc.head.append(...css(d.head).map((e) => doc.importNode(e, true)));
      }
      live.adopt(t.dataset.ltConn, Number(t.dataset.ltSeq) || 0, d.body.innerHTML, from);
      from = u.href;
      win.scrollTo(0, y || 0);
    } catch {
      if (my !== moves) return;
      if (how) loc.replace(href);
      else loc.assign(href);
    }
  }

  // go follows URL u of a marked link or form: a patch changes the URL and
  // runs Params; a navigation loads the page live.
  function go(u, patch) {
    const href = u.pathname + u.search;
    if (!patch) return load(href, 0);
    if (href === here()) return;
    move(href);
    params(href);
  }

  // Links of this origin, clicked plainly (no modifier, the main button,
  // this tab, not a download), inside or on an element marked.
  doc.addEventListener('click', (e) => {
    const a = e.target.closest?.('a[href]');
    const by = a && a.closest(MARKED);
    if (!by || e.defaultPrevented || e.button || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if ((a.target && a.target !== '_self') || a.hasAttribute('download')) return;
    const u = new URL(a.href);
    // A link to a fragment of this page scrolls, as usual.
    if (u.origin !== loc.origin || (u.hash && u.pathname + u.search === here())) return;
    e.preventDefault();
    go(u, by.hasAttribute('data-lt-patch'));
  });

  // GET forms marked: their query is the URL's (a filter).
  doc.addEventListener('submit', (e) => {
    const f = e.target;
    const s = e.submitter;
    const by = f.closest(MARKED);
    const attr = formAttr(f, s);
    if (!by || e.defaultPrevented || (attr('method') || 'get').toLowerCase() !== 'get') return;
    if (attr('target') && attr('target') !== '_self') return;
    const u = new URL(attr('action') || '', loc.href);
    if (u.origin !== loc.origin) return;
    e.preventDefault();
    u.search = new URLSearchParams(new win.FormData(f, s));
    go(u, by.hasAttribute('data-lt-patch'));
  });

  win.addEventListener('popstate', (e) => {
    const st = e.state || {};
    if (here() === at) return; // a fragment
    at = here();
    if (st.lt === page) params(at, st.y);
    else load(at, 1, st.y);
  });

  // An update's u: the server moved the tab (PushURL, ReplaceURL); with n
  // to another path, whose router the tab then asks.
  return (u) => {
    if (typeof u.p !== 'string' || new URL(u.p, loc.href).origin !== loc.origin) return;
    if (u.p !== here()) move(u.p, u.r);
    if (u.n) params(u.p);
  };
}
