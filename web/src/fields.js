// The form side of a morph: what the user entered stays.

/**
 * userFields returns the Idiomorph callbacks of one morph that keep what the
 * user entered into the form fields the morph leaves in place. Idiomorph
 * sets every field to what the server rendered: a value typed or autofilled
 * before the stream connected, or typed into a field that has lost focus
 * since, would be lost.
 *
 * hold(field) tells the fields to keep as the user has them: the one the
 * user is typing in (focused, and edited since it got focus), and those
 * whose form has a newer POST waiting (live.js). Such a field keeps its value
 * (checked state, chosen options; a contenteditable its whole content) even
 * where the server renders another, while its other attributes (class,
 * disabled, aria-invalid...) follow the server; its value attribute (or a
 * textarea's text, a checkbox's checked attribute) becomes the server's, so
 * that once the field loses focus the next update that renders another
 * value applies. Any other focused element (a button, a field not typed in)
 * is morphed like the rest: its label, attributes and value.
 *
 * A field the user changed keeps its state: an input or textarea whose
 * value differs from its defaultValue (the value attribute, a textarea's
 * text), a checkbox or radio button whose checked differs from its
 * defaultChecked, a select with an option whose selected differs from its
 * defaultSelected. Unless the server changed what it renders for that field
 * (the value attribute, the text, the checked attribute, which options carry
 * selected): then the server's value wins, as it does for untouched fields.
 *
 * beforeNodeMorphed sees each field before Idiomorph syncs it and marks the
 * ones to keep; beforeAttributeUpdated then refuses Idiomorph's writes of
 * their value, checked or selected. A kept field's attribute is the same in
 * the new html, so these writes would only have put the server's value over
 * the user's (Idiomorph asks before it writes the property, and before it
 * sets or removes the attribute).
 */
export function userFields(hold = () => false) {
  const keep = new WeakMap(); // field -> the property the morph leaves alone
  return {
    beforeNodeMorphed(old, next) {
      const tag = old.localName;
      if (tag !== next.localName) return;
      if (hold(old)) {
        if (old.isContentEditable) return false;
        if (tag === 'select') for (const o of old.options) keep.set(o, 'selected');
        else {
          const check = old.type === 'checkbox' || old.type === 'radio';
          const [p, d] = check ? ['checked', 'defaultChecked'] : ['value', 'defaultValue'];
          // The user's value is dirty: setting its default leaves it.
          if (old.type === next.type) old[d] = next[d];
          keep.set(old, p);
        }
        return;
      }
      if (tag === 'select') {
        const options = [...old.options];
        if (options.some((o) => o.selected !== o.defaultSelected) && chosen(old) === chosen(next)) {
          for (const o of options) keep.set(o, 'selected');
        }
      } else if (tag === 'textarea' || (tag === 'input' && old.type === next.type)) {
        const check = old.type === 'checkbox' || old.type === 'radio';
        const [p, d] = check ? ['checked', 'defaultChecked'] : ['value', 'defaultValue'];
        if (old[p] !== old[d] && old[d] === next[d]) keep.set(old, p);
      }
    },
    beforeAttributeUpdated: (name, el) => keep.get(el) !== name,
  };
}

// chosen lists the values of the options the server marked selected.
const chosen = (select) =>
  [...select.options]
    .filter((o) => o.defaultSelected)
    .map((o) => o.value)
    .join('\n');
