// The morph (morph.js) on a real DOM (jsdom): which nodes it keeps, moves,
// adds and removes, and what it leaves alone. Nodes are marked with a
// property (n.mark) that only the very same node keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';
import { morph } from '../src/morph.js';
import { hooks } from '../src/hooks.js';

// page returns the <body> of a new document showing html.
const page = (html, opts) => new JSDOM('<!DOCTYPE html><body>' + html, opts).window.document.body;

// marks marks every element of body that has an id with it, and returns
// a function telling which elements with an id are still marked with it.
function marks(body) {
  for (const el of body.querySelectorAll('[id]')) el.mark = el.id;
  return () => [...body.querySelectorAll('[id]')].filter((el) => el.mark === el.id).map((el) => el.id);
}

// watch records the nodes added to and removed from body's subtree; moves
// are a removal and an addition of one node.
function watch(body) {
  const win = body.ownerDocument.defaultView;
  const mo = new win.MutationObserver(() => {});
  mo.observe(body, { childList: true, subtree: true });
  return () => {
    const recs = mo.takeRecords();
    const names = (k) => recs.flatMap((r) => [...r[k]]).map((n) => n.id || n.nodeName);
    return { added: names('addedNodes'), removed: names('removedNodes') };
  };
}

test('text, comments and attributes follow the new HTML; the nodes are the same', () => {
  const body = page('<p id="p" class="a" title="t">one<!--c1--><b>bold</b></p>');
  const p = body.firstChild;
  const [text, comment, b] = p.childNodes;
  const changes = watch(body);
  morph(body, '<p id="p" class="b" lang="fr">two<!--c2--><b>bolder</b></p>');
  assert.equal(body.innerHTML, '<p id="p" class="b" lang="fr">two<!--c2--><b>bolder</b></p>');
  assert.equal(body.firstChild, p);
  assert.deepEqual([...p.childNodes], [text, comment, b]);
  assert.deepEqual(changes(), { added: [], removed: [] }); // no node added or removed
  // Nodes come and go at the end, and in the middle.
  morph(body, '<p id="p">two<!--c2--><b>bolder</b><i>new</i></p>tail');
  assert.equal(body.innerHTML, '<p id="p">two<!--c2--><b>bolder</b><i>new</i></p>tail');
  morph(body, '<p id="p">two<i>new</i></p>');
  assert.equal(body.innerHTML, '<p id="p">two<i>new</i></p>');
  assert.equal(body.firstChild.firstChild, text);
  morph(body, '');
  assert.equal(body.innerHTML, '');
});

test('keyed elements (id, then data-key) keep their nodes through moves, inserts and removals, moving the fewest', () => {
  const items = (ids) => '<ul>' + ids.map((i) => `<li id="i${i}">item ${i}</li>`).join('') + '</ul>';
  const body = page(items([1, 2, 3, 4, 5]));
  const kept = marks(body);
  const changes = watch(body);
  morph(body, items([4, 1, 2, 3, 5]));
  assert.deepEqual(kept(), ['i4', 'i1', 'i2', 'i3', 'i5']);
  assert.deepEqual(changes(), { added: ['i4'], removed: ['i4'] }); // one move
  morph(body, items([1, 2, 3, 5, 4])); // back down: one move
  assert.deepEqual(changes(), { added: ['i4'], removed: ['i4'] });
  morph(body, items([5, 4, 3, 2, 1])); // 5 and 4 keep their order: the others move
  assert.deepEqual(kept(), ['i5', 'i4', 'i3', 'i2', 'i1']);
  assert.deepEqual(changes().added.sort(), ['i1', 'i2', 'i3']);
  morph(body, items([5, 6, 3, 1]));
  assert.deepEqual(kept(), ['i5', 'i3', 'i1']);
  assert.deepEqual(changes(), { added: ['i6'], removed: ['i4', 'i2'] });
  assert.equal(body.querySelector('ul').textContent, 'item 5item 6item 3item 1');

  // data-key, when there is no id.
  const rows = (keys) => '<table><tbody>' + keys.map((k) => `<tr data-key="${k}"><td>${k}</td></tr>`).join('') + '</tbody></table>';
  const t = page(rows(['a', 'b', 'c']));
  const [a, b, c] = t.querySelectorAll('tr');
  morph(t, rows(['c', 'a', 'b', 'd']));
  const now = [...t.querySelectorAll('tr')];
  assert.deepEqual(now.slice(0, 3), [c, a, b]);
  assert.equal(now[3].dataset.key, 'd');
});

test('a moved item keeps what is in it: a focused field keeps focus, value, caret and selection; an iframe and a video stay', () => {
  const item = (i) => `<li id="i${i}"><input name="f${i}" value="v${i}"><iframe src="about:blank"></iframe><video></video></li>`;
  const list = (ids) => '<ul>' + ids.map(item).join('') + '</ul>';
  const body = page(list([1, 2, 3]));
  const doc = body.ownerDocument;
  const f3 = body.querySelector('[name=f3]');
  const [frame, video] = [body.querySelector('#i3 iframe'), body.querySelector('#i3 video')];
  f3.focus();
  f3.value = 'typing';
  f3.setSelectionRange(1, 3, 'backward');
  morph(body, list([3, 1, 2]), (el) => el === f3); // i3 moves: a browser without moveBefore blurs it
  assert.equal(body.querySelector('li').id, 'i3');
  assert.equal(doc.activeElement, f3);
  assert.deepEqual([f3.value, f3.selectionStart, f3.selectionEnd, f3.selectionDirection], ['typing', 1, 3, 'backward']);
  assert.equal(body.querySelector('#i3 iframe'), frame);
  assert.equal(body.querySelector('#i3 video'), video);

  // Where the browser has moveBefore (it keeps focus, iframes, playing
  // videos), moves use it.
  const moved = [];
  const proto = doc.defaultView.Element.prototype;
  proto.moveBefore = function (node, ref) {
    moved.push(node.id);
    this.insertBefore(node, ref);
  };
  try {
    morph(body, list([1, 2, 4, 3]), (el) => el === f3);
  } finally {
    delete proto.moveBefore;
  }
  assert.deepEqual(moved, ['i3']); // i4 is new: inserted
  assert.equal(doc.activeElement, f3);
  assert.deepEqual([...body.querySelectorAll('li')].map((li) => li.id), ['i1', 'i2', 'i4', 'i3']);
});

test('unkeyed nodes match by name, in order; an element whose tag changes is new', () => {
  const body = page('<h1>title</h1><p>a</p><p>b</p><div>d</div>');
  const [h1, pa, pb, div] = body.children;
  morph(body, '<h1>title</h1><p>a2</p><section>s</section><div>d2</div>');
  assert.deepEqual([...body.children].map((e) => e.outerHTML), ['<h1>title</h1>', '<p>a2</p>', '<section>s</section>', '<div>d2</div>']);
  assert.equal(body.children[0], h1);
  assert.equal(body.children[1], pa);
  assert.ok(!body.contains(pb)); // removed; the section is new
  assert.equal(body.children[3], div);
});

test('an element that comes or goes between unkeyed ones leaves them the same nodes', () => {
  // An error message shown above a form, and gone again: the form, its
  // field and what is typed in it stay (no ids anywhere).
  const form = '\n  <form method="post">\n    <input name="q">\n  </form>\n  <p>footer</p>\n';
  const body = page('<h1>t</h1>' + form);
  const [f, q, footer] = ['form', 'input', 'p'].map((s) => body.querySelector(s));
  q.value = 'typed';
  morph(body, '<h1>t</h1>\n  <p class="error">bad</p>' + form);
  assert.deepEqual(['form', 'input', 'p:last-child'].map((s) => body.querySelector(s)), [f, q, footer]);
  assert.equal(body.querySelector('p.error').textContent, 'bad');
  morph(body, '<h1>t</h1>' + form);
  assert.deepEqual(['form', 'input', 'p'].map((s) => body.querySelector(s)), [f, q, footer]);
  assert.equal(body.innerHTML, '<h1>t</h1>' + form);
  assert.equal(q.value, 'typed');
  // Unkeyed items are matched by position: one added at the top takes the
  // place of the first, and so on.
  const list = page('<p>1</p><p>2</p>');
  const [p1, p2] = list.children;
  morph(list, '<p>0</p><p>1</p><p>2</p>');
  assert.deepEqual([list.children[0], list.children[1]], [p1, p2]);
  assert.equal(list.textContent, '012');
});

test('an element with a new id is new; an old one whose id is gone is removed, not reused', () => {
  const body = page('<p id="empty">Nothing</p><p>footer</p>');
  const [empty, footer] = body.children;
  morph(body, '<p id="error">Bad</p><p>footer</p>');
  assert.equal(body.innerHTML, '<p id="error">Bad</p><p>footer</p>');
  assert.notEqual(body.children[0], empty);
  assert.equal(body.children[1], footer);
  // The same id on another tag is another element.
  const err = body.children[0];
  morph(body, '<div id="error">Bad</div><p>footer</p>');
  assert.notEqual(body.children[0], err);
  // Ids are matched among siblings only: an element that moves into a
  // new wrapper is a new element.
  const a = page('<input id="x">');
  const x = a.firstChild;
  morph(a, '<div class="invalid"><input id="x"></div>');
  assert.notEqual(a.querySelector('#x'), x);
});

test('data-lt-ignore: the element, its attributes and everything in it stay as they are', () => {
  const body = page('<div id="map" data-lt-ignore class="a"><canvas></canvas></div><p>1</p>');
  const map = body.firstChild;
  map.querySelector('canvas').setAttribute('width', '500'); // a script's
  map.append(body.ownerDocument.createElement('span'));
  const before = map.outerHTML;
  morph(body, '<div id="map" data-lt-ignore class="b">loading</div><p>2</p>');
  assert.equal(body.firstChild, map);
  assert.equal(map.outerHTML, before);
  assert.equal(body.lastChild.textContent, '2');
  // Gone from the page: removed.
  morph(body, '<p>3</p>');
  assert.equal(body.innerHTML, '<p>3</p>');
  // A new one is put in as rendered.
  morph(body, '<p>3</p><div data-lt-ignore>x</div>');
  assert.equal(body.innerHTML, '<p>3</p><div data-lt-ignore="">x</div>');
});

test('busy marks stay on an element whose action is pending, and go with the mark', () => {
  const body = page('<button name="save" aria-busy="true" data-lt-busy class="a">Save</button><form aria-busy="true"></form>');
  const [button, form] = body.children;
  morph(body, '<button name="save" class="b">Saved</button><form></form>');
  assert.deepEqual([button.getAttribute('aria-busy'), button.hasAttribute('data-lt-busy'), button.className], ['true', true, 'b']);
  assert.equal(button.textContent, 'Saved');
  assert.equal(form.hasAttribute('aria-busy'), false); // not busy: the server's
  button.removeAttribute('data-lt-busy');
  morph(body, '<button name="save" aria-busy="false">Saved</button><form></form>');
  assert.equal(button.getAttribute('aria-busy'), 'false');
});

test('a <template> has its content morphed, or copied when new', () => {
  const body = page('<template id="row"><li class="a">one</li></template>');
  const li = body.firstChild.content.firstChild;
  morph(body, '<template id="row"><li class="b">two</li></template><template id="new"><b>x</b></template>');
  assert.equal(body.firstChild.content.firstChild, li);
  assert.equal(li.outerHTML, '<li class="b">two</li>');
  assert.equal(body.lastChild.content.firstChild.outerHTML, '<b>x</b>');
  assert.equal(body.lastChild.childNodes.length, 0);
});

test('SVG: new elements are created in their namespace, attributes keep theirs', () => {
  const SVG = 'http://www.w3.org/2000/svg';
  const XLINK = 'http://www.w3.org/1999/xlink';
  const body = page('<svg id="chart" viewBox="0 0 10 10"><circle r="1"></circle></svg>');
  const [svg, circle] = [body.firstChild, body.querySelector('circle')];
  morph(body, '<svg id="chart" viewBox="0 0 20 20"><circle r="2"></circle><use xlink:href="#c"></use><foreignObject><p>html</p></foreignObject></svg><math><mi>x</mi></math>');
  assert.equal(body.firstChild, svg);
  assert.equal(body.querySelector('circle'), circle);
  assert.deepEqual([svg.getAttribute('viewBox'), circle.getAttribute('r')], ['0 0 20 20', '2']);
  const use = svg.querySelector('use');
  assert.deepEqual([use.namespaceURI, use.getAttributeNS(XLINK, 'href')], [SVG, '#c']);
  assert.equal(svg.querySelector('foreignObject').namespaceURI, SVG);
  assert.equal(svg.querySelector('p').namespaceURI, 'http://www.w3.org/1999/xhtml');
  assert.equal(body.querySelector('mi').namespaceURI, 'http://www.w3.org/1998/Math/MathML');
  // Namespaced attributes change and go.
  morph(body, '<svg id="chart"><use xlink:href="#d"></use></svg>');
  assert.equal(svg.querySelector('use').getAttributeNS(XLINK, 'href'), '#d');
  assert.equal(svg.hasAttribute('viewBox'), false);
  morph(body, '<svg id="chart"><use></use></svg>');
  assert.equal(svg.querySelector('use').attributes.length, 0);
  // Names setAttribute would refuse (a framework's).
  morph(body, '<div @click="go" :class="c"></div>');
  assert.equal(body.firstChild.getAttribute('@click'), 'go');
});

test('scripts a morph inserts do not run', () => {
  // A document that runs scripts: one a script adds runs.
  const body = page('<p></p>', { runScripts: 'dangerously' });
  const win = body.ownerDocument.defaultView;
  const s = body.ownerDocument.createElement('script');
  s.textContent = 'window.ran = (window.ran || 0) + 1';
  body.append(s);
  assert.equal(win.ran, 1);
  morph(body, '<p></p><script>window.ran = 100</script><div><script>window.ran = 200</script></div>');
  assert.equal(body.querySelectorAll('script').length, 2);
  assert.equal(win.ran, 1);
  // Nor does a script whose text changes.
  morph(body, '<p></p><script>window.ran = 300</script><div><script>window.ran = 400</script></div>');
  assert.equal(win.ran, 1);
});

test('content may be parsed nodes: the morph copies from them, and leaves them as they are', () => {
  const body = page('<p id="a">1</p>');
  const p = body.firstChild;
  const src = page('<p id="a" class="x">2</p><ul><li>new</li></ul>');
  const before = src.innerHTML;
  morph(body, src);
  assert.equal(body.innerHTML, before);
  assert.equal(src.innerHTML, before);
  assert.equal(body.firstChild, p);
  assert.notEqual(body.querySelector('ul'), src.querySelector('ul'));
});

test('hooks mount, update and destroy with the elements the morph adds, keeps and removes', () => {
  const body = page('<div id="a" data-lt-hook="chart"></div>');
  const log = [];
  const h = hooks(body.ownerDocument, () => {});
  h.define('chart', {
    mounted() {
      log.push('mounted ' + this.el.id);
    },
    updated() {
      log.push('updated ' + this.el.id);
    },
    destroyed() {
      log.push('destroyed ' + this.el.id);
    },
  });
  const update = (html) => {
    morph(body, html);
    h.sync();
  };
  update('<p>x</p><div id="a" data-lt-hook="chart" class="moved"></div><div id="b" data-lt-hook="chart"></div>');
  update('<div id="b" data-lt-hook="chart"></div>');
  assert.deepEqual(log, ['mounted a', 'updated a', 'mounted b', 'destroyed a', 'updated b']);
});
