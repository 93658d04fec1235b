// Uploads: the files of a live form go up with XMLHttpRequest, so that
// each shows its progress and can be removed; a field marked
// data-lt-upload="direct" sends each file straight to storage (a presigned
// PUT) and its action carries the reference. docs/protocol.md#uploads is
// the contract; docs/uploads.md the guide.

const INPUTS = 'input[type=file]';

/**
 * uploads watches the file inputs of win's page and returns up(body,
 * form): for a live form's FormData body, the POST of the action as a
 * Promise of a fetch-like answer ({ok, status, json()}); undefined for
 * any other body (the caller fetches it).
 *
 * Each file an input holds is an entry: with a list for its field on the
 * page (<ul data-lt-files="field" data-lt-ignore>), an <li data-lt-file>
 * there with a preview (an image's object URL, revoked with the entry),
 * its name, a <small> for a refusal and a button that removes it. While
 * the form's POST is sent, each entry's data-lt-progress and
 * --lt-progress (0 to 100%, whole, only growing) follow its bytes sent,
 * and lt:progress {name, percent} fires on its input. A file removed is
 * left out of the form's next POST; during one, its PUT is aborted
 * (direct: the others go on), or the POST is aborted (the other files stay
 * chosen, to be sent again). A form's reset (a reset button) removes all
 * its files and aborts their uploads. Aborted, the POST is not sent: up's
 * promise rejects with an AbortError. A refusal that names a field
 * ("avatar: too large...") marks that field's entries data-lt-failed, with
 * the message; a refused presign or PUT, its file's. A success clears the
 * form's files.
 */
export function uploads(win) {
  const doc = win.document;
  const entries = new WeakMap(); // input -> its entries {file, li, p, url, x, job, gone}
  const of = new WeakMap(); // File -> its entry
  const cancelled = { name: 'AbortError' };
  const each = (form, f) => form.querySelectorAll(INPUTS).forEach((i) => entries.get(i)?.forEach((e) => f(e, i)));
  let bound;

  // progress shows entry e at p percent (whole, growing) and tells.
  const progress = (e, p) => {
    p = p > 99 ? 100 : p | 0;
    if (p > e.p) {
      e.li.dataset.ltProgress = e.p = p;
      e.li.style.setProperty('--lt-progress', p + '%');
      e.input.dispatchEvent(new win.CustomEvent('lt:progress', { bubbles: true, detail: { name: e.file.name, percent: p } }));
    }
  };

  // drop ends entry e: its element and preview gone, its uploads aborted.
  const drop = (e) => {
    e.gone = 1;
    e.li.remove();
    win.URL.revokeObjectURL(e.url);
    e.x?.abort();
    e.job?.x?.abort();
  };

  // mark shows on entry e a refusal's message (data-lt-failed), or none.
  const mark = (e, m) => {
    e.li.querySelector('small').textContent = m || '';
    e.li.toggleAttribute('data-lt-failed', !!m);
  };

  // clear drops the files of form: entries and selections.
  const clear = (form) => each(form, (e, i) => drop(e, (i.value = '')));

  // show makes the entries of input's files, in place of those it had.
  const show = (input) => {
    // Bound late: only pages that take files listen.
    if (!bound) {
      bound = 1;
      // A refusal that names a field ("avatar: too large..."): its entries say so.
      doc.addEventListener('lt:error', ({ detail: { message: m } }) =>
        doc.querySelectorAll(INPUTS).forEach((i) => m.startsWith(i.name + ': ') && entries.get(i)?.forEach((e) => mark(e, m))),
      );
    }
    entries.get(input)?.forEach(drop);
    const ul = doc.querySelector('[data-lt-files=' + JSON.stringify(input.name) + ']');
    entries.set(
      input,
      [...input.files].map((file) => {
        const li = doc.createElement('li');
        const e = { file, input, li, p: -1 };
        of.set(file, e);
        li.innerHTML = '<img alt=""><span></span><small></small><button type="button" aria-label="Remove">×</button>';
        li.dataset.ltFile = '';
        li.children[1].textContent = file.name;
        if (/^image\//.test(file.type)) li.firstChild.src = e.url = win.URL.createObjectURL(file);
        else li.firstChild.remove();
        li.lastChild.onclick = () => drop(e);
        ul?.append(li);
        return e;
      }),
    );
  };

  doc.addEventListener('change', ({ target: i }) => i.type === 'file' && show(i));
  // A form reset (a reset button) cancels all its files and uploads.
  doc.addEventListener('reset', ({ target: form }) => each(form, (e) => e.job && (e.job.all = 1)) || clear(form));

  // send sends body with XMLHttpRequest, its upload's progress to prog
  // (the fraction sent), the request kept in own.x (to abort it); the
  // answer is fetch-like.
  const send = (own, method, url, body, headers, prog) =>
    new Promise((ok, no) => {
      const x = (own.x = new win.XMLHttpRequest());
      x.open(method, url);
      for (const k in headers) x.setRequestHeader(k, headers[k]);
      x.upload.onprogress = x.upload.onload = (p) => prog(p.loaded / p.total);
      x.onload = () => ok({ ok: x.status < 300, status: x.status, json: async () => JSON.parse(x.responseText) });
      x.onerror = () => no(Error('network'));
      x.onabort = () => no(cancelled);
      x.send(body);
    });

  return (body, form) => {
    if (!win.XMLHttpRequest || !(body instanceof win.FormData)) return;
    const url = win.location.href;
    const job = {};
    const all = [...body];
    // begin marks entry e as sent by this POST, from 0%, without refusal.
    const begin = (e) => {
      e.job = job;
      e.p = -1;
      mark(e);
    };
    // direct puts the file of entry e (of field) straight to storage: a
    // presign POST, then the PUT; it keeps the reference in e.ref. A
    // refusal is marked on the entry and kept in job.res.
    const direct = async (field, e) => {
      const f = e.file;
      begin(e);
      let res = await win.fetch(url, {
        method: 'POST',
        body: new URLSearchParams({ _lt_presign: field, name: f.name, size: f.size, type: f.type }),
      });
      const j = await res.json().catch(() => ({}));
      // Removed during its presign or PUT: not sent, left out (gone).
      if (e.gone) return;
      if (res.ok) res = await send(e, 'PUT', j.url, f, j.headers, (r) => progress(e, r * 100)).catch((err) => (job.all || !e.gone ? Promise.reject(err) : res));
      if (res.ok) return (e.ref = j.ref);
      mark(e, j.error || 'HTTP ' + res.status);
      job.res = { status: res.status, json: async () => 0 }; // told: not lt:error's
    };
    const run = async () => {
      await Promise.all(
        all.map(([k, v]) => {
          const e = of.get(v);
          if (e) e.ref = 0; // this POST's, never an older one's
          return e && !e.gone && e.input.getAttribute('data-lt-upload') === 'direct' && direct(k, e);
        }),
      );
      if (job.all) throw cancelled;
      if (job.res) return job.res;
      const fd = new win.FormData();
      const parts = []; // [entry, its offset in the files sent]
      let size = 0;
      for (const [k, v] of all) {
        const e = of.get(v);
        if (e?.ref) e.gone || fd.append('_lt_presigned.' + k, e.ref);
        else if (!e?.gone) {
          fd.append(k, v);
          if (e) begin(e), parts.push([e, size]), (size += v.size);
        }
      }
      return send(job, 'POST', url, fd, { Accept: 'application/json' }, (r) => {
        for (const [e, o] of parts) progress(e, e.file.size ? ((r * size - o) * 100) / e.file.size : 100);
      });
    };
    // A success clears the form's files.
    return run().then((res) => (res.ok && clear(form), res));
  };
}
