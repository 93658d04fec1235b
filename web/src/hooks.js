// JS interop: hooks, scripts of the page bound to elements by data-lt-hook.

/**
 * hooks returns the registry of the page of doc: define(name, def)
 * registers a hook, sync() binds and unbinds the elements after each
 * update, tell(name, detail) passes a server-pushed event on.
 *
 * An element with data-lt-hook="name" gets an instance of the hook's def
 * (Object.create(def)) with el (the element) and action(name, data) (runs
 * an action, as livesse.action). Its methods, each optional, run:
 * mounted() once the element is on the page (at start, after the update
 * that added it, or when the hook is defined), updated() after every update
 * of the page while it is there, destroyed() once it is gone, and onEvent(name, detail) for each event the
 * server pushes to the tab (an update's e). An error in one is logged, and
 * the others still run.
 */
export function hooks(doc, action) {
  const defs = new Map(); // name -> def
  const live = new Map(); // el -> instance
  const call = (h, m, ...args) => {
    try {
      h[m] && h[m](...args);
    } catch (err) {
      console.error(err);
    }
  };
  const sync = (updated = true) => {
    const els = new Set(doc.querySelectorAll ? doc.querySelectorAll('[data-lt-hook]') : []);
    for (const [el, h] of live) {
      if (!els.has(el)) {
        live.delete(el);
        call(h, 'destroyed');
      }
    }
    for (const el of els) {
      const h = live.get(el);
      const def = defs.get(el.getAttribute('data-lt-hook'));
      if (h) updated && call(h, 'updated');
      else if (def) {
        live.set(el, Object.assign(Object.create(def), { el, action }));
        call(live.get(el), 'mounted');
      }
    }
  };
  return {
    sync,
    define: (n, def) => sync(!defs.set(n, def)),
    tell: (n, d) => live.forEach((h) => call(h, 'onEvent', n, d)),
  };
}
