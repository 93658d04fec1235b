// The stream side: where to connect and how long to wait before retrying.

/** Base and cap of the reconnect backoff, in milliseconds. */
export const BASE_MS = 500;
export const CAP_MS = 30000;

/**
 * streamURL returns the path + query of the page at href with the stream
 * parameters set (replacing any already present), so the server can resume
 * connection conn after update seq. With seq null, _lt_seq is left out: the
 * client has no tree to apply diffs to, and the server starts with a render.
 */
export function streamURL(href, conn, seq) {
  const u = new URL(href);
  u.searchParams.set('_lt_conn', conn);
  if (seq == null) u.searchParams.delete('_lt_seq');
  else u.searchParams.set('_lt_seq', String(seq));
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
