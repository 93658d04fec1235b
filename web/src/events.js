// The event side: which key sends which action, and when a field's events
// are sent (debounce, throttle).

/**
 * keyAction returns the action that spec (the value of data-lt-keydown or
 * data-lt-keyup: space-separated entries, each "Key:action", or a bare
 * "action" for any key) names for key (KeyboardEvent.key), or ''.
 */
export function keyAction(spec, key) {
  for (const w of spec.split(/\s+/)) {
    const i = w.lastIndexOf(':');
    if (i < 0 ? w : w.slice(0, i) === key) return w.slice(i + 1);
  }
  return '';
}

/**
 * timing returns schedule(el, kind, debounce, throttle, fire): it calls
 * fire now, or later as the element's data-lt-debounce and data-lt-throttle
 * ask (ms, or debounce "blur": when el loses focus, which the caller tells
 * with blurred(el)). A debounced event fires once its events pause for
 * that long; a throttled one fires at once, then at most once per period,
 * the last one at the end of the period: the latest event is never lost.
 * fire builds its POST when it runs, from the form as it is then. Each
 * element and kind of event (input, keydown...) is timed on its own.
 */
export function timing(win, now = () => Date.now()) {
  const all = new WeakMap(); // el -> {kind -> {t: timer, at: last fire, fire}}
  const blurs = new Map(); // el -> the fires waiting for its blur
  const schedule = (el, kind, debounce, throttle, fire) => {
    const m = all.get(el) || {};
    all.set(el, m);
    const st = (m[kind] = m[kind] || { t: 0, at: -1e9 });
    st.fire = fire;
    if (debounce === 'blur') {
      if (!blurs.has(el)) blurs.set(el, new Map());
      return blurs.get(el).set(kind, fire);
    }
    const d = +debounce, p = +throttle;
    if (d > 0) {
      win.clearTimeout(st.t);
      st.t = win.setTimeout(fire, d);
    } else if (p > 0) {
      if (st.t) return; // the period's last event fires at its end
      const wait = st.at + p - now();
      const go = () => {
        st.t = 0;
        st.at = now();
        st.fire();
      };
      if (wait > 0) st.t = win.setTimeout(go, wait);
      else go();
    } else fire();
  };
  const blurred = (el) => {
    const f = blurs.get(el);
    blurs.delete(el);
    if (f) for (const fire of f.values()) fire();
  };
  return { schedule, blurred };
}
