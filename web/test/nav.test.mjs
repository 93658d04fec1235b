// Live navigation (nav.js) on a real DOM and history (jsdom), with a fake
// fetch and a fake client (live.js's side: conn, receive, adopt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM, VirtualConsole } from 'jsdom';
import { nav } from '../src/nav.js';

const TAG = '<script src="?_lt=client&amp;v=1" defer data-lt-conn="c1" data-lt-seq="0"></script>';
const LIST = `<!DOCTYPE html><html><head><title>List</title><style>p{}</style>${TAG}</head><body>
  <nav data-lt-patch><a id="p2" href="/list?page=2">2</a><a id="blank" href="/list?page=3" target="_blank">3</a>
  <a id="far" href="https://other.example/list?page=2">elsewhere</a><a id="frag" href="#top">top</a></nav>
  <a id="item" href="/items/7" data-lt-navigate>seven</a><a id="plain" href="/items/8">eight</a>
  <form id="filter" data-lt-patch action="/list"><input name="q" value="red"><button id="go" name="sort" value="name">Go</button></form>
  <form id="edit" method="post" data-lt-patch><button id="save">Save</button></form>
</body></html>`;

// page returns the document of html with a page of a live app: its window
// (win) as nav sees it, with recorders of fetches and of normal loads, and
// the fake client (what it received and adopted).
function page(html = LIST, url = 'https://ex.com/list') {
  // Quiet: jsdom says it cannot follow the links left to the browser.
  const dom = new JSDOM(html, { url, virtualConsole: new VirtualConsole() });
  const w = dom.window;
  const fetches = [];
  const loads = [];
  const scrolls = [];
  const location = {
    get href() {
      return w.location.href;
    },
    get origin() {
      return w.location.origin;
    },
    get pathname() {
      return w.location.pathname;
    },
    get search() {
      return w.location.search;
    },
    assign: (u) => loads.push(['assign', u]),
    replace: (u) => loads.push(['replace', u]),
  };
  const win = {
    document: w.document,
    history: w.history,
    location,
    DOMParser: w.DOMParser,
    FormData: w.FormData,
    scrollY: 0,
    scrollTo: (x, y) => scrolls.push(y),
    addEventListener: w.addEventListener.bind(w),
    fetch: (u, init = {}) => new Promise((resolve, reject) => fetches.push({ url: String(u), init, resolve, reject })),
  };
  const live = { c: 'c1', got: [], adopted: [] };
  const client = {
    conn: () => live.c,
    receive: (m) => live.got.push(m),
    adopt: (c, s, body, from) => {
      live.adopted.push({ c, s, from, body: body.trim().slice(0, 40) });
      live.c = c;
    },
  };
  const onURL = nav(win, client);
  const click = (id, opts = {}) => {
    const e = new w.MouseEvent('click', { bubbles: true, cancelable: true, button: 0, ...opts });
    w.document.getElementById(id).dispatchEvent(e);
    return e.defaultPrevented;
  };
  const here = () => w.location.pathname + w.location.search;
  return { w, win, fetches, loads, scrolls, live, onURL, click, here };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const html = (body, status = 200) => new Response(body, { status, headers: { 'Content-Type': 'text/html' } });
const ITEM = (conn, n) =>
  `<!DOCTYPE html><html><head><title>Item ${n}</title><link rel="stylesheet" href="/item.css">${TAG.replace('c1', conn).replace('"0"', '"2"')}</head><body><h1>Item ${n}</h1></body></html>`;

// The params POST of fetch f: its URL and body.
const posted = (f) => [f.url, f.init.method, String(f.init.body)];

test('a patch link pushes the URL and posts _lt_params there: the answer is applied, nothing loads', async () => {
  const pg = page();
  assert.equal(pg.click('p2'), true);
  assert.equal(pg.here(), '/list?page=2');
  assert.equal(pg.w.history.length, 2);
  assert.deepEqual(posted(pg.fetches[0]), ['/list?page=2', 'POST', '_lt_conn=c1&_lt_params=1']);
  assert.equal(pg.fetches[0].init.headers.Accept, 'application/json');
  pg.fetches[0].resolve(json(200, { c: 'c1', s: 4, d: { 0: 'two' } }));
  await tick();
  assert.deepEqual(pg.live.got, [{ c: 'c1', s: 4, d: { 0: 'two' } }]);
  assert.deepEqual(pg.loads, []);
  // The same URL again: nothing.
  assert.equal(pg.click('p2'), true);
  assert.equal(pg.fetches.length, 1);
});

test('a 422 of Params is shown; a 410 (another page) or an error loads the URL in place', async (t) => {
  const pg = page();
  pg.click('p2');
  pg.fetches[0].resolve(json(422, { c: 'c1', s: 4, d: {}, error: 'bad page' }));
  await tick();
  assert.equal(pg.live.got.length, 1);
  assert.equal(pg.fetches.length, 1);

  pg.onURL({ p: '/items/9', n: true });
  assert.equal(pg.here(), '/items/9');
  pg.fetches[1].resolve(json(410, { error: 'gone' }));
  await tick();
  // Loaded live (a GET of the page), replacing the entry the URL has.
  assert.equal(pg.fetches[2].url, '/items/9');
  assert.equal(pg.fetches[2].init.method, undefined);
  pg.fetches[2].resolve(html('<p>not live</p>'));
  await tick();
  await tick();
  assert.deepEqual(pg.loads, [['replace', '/items/9']]);
});

test('links that are not plain clicks on this origin are left to the browser', () => {
  const pg = page();
  assert.equal(pg.click('p2', { ctrlKey: true }), false);
  assert.equal(pg.click('p2', { button: 1 }), false);
  assert.equal(pg.click('blank'), false);
  assert.equal(pg.click('far'), false);
  assert.equal(pg.click('frag'), false);
  assert.equal(pg.click('plain'), false);
  assert.equal(pg.fetches.length, 0);
  assert.equal(pg.here(), '/list');
});

test('a marked GET form patches to its query; a POST form is not nav.js business', () => {
  const pg = page();
  const form = pg.w.document.getElementById('filter');
  const e = new pg.w.SubmitEvent('submit', { bubbles: true, cancelable: true, submitter: pg.w.document.getElementById('go') });
  form.dispatchEvent(e);
  assert.equal(e.defaultPrevented, true);
  assert.equal(pg.here(), '/list?q=red&sort=name');
  assert.deepEqual(posted(pg.fetches[0]), ['/list?q=red&sort=name', 'POST', '_lt_conn=c1&_lt_params=1']);
  const post = new pg.w.SubmitEvent('submit', { bubbles: true, cancelable: true });
  pg.w.document.getElementById('edit').dispatchEvent(post);
  assert.equal(post.defaultPrevented, false);
  assert.equal(pg.fetches.length, 1);
});

test("an update's u pushes or replaces the URL; with n it posts _lt_params there", async () => {
  const pg = page();
  pg.onURL({ p: '/list?page=3' });
  assert.equal(pg.here(), '/list?page=3');
  assert.equal(pg.w.history.length, 2);
  pg.onURL({ p: '/list?q=re', r: true });
  assert.equal(pg.here(), '/list?q=re');
  assert.equal(pg.w.history.length, 2);
  assert.equal(pg.fetches.length, 0); // the server ran Params already
  pg.onURL({ p: '//evil.example/x' });
  pg.onURL({ p: 7 });
  assert.equal(pg.here(), '/list?q=re');
  pg.onURL({ p: '/list/2', n: true, r: true });
  assert.equal(pg.w.history.length, 2);
  assert.deepEqual(posted(pg.fetches[0]), ['/list/2', 'POST', '_lt_conn=c1&_lt_params=1']);
});

// back waits for the popstate of history.back().
const back = (pg) =>
  new Promise((r) => {
    pg.w.addEventListener('popstate', () => setTimeout(r, 0), { once: true });
    pg.w.history.back();
  });

test('back to an entry of this page runs Params there and restores its scroll', async () => {
  const pg = page();
  pg.win.scrollY = 640;
  pg.click('p2');
  pg.fetches[0].resolve(json(200, { c: 'c1', s: 4, d: {} }));
  await tick();
  await back(pg);
  assert.equal(pg.here(), '/list');
  assert.deepEqual(posted(pg.fetches[1]), ['/list', 'POST', '_lt_conn=c1&_lt_params=1']);
  pg.fetches[1].resolve(json(200, { c: 'c1', s: 5, d: {} }));
  await tick();
  assert.deepEqual(pg.scrolls, [640]);
  assert.deepEqual(pg.live.got.map((m) => m.s), [4, 5]);
});

test('a navigate link loads the page live: title, styles, body and connection; back loads the first again', async () => {
  const pg = page();
  const doc = pg.w.document;
  pg.win.scrollY = 300;
  assert.equal(pg.click('item'), true);
  assert.equal(pg.fetches[0].url, '/items/7');
  assert.equal(pg.fetches[0].init.method, undefined); // a GET
  assert.equal(pg.here(), '/list'); // not before the page came
  pg.fetches[0].resolve(html(ITEM('c2', 7)));
  await tick();
  await tick();
  assert.equal(pg.here(), '/items/7');
  assert.equal(doc.title, 'Item 7');
  assert.equal(doc.head.querySelectorAll('style').length, 0);
  assert.equal(doc.head.querySelector('link').getAttribute('href'), '/item.css');
  assert.deepEqual(pg.live.adopted, [{ c: 'c2', s: 2, from: 'https://ex.com/list', body: '<h1>Item 7</h1>' }]);
  assert.deepEqual(pg.scrolls, [0]);
  assert.deepEqual(pg.loads, []);

  // Back: the list's entry was made by another page (the first one), so
  // the list loads live, at the scroll position it was left at.
  await back(pg);
  assert.equal(pg.here(), '/list');
  assert.equal(pg.fetches[1].url, '/list');
  pg.fetches[1].resolve(html(LIST.replace('c1', 'c3')));
  await tick();
  await tick();
  assert.equal(doc.title, 'List');
  assert.deepEqual(pg.live.adopted[1], { c: 'c3', s: 0, from: 'https://ex.com/items/7', body: '<nav data-lt-patch=""><a id="p2" href="/' });
  assert.deepEqual(pg.scrolls, [0, 300]);
  assert.equal(pg.w.history.length, 2);
});

test('a page that is not live, of another client, or that fails, is loaded normally', async () => {
  for (const res of [
    html('<p>plain</p>'),
    html(ITEM('c2', 7).replace('v=1', 'v=2')),
    html(ITEM('c2', 7), 500),
    new Error('offline'),
  ]) {
    const pg = page();
    pg.click('item');
    if (res instanceof Error) pg.fetches[0].reject(res);
    else pg.fetches[0].resolve(res);
    await tick();
    await tick();
    assert.deepEqual(pg.loads, [['assign', '/items/7']]);
    assert.deepEqual(pg.live.adopted, []);
    assert.equal(pg.here(), '/list');
  }
});

test('the last move wins: a page that comes after the tab moved again is dropped', async () => {
  const pg = page();
  pg.click('item');
  pg.click('p2'); // before the item's page came
  pg.fetches[0].resolve(html(ITEM('c2', 7)));
  await tick();
  await tick();
  assert.deepEqual(pg.live.adopted, []);
  assert.equal(pg.here(), '/list?page=2');
  pg.fetches[1].resolve(json(200, { c: 'c1', s: 4, d: {} }));
  await tick();
  assert.deepEqual(pg.live.got.map((m) => m.s), [4]);
  assert.deepEqual(pg.loads, []);

  // And a Params answer that comes after a navigation started is dropped.
  pg.click('p2');
  pg.onURL({ p: '/list?page=5', n: true });
  pg.click('item');
  pg.fetches[2].resolve(json(410, {}));
  await tick();
  assert.equal(pg.fetches.length, 4); // no load for the 410
  assert.deepEqual(pg.loads, []);
});

test("the page's entry keeps its fragment and scroll position", () => {
  const pg = page(LIST, 'https://ex.com/list?x=1#frag');
  assert.equal(pg.w.location.href, 'https://ex.com/list?x=1#frag');
  assert.equal(typeof pg.w.history.state.lt, 'number');
});
