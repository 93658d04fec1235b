// userFields (fields.js): which fields a morph leaves as the user set them.
// Idiomorph asks beforeAttributeUpdated(name, field) before it writes a
// field's value, checked or selected; the fakes carry the properties a
// browser gives form fields (the live state and its default, the
// attribute).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userFields } from '../src/fields.js';

// input returns a fake <input> as the server rendered it (attrs.value,
// attrs.checked), then changed by the user as in user ({value, checked}).
function input(attrs = {}, user = {}) {
  const type = attrs.type || 'text';
  const check = type === 'checkbox' || type === 'radio';
  const defaultValue = attrs.value ?? '';
  const defaultChecked = 'checked' in attrs;
  return {
    localName: 'input',
    type,
    defaultValue,
    // A checkbox's value is its value attribute, "on" without one.
    value: check ? (attrs.value ?? 'on') : (user.value ?? defaultValue),
    defaultChecked,
    checked: user.checked ?? defaultChecked,
  };
}

function textarea(text, typed) {
  return { localName: 'textarea', type: 'textarea', defaultValue: text, value: typed ?? text };
}

// select returns a fake <select> whose options are [value, selected
// attribute, selected now].
function select(options) {
  const opts = options.map(([value, def, sel]) => ({ localName: 'option', value, defaultSelected: def, selected: sel ?? def }));
  return { localName: 'select', options: opts };
}

// morph runs the callbacks of one morph of old into next and tells, for each
// of value, checked and selected, whether Idiomorph may write it on el
// (old by default).
function morph(old, next, el = old) {
  const f = userFields();
  assert.equal(f.beforeNodeMorphed(old, next), undefined); // never skips the node
  return Object.fromEntries(['value', 'checked', 'selected'].map((n) => [n, f.beforeAttributeUpdated(n, el, 'update')]));
}

const ALL = { value: true, checked: true, selected: true };

test('a value the user typed stays through a morph that renders the same value', () => {
  // Typed (or autofilled) before the stream connected: its first render is
  // a morph that renders the field as the GET did.
  assert.deepEqual(morph(input({ value: 'a' }, { value: 'typed' }), input({ value: 'a' })), { ...ALL, value: false });
  // No value attribute: Idiomorph would empty the field.
  assert.deepEqual(morph(input({}, { value: 'typed' }), input({})), { ...ALL, value: false });
  assert.deepEqual(morph(input({ type: 'email' }, { value: 'a@b.c' }), input({ type: 'email' })), { ...ALL, value: false });
});

test('the server wins when it renders another value for the field', () => {
  assert.deepEqual(morph(input({ value: 'a' }, { value: 'typed' }), input({ value: 'b' })), ALL);
  assert.deepEqual(morph(input({ value: 'a' }, { value: 'typed' }), input({})), ALL);
  assert.deepEqual(morph(input({}, { value: 'typed' }), input({ value: 'new' })), ALL);
});

test('untouched fields follow the server', () => {
  assert.deepEqual(morph(input({ value: 'a' }), input({ value: 'a' })), ALL);
  assert.deepEqual(morph(input({ value: 'a' }), input({ value: 'b' })), ALL);
  // Typed back to what was rendered: nothing to keep.
  assert.deepEqual(morph(input({ value: 'a' }, { value: 'a' }), input({ value: 'a' })), ALL);
  assert.deepEqual(morph(input({ type: 'hidden', value: 'x' }), input({ type: 'hidden', value: 'x' })), ALL);
});

test('checkboxes and radio buttons keep the checked state the user gave them', () => {
  const box = (attrs, user) => input({ type: 'checkbox', ...attrs }, user);
  assert.deepEqual(morph(box({}, { checked: true }), box({})), { ...ALL, checked: false });
  assert.deepEqual(morph(box({ checked: '' }, { checked: false }), box({ checked: '' })), { ...ALL, checked: false });
  // Its value is no user input ("on" against a defaultValue of ""): the
  // value attribute still follows the server.
  assert.deepEqual(morph(box({}, { checked: true }), box({ value: 'yes' })), { ...ALL, checked: false });
  // Untouched, or the server checks or unchecks it: the server's state.
  assert.deepEqual(morph(box({}), box({ checked: '' })), ALL);
  assert.deepEqual(morph(box({}, { checked: true }), box({ checked: '' })), ALL);
  assert.deepEqual(morph(box({ checked: '' }, { checked: false }), box({})), ALL);
  // Both radio buttons of a group the user switched keep their state.
  const radio = (attrs, user) => input({ type: 'radio', ...attrs }, user);
  assert.deepEqual(morph(radio({ checked: '' }, { checked: false }), radio({ checked: '' })), { ...ALL, checked: false });
  assert.deepEqual(morph(radio({}, { checked: true }), radio({})), { ...ALL, checked: false });
});

test('a textarea keeps its text unless the server changed it', () => {
  assert.deepEqual(morph(textarea('', 'typed'), textarea('')), { ...ALL, value: false });
  assert.deepEqual(morph(textarea('old', 'typed'), textarea('new')), ALL);
  assert.deepEqual(morph(textarea('same'), textarea('same')), ALL);
});

test('a select keeps the options the user chose unless the server chose others', () => {
  // The user picked b; the server still renders a selected. Every option
  // keeps its state: Idiomorph would select a again.
  const picked = () => select([['a', true, false], ['b', false, true]]);
  const rendered = () => select([['a', true], ['b', false]]);
  let old = picked();
  for (const o of old.options) assert.deepEqual(morph(old, rendered(), o), { ...ALL, selected: false });
  // The user picked b where nothing was marked selected (a showed).
  old = select([['a', false, false], ['b', false, true]]);
  assert.deepEqual(morph(old, select([['a', false], ['b', false], ['c', false]]), old.options[0]), { ...ALL, selected: false });
  // The server marks b selected: its choice applies.
  old = picked();
  assert.deepEqual(morph(old, select([['a', false], ['b', true]]), old.options[0]), ALL);
  // Untouched: the server's choice.
  old = rendered();
  assert.deepEqual(morph(old, select([['a', false], ['b', true]]), old.options[1]), ALL);
  // The select element itself is not held back.
  old = picked();
  assert.deepEqual(morph(old, rendered()), ALL);
});

test('only the same kind of field keeps its value', () => {
  // An input that becomes another type, or another element: the server's.
  assert.deepEqual(morph(input({}, { value: '5' }), input({ type: 'number' })), ALL);
  assert.deepEqual(morph(input({}, { value: 'x' }), { localName: 'div' }), ALL);
  // Text and comment nodes are morphed too.
  const text = { nodeType: 3 };
  assert.deepEqual(morph(text, { nodeType: 3 }), ALL);
});

test('each morph decides afresh', () => {
  const old = input({ value: 'a' }, { value: 'typed' });
  const f = userFields();
  f.beforeNodeMorphed(old, input({ value: 'a' }));
  assert.equal(f.beforeAttributeUpdated('value', old, 'update'), false);
  assert.equal(f.beforeAttributeUpdated('value', old, 'remove'), false);
  assert.equal(f.beforeAttributeUpdated('class', old, 'update'), true);
  // The next morph renders another value: the field was not marked.
  assert.equal(userFields().beforeAttributeUpdated('value', old, 'update'), true);
});

test('the field being typed in keeps its value, whatever the server renders', () => {
  // Focused and edited: the user's value stays, the defaults become the
  // server's (the user's value is dirty: they do not change it), the
  // other attributes are the server's.
  const old = input({ value: 'a' }, { value: 'typing' });
  const f = userFields((el) => el === old);
  assert.equal(f.beforeNodeMorphed(old, input({ value: 'b' })), undefined);
  assert.equal(old.defaultValue, 'b');
  assert.equal(f.beforeAttributeUpdated('value', old, 'update'), false);
  assert.equal(f.beforeAttributeUpdated('class', old, 'update'), true);
  assert.equal(f.beforeAttributeUpdated('disabled', old, 'remove'), true);
  // A checkbox keeps its checked state; a select its options'.
  const box = input({ type: 'checkbox' }, { checked: true });
  const g = userFields((el) => el === box);
  g.beforeNodeMorphed(box, input({ type: 'checkbox', checked: '' }));
  assert.equal(g.beforeAttributeUpdated('checked', box, 'update'), false);
  assert.equal(box.defaultChecked, true);
  const sel = select([['a', true, false], ['b', false, true]]);
  const h = userFields((el) => el === sel);
  h.beforeNodeMorphed(sel, select([['a', false], ['b', false], ['c', true]]));
  for (const o of sel.options) assert.equal(h.beforeAttributeUpdated('selected', o, 'update'), false);
  // A contenteditable is left whole.
  const div = { localName: 'div', isContentEditable: true };
  assert.equal(userFields((el) => el === div).beforeNodeMorphed(div, { localName: 'div' }), false);
});

test('another field is not held back by the focus of one', () => {
  const typing = input({}, { value: 'x' });
  const other = input({ value: 'a' }, { value: 'b' });
  const f = userFields((el) => el === typing);
  f.beforeNodeMorphed(other, input({ value: 'c' }));
  assert.equal(f.beforeAttributeUpdated('value', other, 'update'), true);
  assert.equal(other.defaultValue, 'a');
});
