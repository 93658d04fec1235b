// The stream side: where to connect and how long to wait before retrying.

/** Base and cap of the reconnect backoff, in milliseconds. */
export const BASE_MS = 500;
export const CAP_MS = 30000;

/**
 * streamURL returns the path + query of the page at href with the stream
 * parameters set (replacing any already present): one _lt_conn and one
 * _lt_seq per member of conns, a list of [conn, seq] pairs, so that one
 * stream carries every tab of the page that shares it. The server resumes
 * each connection after its seq; a null seq is sent empty (_lt_seq=): that
 * tab has no tree to apply diffs to, and the server starts it with a render.
 */
export function streamURL(href, conns) {
  const u = new URL(href);
  const q = u.searchParams;
  q.delete('_lt_conn');
  q.delete('_lt_seq');
  for (const [c, s] of conns) {
    q.append('_lt_conn', c);
    q.append('_lt_seq', s == null ? '' : s);
  }
  return u.pathname + u.search;
}

/**
 * backoff returns the delay before reconnect attempt number attempt (0-based):
 * exponential backoff with full jitter, uniform in [0, min(CAP, BASE*2^attempt)).
 * Full jitter spreads the reconnects of many clients after a server restart
 * instead of having them all come back in lockstep.
 */
export function backoff(attempt, random = Math.random) {
  return random() * Math.min(CAP_MS, BASE_MS * 2 ** attempt);
}
