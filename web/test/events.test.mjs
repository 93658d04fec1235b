// events.js: key filters and the timing of field events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyAction, timing } from '../src/events.js';
import { hooks } from '../src/hooks.js';

test('keyAction picks the action of the key, or of any key', () => {
  const spec = 'Enter:save Escape:cancel ArrowUp:up';
  assert.equal(keyAction(spec, 'Enter'), 'save');
  assert.equal(keyAction(spec, 'Escape'), 'cancel');
  assert.equal(keyAction(spec, 'ArrowUp'), 'up');
  assert.equal(keyAction(spec, 'a'), '');
  assert.equal(keyAction('search', 'x'), 'search');
  assert.equal(keyAction('Enter:pick search', 'x'), 'search');
});

// clock returns fake timers and time.
function clock() {
  let now = 0;
  const timers = [];
  const win = {
    setTimeout: (fn, ms) => timers.push({ fn, at: now + ms }),
    clearTimeout: (id) => id && (timers[id - 1].fn = null),
  };
  const run = (ms) => {
    now += ms;
    for (const t of timers) if (t.fn && t.at <= now) [t.fn, t.fn = null][0]();
  };
  return { win, now: () => now, run };
}

test('debounce fires once the events pause; throttle at once, then once per period, the last at its end', () => {
  const c = clock();
  const { schedule, blurred } = timing(c.win, c.now);
  const el = {};
  const fired = [];
  const ev = (kind, deb, thr, v) => schedule(el, kind, deb, thr, () => fired.push(v));
  ev('input', '100', null, 'a');
  c.run(50);
  ev('input', '100', null, 'ab');
  c.run(99);
  assert.deepEqual(fired, []);
  c.run(1);
  assert.deepEqual(fired, ['ab']);
  fired.length = 0;
  ev('keyup', null, '100', 1); // at once
  ev('keyup', null, '100', 2);
  ev('keyup', null, '100', 3); // the period's last
  assert.deepEqual(fired, [1]);
  c.run(100);
  assert.deepEqual(fired, [1, 3]);
  fired.length = 0;
  ev('input', 'blur', null, 'x');
  ev('input', 'blur', null, 'xy');
  c.run(1000);
  assert.deepEqual(fired, []);
  blurred(el);
  blurred(el);
  assert.deepEqual(fired, ['xy']);
  ev('change', null, null, 'now');
  assert.deepEqual(fired, ['xy', 'now']);
});

test('hooks mount, update and destroy with their elements, and hear server events', () => {
  const log = [];
  let els = [];
  const el = (name) => ({ getAttribute: () => name, n: name });
  const doc = { querySelectorAll: () => els };
  const h = hooks(doc, () => {});
  const a = el('chart');
  els = [a];
  h.sync();
  h.define('chart', {
    mounted() {
      log.push(['mounted', this.el.n]);
    },
    updated() {
      log.push(['updated', this.el.n]);
    },
    destroyed() {
      log.push(['destroyed', this.el.n]);
    },
    onEvent(n, d) {
      log.push([n, d]);
    },
  });
  h.sync();
  h.tell('point', 5);
  els = [];
  h.sync();
  h.tell('point', 6);
  assert.deepEqual(log, [['mounted', 'chart'], ['updated', 'chart'], ['point', 5], ['destroyed', 'chart']]);
});
