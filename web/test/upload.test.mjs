// Uploads (upload.js) on a real DOM (jsdom), with fakes of the network:
// XMLHttpRequest (whose upload progress the test drives), fetch (the
// presign) and object URLs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';
import { uploads } from '../src/upload.js';

const tick = () => new Promise((r) => setImmediate(r));

// page builds a page of html with the client's uploads on it.
function page(html) {
  const win = new JSDOM('<!DOCTYPE html><body>' + html, { url: 'http://app.test/p' }).window;
  const xhrs = [];
  class FakeXHR {
    constructor() {
      this.headers = {};
      this.upload = {};
      this.aborted = false;
      xhrs.push(this);
    }
    open(method, url) {
      Object.assign(this, { method, url });
    }
    setRequestHeader(k, v) {
      this.headers[k] = v;
    }
    send(body) {
      this.body = body;
    }
    abort() {
      if (this.done) return;
      this.aborted = this.done = true;
      this.onabort();
    }
    // sent reports the upload's progress, loaded of total bytes.
    sent(loaded, total) {
      this.upload.onprogress({ loaded, total });
    }
    answer(status, body) {
      this.upload.onload?.({ loaded: 1, total: 1 });
      Object.assign(this, { status, responseText: JSON.stringify(body), done: true });
      this.onload();
    }
  }
  win.XMLHttpRequest = FakeXHR;
  const urls = { made: [], revoked: [] };
  win.URL.createObjectURL = (f) => (urls.made.push(f.name), 'blob:' + f.name);
  win.URL.revokeObjectURL = (u) => u && urls.revoked.push(u);
  const presigns = [];
  win.fetch = async (url, init) => {
    const p = Object.fromEntries(init.body);
    presigns.push(p);
    const tooBig = +p.size > 100;
    return new Response(
      JSON.stringify(
        tooBig
          ? { error: p._lt_presign + ': too large (at most 100 bytes)' }
          : { url: 'http://bucket.test/' + p.name, headers: { 'Content-Type': p.type, 'If-None-Match': '*' }, ref: 'ref-' + p.name },
      ),
      { status: tooBig ? 413 : 200 },
    );
  };
  const up = uploads(win);
  const doc = win.document;
  const events = [];
  doc.addEventListener('lt:progress', (e) => events.push([e.target.name, e.detail.name, e.detail.percent]));
  return { win, doc, up, xhrs, urls, presigns, events };
}

// choose makes input hold files ([name, size, type]) as a user's pick
// does, change event included, and returns them.
function choose(p, input, specs) {
  const files = specs.map(([name, size, type]) => new p.win.File(['x'.repeat(size)], name, { type }));
  Object.defineProperty(input, 'files', { value: files, configurable: true, writable: true });
  input.dispatchEvent(new p.win.Event('change', { bubbles: true }));
  return files;
}

// body is the FormData the client's submit makes of form: its fields, in
// order, with the files chosen.
function body(p, form, extra = {}) {
  const fd = new p.win.FormData();
  for (const el of form.elements) {
    if (el.type === 'file') for (const f of el.files) fd.append(el.name, f);
    else if (el.name && el.type !== 'submit') fd.append(el.name, el.value);
  }
  for (const [k, v] of Object.entries(extra)) fd.append(k, v);
  return fd;
}

const entries = (p, field) =>
  [...p.doc.querySelectorAll(`[data-lt-files="${field}"] [data-lt-file]`)].map((li) => ({
    name: li.querySelector('span').textContent,
    preview: li.querySelector('img')?.getAttribute('src') || '',
    progress: li.getAttribute('data-lt-progress'),
    css: li.style.getPropertyValue('--lt-progress'),
    failed: li.hasAttribute('data-lt-failed') ? li.querySelector('small').textContent : null,
  }));

const GALLERY = `<form method="post" enctype="multipart/form-data">
  <input name="title" value="Holidays"><input type="file" name="gallery" multiple>
  <ul data-lt-files="gallery" data-lt-ignore></ul><button type="reset">Cancel all</button></form>`;

test('chosen files are listed with a preview for images, none for others', () => {
  const p = page(GALLERY);
  choose(p, p.doc.querySelector('input[type=file]'), [
    ['a.png', 10, 'image/png'],
    ['b.pdf', 20, 'application/pdf'],
  ]);
  assert.deepEqual(entries(p, 'gallery'), [
    { name: 'a.png', preview: 'blob:a.png', progress: null, css: '', failed: null },
    { name: 'b.pdf', preview: '', progress: null, css: '', failed: null },
  ]);
  // Chosen again: the old entries and their previews go.
  choose(p, p.doc.querySelector('input[type=file]'), [['c.gif', 5, 'image/gif']]);
  assert.deepEqual(p.urls.revoked, ['blob:a.png']);
  assert.deepEqual(
    entries(p, 'gallery').map((e) => e.name),
    ['c.gif'],
  );
});

test('a multipart POST shows each file its own progress, growing to 100%, then clears the files', async () => {
  const p = page(GALLERY);
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [
    ['a.png', 100, 'image/png'],
    ['b.png', 300, 'image/png'],
  ]);
  const answer = p.up(body(p, form, { _lt_action: 'save' }), form);
  await tick();
  const x = p.xhrs[0];
  assert.equal(x.method, 'POST');
  assert.equal(x.url, 'http://app.test/p');
  assert.equal(x.headers.Accept, 'application/json');
  assert.deepEqual(
    [...x.body].map(([k, v]) => [k, typeof v === 'string' ? v : v.name]),
    [
      ['title', 'Holidays'],
      ['gallery', 'a.png'],
      ['gallery', 'b.png'],
      ['_lt_action', 'save'],
    ],
  );
  // The body is the 400 bytes of files and 100 of the rest: the progress
  // scales to the files, a.png first.
  x.sent(50, 500);
  x.sent(125, 500);
  assert.deepEqual(
    entries(p, 'gallery').map((e) => [e.progress, e.css]),
    [
      ['100', '100%'],
      ['0', '0%'],
    ],
  );
  x.sent(125, 500); // no news: no event
  x.sent(250, 500);
  x.sent(500, 500);
  assert.deepEqual(p.events, [
    ['gallery', 'a.png', 40],
    ['gallery', 'a.png', 100],
    ['gallery', 'b.png', 0],
    ['gallery', 'b.png', 33],
    ['gallery', 'b.png', 100],
  ]);
  x.answer(200, { c: 'c1', s: 2 });
  const res = await answer;
  assert.equal(res.ok, true);
  assert.deepEqual(await res.json(), { c: 'c1', s: 2 });
  assert.deepEqual(entries(p, 'gallery'), []);
  assert.deepEqual(p.urls.revoked, ['blob:a.png', 'blob:b.png']);
  assert.equal(form.elements.gallery.value, '');
});

test('a file removed before the submit is left out of the POST', async () => {
  const p = page(GALLERY);
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [
    ['a.png', 10, 'image/png'],
    ['b.png', 10, 'image/png'],
  ]);
  p.doc.querySelector('[data-lt-file] button').click();
  assert.deepEqual(
    entries(p, 'gallery').map((e) => e.name),
    ['b.png'],
  );
  assert.deepEqual(p.urls.revoked, ['blob:a.png']);
  p.up(body(p, form), form);
  await tick();
  assert.deepEqual(
    p.xhrs[0].body.getAll('gallery').map((f) => f.name),
    ['b.png'],
  );
});

test('a file removed during the multipart POST aborts it; the others stay chosen', async () => {
  const p = page(GALLERY);
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [
    ['a.png', 10, 'image/png'],
    ['b.png', 10, 'image/png'],
  ]);
  const answer = p.up(body(p, form), form);
  await tick();
  p.xhrs[0].sent(5, 20);
  p.doc.querySelector('[data-lt-file] button').click();
  assert.equal(p.xhrs[0].aborted, true);
  await assert.rejects(answer, { name: 'AbortError' });
  assert.deepEqual(
    entries(p, 'gallery').map((e) => e.name),
    ['b.png'],
  );
  // Sent again: its progress starts over.
  p.up(body(p, form), form);
  await tick();
  assert.deepEqual(
    p.xhrs[1].body.getAll('gallery').map((f) => f.name),
    ['b.png'],
  );
  p.xhrs[1].sent(5, 10);
  assert.deepEqual(entries(p, 'gallery')[0].progress, '50');
});

test('a refusal naming the field marks its entries with the message, until they are sent again', async () => {
  const p = page(GALLERY + '<input type="file" name="other"><ul data-lt-files="other" data-lt-ignore></ul>');
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [['a.png', 10, 'image/png']]);
  choose(p, p.doc.querySelector('[name=other]'), [['o.png', 10, 'image/png']]);
  const answer = p.up(body(p, form), form);
  await tick();
  p.xhrs[0].answer(413, { error: 'gallery: too large (at most 5 bytes)' });
  const res = await answer;
  assert.equal(res.status, 413);
  // live.js reports the refusal as lt:error.
  p.doc.dispatchEvent(new p.win.CustomEvent('lt:error', { detail: { status: 413, message: 'gallery: too large (at most 5 bytes)' } }));
  assert.equal(entries(p, 'gallery')[0].failed, 'gallery: too large (at most 5 bytes)');
  assert.equal(entries(p, 'other')[0].failed, null);
  p.up(body(p, form), form);
  await tick();
  assert.equal(entries(p, 'gallery')[0].failed, null);
});

test('a reset cancels every file and the POST', async () => {
  const p = page(GALLERY);
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [['a.png', 10, 'image/png']]);
  const answer = p.up(body(p, form), form);
  await tick();
  form.reset();
  assert.equal(p.xhrs[0].aborted, true);
  await assert.rejects(answer, { name: 'AbortError' });
  assert.deepEqual(entries(p, 'gallery'), []);
});

const DIRECT = `<form method="post" enctype="multipart/form-data">
  <input type="file" name="gallery" multiple data-lt-upload="direct">
  <ul data-lt-files="gallery" data-lt-ignore></ul><button type="reset">Cancel all</button></form>`;

test('a direct field presigns each file, PUTs it with exactly the headers given, and the action carries the references', async () => {
  const p = page(DIRECT);
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [
    ['a.png', 10, 'image/png'],
    ['b.png', 20, 'image/png'],
  ]);
  const answer = p.up(body(p, form, { _lt_action: 'save', _lt_conn: 'c1' }), form);
  await tick();
  await tick();
  assert.deepEqual(p.presigns, [
    { _lt_presign: 'gallery', name: 'a.png', size: '10', type: 'image/png' },
    { _lt_presign: 'gallery', name: 'b.png', size: '20', type: 'image/png' },
  ]);
  const [a, b] = p.xhrs;
  assert.deepEqual([a.method, a.url, a.headers, a.body.name], ['PUT', 'http://bucket.test/a.png', { 'Content-Type': 'image/png', 'If-None-Match': '*' }, 'a.png']);
  a.sent(5, 10);
  b.sent(20, 20);
  a.sent(10, 10);
  assert.deepEqual(p.events, [
    ['gallery', 'a.png', 50],
    ['gallery', 'b.png', 100],
    ['gallery', 'a.png', 100],
  ]);
  a.answer(200, {});
  b.answer(200, {});
  await tick();
  await tick();
  const post = p.xhrs[2];
  assert.deepEqual(
    [...post.body],
    [
      ['_lt_presigned.gallery', 'ref-a.png'],
      ['_lt_presigned.gallery', 'ref-b.png'],
      ['_lt_action', 'save'],
      ['_lt_conn', 'c1'],
    ],
  );
  post.answer(200, { c: 'c1', s: 3 });
  assert.equal((await answer).ok, true);
  assert.deepEqual(entries(p, 'gallery'), []);
});

test('a direct file removed during its PUT is aborted alone and left out', async () => {
  const p = page(DIRECT);
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [
    ['a.png', 10, 'image/png'],
    ['b.png', 20, 'image/png'],
  ]);
  const answer = p.up(body(p, form, { _lt_action: 'save' }), form);
  await tick();
  await tick();
  const [a, b] = p.xhrs;
  b.sent(5, 20);
  p.doc.querySelectorAll('[data-lt-file] button')[1].click();
  assert.equal(b.aborted, true);
  a.answer(200, {});
  await tick();
  await tick();
  assert.deepEqual(
    [...p.xhrs[2].body],
    [
      ['_lt_presigned.gallery', 'ref-a.png'],
      ['_lt_action', 'save'],
    ],
  );
  p.xhrs[2].answer(200, {});
  assert.equal((await answer).ok, true);
});

test('a reset during the PUTs aborts them all and sends no POST', async () => {
  const p = page(DIRECT);
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [
    ['a.png', 10, 'image/png'],
    ['b.png', 20, 'image/png'],
  ]);
  const answer = p.up(body(p, form), form);
  await tick();
  await tick();
  p.xhrs[0].answer(200, {});
  form.reset();
  await assert.rejects(answer, { name: 'AbortError' });
  assert.equal(p.xhrs[1].aborted, true);
  await tick();
  assert.equal(p.xhrs.length, 2, 'no POST');
});

test('a presign refused marks its file, and the action is not sent', async () => {
  const p = page(DIRECT);
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [
    ['a.png', 10, 'image/png'],
    ['big.png', 500, 'image/png'],
  ]);
  const answer = p.up(body(p, form), form);
  await tick();
  await tick();
  // The other file's PUT ends (the POST answers once every file is done).
  p.xhrs[0].answer(200, {});
  const res = await answer;
  assert.equal(res.status, 413);
  assert.equal(await res.json(), 0); // live.js then reports HTTP 413: the entry says why
  assert.deepEqual(
    entries(p, 'gallery').map((e) => e.failed),
    [null, 'gallery: too large (at most 100 bytes)'],
  );
  assert.ok(p.xhrs.every((x) => x.method === 'PUT'), 'no POST');
});

test('bodies that are not a form’s FormData are left to fetch', () => {
  const p = page(GALLERY);
  assert.equal(p.up(new URLSearchParams('a=1'), null), undefined);
  delete p.win.XMLHttpRequest;
  assert.equal(p.up(new p.win.FormData(), p.doc.querySelector('form')), undefined);
});

test('a direct file removed before the submit is not presigned; a submit again presigns and PUTs anew', async () => {
  const p = page(DIRECT);
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [
    ['a.png', 10, 'image/png'],
    ['b.png', 20, 'image/png'],
  ]);
  p.doc.querySelector('[data-lt-file] button').click();
  const first = p.up(body(p, form), form);
  await tick();
  await tick();
  assert.deepEqual(
    p.presigns.map((x) => x.name),
    ['b.png'],
  );
  p.xhrs[0].answer(200, {});
  await tick();
  await tick();
  p.xhrs[1].answer(422, { error: 'refused' }); // the action failed
  assert.equal((await first).status, 422);
  const second = p.up(body(p, form), form);
  await tick();
  await tick();
  assert.deepEqual(
    p.presigns.map((x) => x.name),
    ['b.png', 'b.png'],
  );
  p.xhrs[2].answer(200, {});
  await tick();
  await tick();
  assert.deepEqual([...p.xhrs[3].body], [['_lt_presigned.gallery', 'ref-b.png']]);
  p.xhrs[3].answer(200, {});
  assert.equal((await second).ok, true);
});

test('a direct file removed during its presign is not PUT', async () => {
  const p = page(DIRECT);
  const form = p.doc.querySelector('form');
  choose(p, form.elements.gallery, [
    ['a.png', 10, 'image/png'],
    ['b.png', 20, 'image/png'],
  ]);
  const answer = p.up(body(p, form, { _lt_action: 'save' }), form);
  p.doc.querySelectorAll('[data-lt-file] button')[1].click(); // its presign is under way
  await tick();
  await tick();
  assert.deepEqual(
    p.xhrs.map((x) => x.url),
    ['http://bucket.test/a.png'],
  );
  p.xhrs[0].answer(200, {});
  await tick();
  await tick();
  assert.deepEqual(
    [...p.xhrs[1].body],
    [
      ['_lt_presigned.gallery', 'ref-a.png'],
      ['_lt_action', 'save'],
    ],
  );
  p.xhrs[1].answer(200, {});
  assert.equal((await answer).ok, true);
});
