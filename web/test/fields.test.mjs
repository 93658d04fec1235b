// The form side of a morph (fields.js, through morph.js) on a real DOM
// (jsdom): which fields keep what the user entered. A value set by a script
// here is what the user typed: like typing, it makes the field dirty, so
// its value no longer follows its value attribute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';
import { morph } from '../src/morph.js';

// page returns the <body> of a new document showing html.
const page = (html) => new JSDOM('<!DOCTYPE html><body>' + html).window.document.body;

// field returns the first field of a page showing html, as the user then
// changed it (user sets value or checked), and again(html, hold) morphs the
// page into html, returning the field.
function field(html, user = {}) {
  const body = page(html);
  const el = body.querySelector('input, textarea, select');
  Object.assign(el, user);
  const again = (next, hold) => {
    morph(body, next, hold);
    assert.equal(body.querySelector('input, textarea, select'), el, 'the same field');
    return el;
  };
  return { el, body, again };
}

test('a value the user typed stays through a morph that renders the same value', () => {
  // Typed (or autofilled) before the stream connected: its first render is
  // a morph that renders the field as the GET did.
  assert.equal(field('<input value="a">', { value: 'typed' }).again('<input value="a">').value, 'typed');
  // No value attribute.
  assert.equal(field('<input>', { value: 'typed' }).again('<input>').value, 'typed');
  assert.equal(field('<input type="email">', { value: 'a@b.c' }).again('<input type="email">').value, 'a@b.c');
  // Around it, the page changes.
  const f = field('<p>1</p><input name="q">', { value: 'typed' });
  f.again('<p>2</p><input name="q">');
  assert.equal(f.body.querySelector('p').textContent, '2');
  assert.equal(f.el.value, 'typed');
});

test('the server wins when it renders another value for the field', () => {
  assert.equal(field('<input value="a">', { value: 'typed' }).again('<input value="b">').value, 'b');
  assert.equal(field('<input value="a">', { value: 'typed' }).again('<input>').value, '');
  assert.equal(field('<input>', { value: 'typed' }).again('<input value="new">').value, 'new');
  // What the server rendered is then the field's: later morphs keep it,
  // and what the user types into it next.
  const f = field('<input value="a">', { value: 'typed' });
  f.again('<input value="b">');
  f.el.value = 'again';
  assert.equal(f.again('<input value="b">').value, 'again');
});

test('untouched fields follow the server', () => {
  assert.equal(field('<input value="a">').again('<input value="b">').value, 'b');
  assert.equal(field('<input value="a">').again('<input>').value, '');
  // Typed back to what was rendered: nothing to keep.
  assert.equal(field('<input value="a">', { value: 'a' }).again('<input value="b">').value, 'b');
  assert.equal(field('<input type="hidden" value="x">').again('<input type="hidden" value="y">').value, 'y');
});

test('checkboxes and radio buttons keep the checked state the user gave them', () => {
  const box = (html, user, next) => field(html, user).again(next).checked;
  assert.equal(box('<input type="checkbox">', { checked: true }, '<input type="checkbox">'), true);
  assert.equal(box('<input type="checkbox" checked>', { checked: false }, '<input type="checkbox" checked>'), false);
  // Its value attribute is no user input: it follows the server.
  const f = field('<input type="checkbox">', { checked: true });
  f.again('<input type="checkbox" value="yes">');
  assert.deepEqual([f.el.checked, f.el.value], [true, 'yes']);
  // Untouched, or the server checks or unchecks it: the server's state.
  assert.equal(box('<input type="checkbox">', {}, '<input type="checkbox" checked>'), true);
  assert.equal(box('<input type="checkbox" checked>', {}, '<input type="checkbox">'), false);
  assert.equal(box('<input type="checkbox">', { checked: true }, '<input type="checkbox" checked>'), true);
  assert.equal(box('<input type="checkbox" checked>', { checked: false }, '<input type="checkbox">'), false);
  // Both radio buttons of a group the user switched keep their state.
  const radios = '<input type="radio" name="r" value="a" checked><input type="radio" name="r" value="b">';
  const body = page(radios);
  const [a, b] = body.querySelectorAll('input');
  b.checked = true;
  morph(body, radios);
  assert.deepEqual([a.checked, b.checked], [false, true]);
  // The server checks another one: its choice applies.
  morph(body, radios.replace(' checked', '').replace('"b">', '"b" checked>'));
  assert.deepEqual([a.checked, b.checked], [false, true]);
  morph(body, radios);
  assert.deepEqual([a.checked, b.checked], [true, false]);
});

test('a textarea keeps its text unless the server changed it', () => {
  assert.equal(field('<textarea></textarea>', { value: 'typed' }).again('<textarea></textarea>').value, 'typed');
  assert.equal(field('<textarea>old</textarea>', { value: 'typed' }).again('<textarea>new</textarea>').value, 'new');
  const f = field('<textarea>same</textarea>');
  assert.deepEqual([f.again('<textarea>same</textarea>').value, f.again('<textarea>other</textarea>').value], ['same', 'other']);
});

test('a select keeps the options the user chose unless the server chose others', () => {
  const sel = (marked) =>
    '<select>' + ['a', 'b', 'c'].map((v) => `<option${v === marked ? ' selected' : ''}>${v}</option>`).join('') + '</select>';
  // The user picked b; the server still renders a selected.
  let f = field(sel('a'));
  f.el.options[1].selected = true;
  assert.equal(f.again(sel('a')).value, 'b');
  // The user picked b where nothing was marked selected (a showed).
  f = field(sel(''));
  f.el.value = 'b';
  assert.equal(f.again(sel('')).value, 'b');
  // The server marks c selected: its choice applies.
  f = field(sel('a'));
  f.el.value = 'b';
  assert.equal(f.again(sel('c')).value, 'c');
  // Untouched: the server's choice, also back to none marked.
  f = field(sel('a'));
  assert.deepEqual([f.again(sel('b')).value, f.again(sel('')).value], ['b', 'a']);
  // A multiple select.
  const multi = (marks) =>
    '<select multiple>' + ['a', 'b', 'c'].map((v) => `<option${marks.includes(v) ? ' selected' : ''}>${v}</option>`).join('') + '</select>';
  f = field(multi('a'));
  f.el.options[2].selected = true;
  const chosen = () => [...f.el.selectedOptions].map((o) => o.value).join('');
  f.again(multi('a'));
  assert.equal(chosen(), 'ac');
  f.again(multi('b'));
  assert.equal(chosen(), 'b');
  // The options themselves follow the server.
  f.again('<select><option>a</option><option>d</option></select>');
  assert.deepEqual([...f.el.options].map((o) => o.value), ['a', 'd']);
});

test('only the same kind of field keeps its value', () => {
  // An input that becomes another type: the server's.
  assert.equal(field('<input>', { value: '5' }).again('<input type="number">').value, '');
  // Another element: a new one.
  const body = page('<input>');
  body.firstChild.value = 'x';
  morph(body, '<textarea></textarea>');
  assert.equal(body.firstChild.localName, 'textarea');
  assert.equal(body.firstChild.value, '');
  // A file input is never written to.
  const file = field('<input type="file" class="a">');
  assert.equal(file.again('<input type="file" class="b">').className, 'b');
});

test('the field being typed in keeps its value, caret and selection, whatever the server renders', () => {
  // Focused and edited: the user's value stays, its value attribute and
  // other attributes are the server's.
  const f = field('<input value="a" class="x">', { value: 'typing' });
  f.el.focus();
  f.el.setSelectionRange(2, 4);
  const hold = (el) => el === f.el;
  f.again('<input value="b" class="bad" aria-invalid="true" disabled>', hold);
  assert.deepEqual([f.el.value, f.el.defaultValue, f.el.className, f.el.getAttribute('aria-invalid')], ['typing', 'b', 'bad', 'true']);
  assert.deepEqual([f.el.selectionStart, f.el.selectionEnd], [2, 4]);
  assert.equal(f.el.ownerDocument.activeElement, f.el);
  f.again('<input value="b">', hold);
  assert.equal(f.el.disabled, false);
  // Let go (blurred): the next update that renders another value applies.
  assert.equal(f.again('<input value="c">').value, 'c');
  // A checkbox keeps its checked state; a select its options'.
  const box = field('<input type="checkbox">', { checked: true });
  box.again('<input type="checkbox" checked>', (el) => el === box.el);
  assert.deepEqual([box.el.checked, box.el.defaultChecked], [true, true]);
  const sel = field('<select><option selected>a</option><option>b</option><option>c</option></select>');
  sel.el.value = 'b';
  sel.again('<select><option>a</option><option>b</option><option selected>c</option></select>', (el) => el === sel.el);
  assert.equal(sel.el.value, 'b');
  assert.equal(sel.el.options[2].defaultSelected, true);
  // A contenteditable is left whole.
  const body = page('<div contenteditable="true">my <b>text</b></div>');
  const div = body.firstChild;
  div.isContentEditable = true; // jsdom has no editing
  morph(body, '<div contenteditable="true" class="x">server</div>', (el) => el === div);
  assert.equal(body.innerHTML, '<div contenteditable="true">my <b>text</b></div>');
});

test('another field is not held back by the focus of one', () => {
  const body = page('<input id="typing"><input id="other" value="a">');
  const [typing, other] = body.querySelectorAll('input');
  typing.value = 'x';
  other.value = 'b';
  morph(body, '<input id="typing" value="s"><input id="other" value="c">', (el) => el === typing);
  assert.deepEqual([typing.value, other.value], ['x', 'c']);
});
