// The in-order gate: what to do with each message the server sends.

/** Most diffs held while waiting for the ones before them. */
export const MAX_PENDING = 64;

/**
 * kind tells what a message carries: 'r' (a full tree of the page), 'd' (a
 * diff against the tree of the seq before), 'h' (the live region's html, a
 * fallback) or null (nothing to apply).
 */
export function kind(msg) {
  if (typeof msg.h === 'string') return 'h';
  if (msg.r != null) return 'r';
  if (msg.d != null) return 'd';
  return null;
}

/**
 * gate decides what becomes of msg ({c: conn, s: seq, o: replaced conn, and
 * r, d or h}) given state ({conn, seq, tree}; tree is null when the client
 * has none). reset is true for an SSE `render` event. It returns
 *
 *   'apply'  apply msg now,
 *   'hold'   keep msg until the diffs before it have been applied,
 *   'resync' msg is a diff the client cannot apply (it has no tree): drop
 *            msg and get a fresh render,
 *   null     ignore msg.
 *
 * One stream may carry the messages of several tabs: a message is ours
 * when its c is our connection. A reset of ours always applies and adopts
 * the server's seq (after a server restart it starts over); so does a reset
 * whose o names our connection: the server replaced it (it expired, the
 * server restarted, or it belongs to another session) by the one in c,
 * which we adopt. Anything else must be ours and newer than what the page
 * shows; the same message may arrive twice (POST response and stream) or
 * out of order. A tree or html applies over any older state; a diff only on
 * top of the seq right before it. A message that carries nothing changes
 * nothing, so it does not advance seq either: adopting its seq could make
 * us drop the real update when it arrives.
 */
export function gate(state, msg, reset) {
  if (!msg || typeof msg !== 'object' || typeof msg.s !== 'number') return null;
  const k = kind(msg);
  if (reset) {
    const ours = typeof msg.c === 'string' && (msg.c === state.conn || msg.o === state.conn);
    return ours && k && k !== 'd' ? 'apply' : null;
  }
  if (!k || msg.c !== state.conn || msg.s <= state.seq) return null;
  if (k !== 'd') return 'apply';
  if (msg.s > state.seq + 1) return 'hold';
  return state.tree ? 'apply' : 'resync';
}
