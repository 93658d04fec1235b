// The tree side: statics and dynamics of a render, diffs between renders.
// A port of internal/livetree/client.go (its Go twin); a Go test runs both on
// the same messages and requires the same HTML, byte for byte.
//
// A tree is {f: id, k: key (list items only), v: [slot, ...]}; a slot is a
// string (a value) or an array of trees. Statics ({id: [static, ...]}) come
// beside trees and diffs, once per fragment id and connection; a fragment
// with n slots has n+1 of them, and renders as
// statics[0] + slot0 + statics[1] + ... + statics[n].

const fail = (msg) => {
  throw new Error(msg);
};

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// atoi parses a decimal integer as Go's strconv.Atoi does, NaN if it cannot.
const atoi = (s) => (/^[+-]?\d+$/.test(s) ? Number(s) : NaN);

// num reads a position in an op: -1 when missing, 0 when not a number.
const num = (op, i) => (i >= op.length ? -1 : typeof op[i] === 'number' ? Math.trunc(op[i]) : 0);

const str = (v) => (typeof v === 'string' ? v : '');

/**
 * learn adds statics ({"id": ["static", ...]}, as a message's S carries them)
 * to cache (a Map from id to statics). Nothing is learned when S is invalid.
 */
export function learn(cache, S) {
  if (S == null) return;
  if (!isMap(S)) fail('bad statics');
  const all = Object.entries(S);
  for (const [id, st] of all) {
    if (st !== null && !(Array.isArray(st) && st.every((s) => s === null || typeof s === 'string'))) {
      fail('bad statics ' + id);
    }
  }
  for (const [id, st] of all) cache.set(id, (st || []).map(str));
}

/** decode turns a tree as sent ({f, k, v}) into the tree the client keeps. */
export function decode(v) {
  if (!isMap(v)) fail('bad fragment');
  const slots = Array.isArray(v.v) ? v.v.map(slot) : [];
  return { id: typeof v.f === 'number' ? String(Math.trunc(v.f)) : '0', key: str(v.k), slots };
}

function slot(v) {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(decode);
  fail('bad slot');
}

/**
 * patch applies a fragment diff ({"slot index": change, ...}) to the
 * fragment f of a decoded tree, in place. It throws on a diff that does not
 * fit the tree; the tree is then half patched and must be dropped.
 */
export function patch(f, d) {
  if (!isMap(d)) fail('bad diff');
  for (const [k, ch] of Object.entries(d)) {
    const i = atoi(k);
    if (!(i >= 0 && i < f.slots.length)) fail('no slot ' + k);
    if (typeof ch === 'string' || Array.isArray(ch)) {
      f.slots[i] = slot(ch);
    } else if (isMap(ch)) {
      const frags = f.slots[i];
      if (!Array.isArray(frags)) fail('bad slot ' + k); // a compound diff on a value
      if (isMap(ch.j)) {
        for (const [pos, fd] of Object.entries(ch.j)) {
          const p = atoi(pos);
          if (!(p >= 0 && p < frags.length)) fail('no position ' + pos);
          patch(frags[p], fd);
        }
      }
      if (Array.isArray(ch.l)) f.slots[i] = ops(frags, ch.l);
    } else {
      fail('bad slot ' + k);
    }
  }
}

// ops applies keyed list operations in three passes: drop the removed items
// and take out the moved ones; put moved and new items in at their
// positions, in op order; then apply the updates by key. items is left as is.
function ops(items, list) {
  const gone = new Set();
  const moved = new Map();
  for (const op of list) {
    if (!Array.isArray(op) || op.length < 2) fail('bad list op');
    if (op[0] === 'r') gone.add(str(op[1]));
    else if (op[0] === 'm') moved.set(str(op[1]), null);
  }
  const kept = [];
  for (const it of items) {
    if (gone.has(it.key)) continue;
    if (moved.has(it.key)) moved.set(it.key, it);
    else kept.push(it);
  }
  for (const op of list) {
    let it, p;
    if (op[0] === 'm') {
      it = moved.get(str(op[1]));
      p = num(op, 2);
    } else if (op[0] === 'i') {
      if (op.length < 3) fail('bad list op');
      it = decode(op[2]);
      p = num(op, 1);
    } else continue;
    if (!it || p < 0 || p > kept.length) fail('no list position');
    kept.splice(p, 0, it);
  }
  const byKey = new Map(kept.map((it) => [it.key, it]));
  for (const op of list) {
    if (op[0] !== 'u' || op.length < 3) continue;
    const it = byKey.get(str(op[1]));
    if (!it) fail('no list item');
    patch(it, op[2]);
  }
  return kept;
}

/** render returns the HTML of the decoded tree f with the statics in cache. */
export function render(f, cache) {
  const st = cache.get(f.id);
  if (!st || st.length !== f.slots.length + 1) fail('bad statics ' + f.id); // missing, or not one more than its slots
  let out = '';
  f.slots.forEach((s, i) => {
    out += st[i];
    if (typeof s === 'string') out += s;
    else for (const c of s) out += render(c, cache);
  });
  return out + st[f.slots.length];
}

/**
 * region cuts the live region out of a rendered page as the server does:
 * the content of <body> (from after the first <body ...> tag, matched
 * case-insensitively and followed by whitespace, '>' or '/', to the last
 * </body, or to the end), or the whole page when it has no <body> tag.
 */
export function region(html) {
  // Lower-case A-Z only: a full toLowerCase may change the length.
  const low = html.replace(/[A-Z]+/g, (s) => s.toLowerCase());
  let open = -1;
  for (let i = 0; (i = low.indexOf('<body', i)) >= 0; i += 5) {
    if ('> \t\n\r\f/'.includes(low[i + 5] || 'x')) {
      open = i;
      break;
    }
  }
  const gt = open < 0 ? -1 : low.indexOf('>', open);
  if (gt < 0) return html;
  const end = low.lastIndexOf('</body');
  return html.slice(gt + 1, end > gt ? end : html.length);
}
