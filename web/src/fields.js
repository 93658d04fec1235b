// The form side of a morph: what the user entered stays.

/**
 * field is called by the morph (morph.js) before it syncs old, an element
 * of the page, to next, what the server renders for it. For a form field
 * (an input other than a file, a textarea, a select) it returns the
 * function that sets the field's state (value, checked, the options'
 * selected) once its attributes and children are synced; for anything else
 * nothing.
 *
 * The state follows the server: the field shows what the server renders
 * (its value attribute, a textarea's text, checked and selected
 * attributes), unless the field keeps the state it has:
 *
 *   - a field hold(old) names: the one the user is typing in (focused, and
 *     edited since it got focus), those whose form has a newer POST waiting
 *     (live.js). It keeps its value (checked state, chosen options) whatever
 *     the server renders, and so its caret and selection; its attributes
 *     follow the server (class, disabled, aria-invalid, and its value
 *     attribute too, so that once it is let go the next update that renders
 *     another value applies). A held contenteditable element is left whole
 *     by the morph.
 *   - a field the user changed (typed or autofilled before the stream
 *     connected, or typed into a field that has lost focus since): an input
 *     or textarea whose value differs from its defaultValue, a checkbox or
 *     radio button whose checked differs from its defaultChecked, a select
 *     with an option whose selected differs from its defaultSelected. It
 *     keeps its state while the server renders the same for it as before:
 *     the same value attribute (text, checked attribute, options marked
 *     selected). When the server renders another, the server's applies.
 *
 * Only the same kind of field keeps its value: an input whose type changes
 * shows the server's.
 */
export function field(old, next, hold) {
  const tag = old.localName;
  if (tag === 'select') {
    const was = new Map([...old.options].map((o) => [o, o.selected]));
    const keep = hold(old) || ([...was].some(([o, s]) => s !== o.defaultSelected) && chosen(old) === chosen(next));
    return () => {
      for (const o of old.options) {
        const s = keep ? !!was.get(o) : o.defaultSelected;
        if (o.selected !== s) o.selected = s;
      }
    };
  }
  if (tag !== 'textarea' && (tag !== 'input' || old.type === 'file')) return;
  const check = old.type === 'checkbox' || old.type === 'radio';
  const [p, d] = check ? ['checked', 'defaultChecked'] : ['value', 'defaultValue'];
  const was = old[p];
  const keep = old.type === next.type && (hold(old) || (was !== old[d] && old[d] === next[d]));
  return () => {
    const v = keep ? was : old[d];
    if (old[p] !== v) old[p] = v;
  };
}

// chosen lists the values of the options the server marked selected.
const chosen = (select) =>
  [...select.options]
    .filter((o) => o.defaultSelected)
    .map((o) => o.value)
    .join('\n');
