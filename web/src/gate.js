// The in-order gate: which messages may be applied to the page.

/**
 * gate decides whether msg ({c: conn id, s: seq, h: body html}) is applied
 * on top of state ({conn, seq}). It returns the state after applying it, or
 * null when msg must be ignored.
 *
 * A reset (an SSE `render`) always applies and adopts the server's conn and
 * seq: after a server restart both may start over. Anything else applies only
 * if it belongs to our connection and is newer than what the page shows; the
 * same update may arrive twice (POST response and stream) or out of order.
 * A message without html changes nothing, so it does not advance seq either:
 * adopting its seq could make us drop the real update when it arrives.
 */
export function gate(state, msg, reset) {
  if (!msg || typeof msg.s !== 'number' || typeof msg.h !== 'string') return null;
  if (reset) return typeof msg.c === 'string' ? { conn: msg.c, seq: msg.s } : null;
  return msg.c === state.conn && msg.s > state.seq ? { conn: state.conn, seq: msg.s } : null;
}
