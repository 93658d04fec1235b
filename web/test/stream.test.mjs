import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamURL, backoff, BASE_MS, CAP_MS } from '../src/stream.js';

test('streamURL keeps path and query and appends the stream params', () => {
  assert.equal(
    streamURL('https://ex.com/room/7?tab=a%20b&x=1#frag', [['c1', 3]]),
    '/room/7?tab=a+b&x=1&_lt_conn=c1&_lt_seq=3',
  );
  assert.equal(streamURL('http://h/', [['c', 0]]), '/?_lt_conn=c&_lt_seq=0');
});

test('streamURL names every connection, its seq at the same position', () => {
  const u = streamURL('http://h/p?a=1', [['a', 5], ['b', null], ['c', 0], ['d', undefined], ['e', 12]]);
  assert.equal(u, '/p?a=1&_lt_conn=a&_lt_seq=5&_lt_conn=b&_lt_seq=&_lt_conn=c&_lt_seq=0&_lt_conn=d&_lt_seq=&_lt_conn=e&_lt_seq=12');
  const q = new URL(u, 'http://h').searchParams;
  assert.deepEqual(q.getAll('_lt_conn'), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(q.getAll('_lt_seq'), ['5', '', '0', '', '12']);
});

test('streamURL replaces stream params already in the URL', () => {
  const u = streamURL('http://h/p?_lt_conn=old&a=1&_lt_seq=9&_lt_conn=older', [['new', 12]]);
  const q = new URL(u, 'http://h').searchParams;
  assert.deepEqual(q.getAll('_lt_conn'), ['new']);
  assert.deepEqual(q.getAll('_lt_seq'), ['12']);
  assert.equal(q.get('a'), '1');
  assert.ok(u.startsWith('/p?'));
});

test('streamURL sends a missing seq empty, replacing one in the page URL', () => {
  assert.equal(streamURL('https://ex.com/room?x=1', [['c1', null]]), '/room?x=1&_lt_conn=c1&_lt_seq=');
  assert.equal(streamURL('http://h/p?_lt_seq=4&a=1', [['c', undefined]]), '/p?a=1&_lt_conn=c&_lt_seq=');
  assert.equal(streamURL('http://h/p', [['c', 0]]), '/p?_lt_conn=c&_lt_seq=0'); // 0 is a seq
});

test('streamURL escapes the connection ids', () => {
  const u = streamURL('http://h/p', [['a&b=c d', 1], ['x&_lt_seq=7', null]]);
  const q = new URL(u, 'http://h').searchParams;
  assert.deepEqual(q.getAll('_lt_conn'), ['a&b=c d', 'x&_lt_seq=7']);
  assert.deepEqual(q.getAll('_lt_seq'), ['1', '']);
});

test('backoff ceiling doubles from 500 ms and is capped at 30 s', () => {
  const top = () => 1; // the supremum of Math.random, to read the ceiling
  assert.equal(BASE_MS, 500);
  assert.equal(CAP_MS, 30000);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoff(a, top)),
    [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
  assert.equal(backoff(5000, top), 30000); // 2**5000 overflows to Infinity
});

test('backoff uses full jitter: zero is possible, the ceiling is not', () => {
  assert.equal(backoff(0, () => 0), 0);
  assert.equal(backoff(10, () => 0), 0);
  assert.equal(backoff(3, () => 0.5), 2000);
  for (let a = 0; a < 12; a++) {
    const ceil = Math.min(30000, 500 * 2 ** a);
    let lo = Infinity, hi = 0;
    for (let i = 0; i < 2000; i++) {
      const d = backoff(a);
      assert.ok(d >= 0 && d < ceil, `attempt ${a}: ${d} not in [0, ${ceil})`);
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
    // Spread over the whole range, not a jitter around the ceiling.
    assert.ok(lo < ceil * 0.05 && hi > ceil * 0.95, `attempt ${a}: [${lo}, ${hi}]`);
  }
});
