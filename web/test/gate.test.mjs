import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gate } from '../src/gate.js';

const m = (c, s, h = `<p>${s}</p>`) => ({ c, s, h });

// Runs msgs ([msg, reset]) through the gate from state and returns the seqs applied.
function run(state, msgs) {
  const applied = [];
  for (const [msg, reset] of msgs) {
    const next = gate(state, msg, reset);
    if (next) {
      state = next;
      applied.push(`${next.conn}:${next.seq}`);
    }
  }
  return { state, applied };
}

test('updates apply in order, duplicates and stale ones are dropped', () => {
  const { state, applied } = run({ conn: 'a', seq: 2 }, [
    [m('a', 2)], // what the page was rendered at
    [m('a', 3)],
    [m('a', 3)], // same update again (POST response, then stream)
    [m('a', 5)], // a gap is fine: the html is a full render
    [m('a', 4)], // late
    [m('a', 6)],
  ]);
  assert.deepEqual(applied, ['a:3', 'a:5', 'a:6']);
  assert.deepEqual(state, { conn: 'a', seq: 6 });
});

test('updates of another connection are ignored', () => {
  const { applied } = run({ conn: 'a', seq: 1 }, [[m('b', 9)], [m('a', 2)]]);
  assert.deepEqual(applied, ['a:2']);
});

test('a render always applies and adopts the new conn and seq', () => {
  const { state, applied } = run({ conn: 'a', seq: 40 }, [
    [m('b', 1), true], // server restarted: new conn, seq starts over
    [m('a', 41)], // straggler of the old connection
    [m('b', 1)],
    [m('b', 2)],
    [m('b', 2), true], // a render applies even if not newer
  ]);
  assert.deepEqual(applied, ['b:1', 'b:2', 'b:2']);
  assert.deepEqual(state, { conn: 'b', seq: 2 });
});

test('messages without html or seq change nothing', () => {
  const st = { conn: 'a', seq: 1 };
  assert.equal(gate(st, { c: 'a', s: 2 }, false), null); // POST answer, nothing changed
  assert.equal(gate(st, { c: 'a', h: 'x' }, false), null);
  assert.equal(gate(st, { c: 'a', s: '2', h: 'x' }, false), null);
  assert.equal(gate(st, { error: 'boom' }, false), null);
  assert.equal(gate(st, null, true), null);
  assert.equal(gate(st, { s: 1, h: 'x' }, true), null); // a render must name its conn
  assert.deepEqual(gate(st, { c: 'a', s: 2, h: '' }, false), { conn: 'a', seq: 2 }); // empty body is html
});

test('gate does not mutate the state it is given', () => {
  const st = Object.freeze({ conn: 'a', seq: 1 });
  assert.deepEqual(gate(st, m('a', 2), false), { conn: 'a', seq: 2 });
  assert.deepEqual(gate(st, m('z', 0), true), { conn: 'z', seq: 0 });
});
