import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveForm, formBody, buttonBody } from '../src/actions.js';

const page = 'https://ex.com/todo?list=1#top';
// attrs is {name: value} of the effective attributes.
const live = (attrs) => liveForm((n) => attrs[n] ?? null, page, page);

test('liveForm takes POST forms aimed at this page', () => {
  assert.deepEqual(live({ method: 'post' }), { multipart: false });
  assert.deepEqual(live({ method: 'POST', action: '' }), { multipart: false });
  assert.deepEqual(live({ method: 'post', action: '?list=2' }), { multipart: false });
  assert.deepEqual(live({ method: 'post', action: '/todo' }), { multipart: false });
  assert.deepEqual(live({ method: 'post', action: 'https://ex.com/todo#x', target: '_self' }), { multipart: false });
  assert.deepEqual(live({ method: 'post', enctype: 'Multipart/Form-Data' }), { multipart: true });
  assert.deepEqual(live({ method: 'post', enctype: 'text/plain' }), { multipart: false });
});

test('liveForm leaves other forms to the browser', () => {
  assert.equal(live({}), null); // GET by default
  assert.equal(live({ method: 'get' }), null);
  assert.equal(live({ method: 'dialog' }), null);
  assert.equal(live({ method: 'post', action: '/other' }), null);
  assert.equal(live({ method: 'post', action: 'https://evil.example/todo' }), null);
  assert.equal(live({ method: 'post', target: '_blank' }), null);
  assert.equal(live({ method: 'post', target: 'frame1' }), null);
});

const params = (body) => [...body];

test('formBody adds the conn and the submitter name as the action', () => {
  const fd = new FormData();
  fd.append('title', 'milk & eggs');
  fd.append('add', 'x'); // the submitter, as FormData(form, submitter) puts it
  fd.append('_lt_conn', 'forged');
  const body = formBody(fd, { name: 'add', value: 'x' }, 'c1', false);
  assert.ok(body instanceof URLSearchParams);
  assert.deepEqual(params(body), [
    ['title', 'milk & eggs'],
    ['add', 'x'],
    ['_lt_conn', 'c1'],
    ['_lt_action', 'add'],
  ]);
  assert.equal(body.toString(), 'title=milk+%26+eggs&add=x&_lt_conn=c1&_lt_action=add');
});

test('formBody: a submitter named _lt_action carries the action in its value', () => {
  const fd = new FormData();
  fd.append('_lt_action', 'save');
  const body = formBody(fd, { name: '_lt_action', value: 'save' }, 'c1', false);
  assert.deepEqual(params(body), [['_lt_action', 'save'], ['_lt_conn', 'c1']]);
});

test('formBody: no submitter name, no action added', () => {
  const fd = new FormData();
  fd.append('q', '1');
  assert.deepEqual(params(formBody(fd, null, 'c1', false)), [['q', '1'], ['_lt_conn', 'c1']]);
  assert.deepEqual(params(formBody(new FormData(), { name: '', value: '' }, 'c2', false)), [['_lt_conn', 'c2']]);
});

test('formBody: the submitter action wins over a hidden _lt_action field', () => {
  const fd = new FormData();
  fd.append('_lt_action', 'hidden');
  fd.append('del', '7');
  const body = formBody(fd, { name: 'del', value: '7' }, 'c1', false);
  assert.deepEqual(body.getAll('_lt_action'), ['del']);
});

test('formBody adds the submitter value when the browser left it out', () => {
  const body = formBody(new FormData(), { name: '_lt_action', value: 'save' }, 'c1', false);
  assert.deepEqual(params(body), [['_lt_action', 'save'], ['_lt_conn', 'c1']]);
});

test('formBody: files go only in multipart; url-encoded sends the file name', () => {
  const file = new File(['hello'], 'a.txt', { type: 'text/plain' });
  const mk = () => {
    const fd = new FormData();
    fd.append('doc', file);
    return fd;
  };
  const multi = formBody(mk(), { name: 'up', value: '' }, 'c1', true);
  assert.ok(multi instanceof FormData);
  assert.equal(multi.get('doc').name, 'a.txt');
  assert.equal(multi.get('doc').size, 5);
  assert.equal(multi.get('_lt_conn'), 'c1');
  assert.equal(multi.get('_lt_action'), 'up');

  const plain = formBody(mk(), null, 'c1', false);
  assert.ok(plain instanceof URLSearchParams);
  assert.equal(plain.get('doc'), 'a.txt');
});

test('buttonBody sends action, name=value and conn', () => {
  assert.equal(buttonBody('inc', '5', 'c1').toString(), '_lt_action=inc&inc=5&_lt_conn=c1');
  assert.equal(buttonBody('_lt_action', 'reset', 'c1').toString(), '_lt_action=reset&_lt_conn=c1');
  assert.equal(buttonBody('x y', 'a&b', 'c=1').toString(), '_lt_action=x+y&x+y=a%26b&_lt_conn=c%3D1');
});
