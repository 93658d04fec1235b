-- livesse pgnotify schema, wire version 2 (see pgnotify.EnvelopeVersion).
-- Idempotent: safe to run at every start, from every instance at once (an
-- advisory lock serializes concurrent runs). Needs PostgreSQL 13 or later.
-- __CHANNEL__ is replaced by the quoted channel name. It holds no secret:
-- pgnotify.Setup (or SetupKey) stores the signing key in lt_keys.
SELECT pg_advisory_xact_lock(7410355001);

-- Version 1 stored plain JSON envelopes (jsonb) under a bigint id; its rows
-- are of no use to version 2 (which refuses unauthenticated messages) and
-- live minutes at most, so the table is made anew.
DO $do$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
             WHERE attrelid = pg_catalog.to_regclass(pg_catalog.format('%I.lt_messages', pg_catalog.current_schema()))
               AND attname = 'payload' AND atttypid = 'jsonb'::pg_catalog.regtype) THEN
    DROP TABLE lt_messages;
  END IF;
END
$do$;

-- Messages too large for a notification (8000 bytes): the payload, sealed
-- or signed, as it would have been notified, under the SHA-256 of its
-- bytes; the (authenticated) notification names that digest. A row lives
-- two minutes (pgnotify.MessageWindow: its notification is refused after
-- that), or until the one instance it is for has read it. Instances read,
-- insert and delete rows; nobody else may touch them.
CREATE TABLE IF NOT EXISTS lt_messages (
  id         bytea PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  payload    text NOT NULL
);
CREATE INDEX IF NOT EXISTS lt_messages_created_at ON lt_messages (created_at);
REVOKE ALL ON lt_messages FROM PUBLIC;

-- The key lt_notify signs with, per channel: the HMAC-SHA256 key blocks
-- (key XOR ipad, key XOR opad) of a subkey derived from the app's secret,
-- and its id. Whoever can read this table can sign server actions (not
-- instance messages, which use another key): only its owner can.
CREATE TABLE IF NOT EXISTS lt_keys (
  channel    text PRIMARY KEY,
  kid        text NOT NULL CHECK (kid ~ '^[0-9a-f]{8}$'),
  ipad       bytea NOT NULL CHECK (octet_length(ipad) = 64),
  opad       bytea NOT NULL CHECK (octet_length(opad) = 64),
  updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON lt_keys FROM PUBLIC;

-- Version 1 let anyone send any envelope; version 2 has no such function.
DROP FUNCTION IF EXISTS lt_send(text, jsonb);

-- lt_notify runs an action on live pages of every instance, from SQL:
--   target_kind 'all' (every tab; target unused), 'user' (a user id from
--   the app's authenticator) or 'group' (a session group id);
--   data: the action's data, a JSON object (or NULL);
--   page: the lt Handler's name; '' for every page that has the action.
-- SELECT lt_notify('refresh', 'all');
-- SELECT lt_notify('order_added', 'user', '42', jsonb_build_object('id', 7));
-- It runs as its owner (SECURITY DEFINER), who can read lt_keys, and signs
-- the message; only the roles granted EXECUTE (and the owner) may call it:
--   GRANT EXECUTE ON FUNCTION lt_notify(text, text, text, jsonb, text) TO reporter;
-- Like NOTIFY, the message is sent when the transaction commits, which
-- must be within two minutes of the call.
CREATE OR REPLACE FUNCTION lt_notify(action text, target_kind text, target text DEFAULT '',
                                     data jsonb DEFAULT NULL, page text DEFAULT '') RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $fn$
DECLARE
  ch      constant text := __CHANNEL__;
  k       record;
  body    text;
  rest    text;
  payload text;
  digest  bytea;
BEGIN
  IF target_kind IS NULL OR target_kind NOT IN ('all', 'user', 'group') THEN
    RAISE EXCEPTION 'lt_notify: target_kind must be all, user or group, not %', target_kind
      USING ERRCODE = '22023';
  END IF;
  IF target_kind <> 'all' AND coalesce(target, '') = '' THEN
    RAISE EXCEPTION 'lt_notify: target_kind % needs a target', target_kind USING ERRCODE = '22023';
  END IF;
  IF coalesce(action, '') = '' OR octet_length(action) > 128 OR octet_length(coalesce(page, '')) > 128
     OR octet_length(coalesce(target, '')) > 512 THEN
    RAISE EXCEPTION 'lt_notify: action must be 1 to 128 bytes, page at most 128, target at most 512'
      USING ERRCODE = '22023';
  END IF;
  IF data IS NOT NULL AND pg_catalog.jsonb_typeof(data) <> 'object' THEN
    RAISE EXCEPTION 'lt_notify: data must be a JSON object, not %', pg_catalog.jsonb_typeof(data)
      USING ERRCODE = '22023';
  END IF;
  SELECT lt_keys.kid, lt_keys.ipad, lt_keys.opad INTO k FROM lt_keys WHERE lt_keys.channel = ch;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'lt_notify: no signing key for channel %', ch
      USING ERRCODE = '55000', HINT = 'Run pgnotify.Setup (or pgnotify.SetupKey) with pgnotify.WithSecret.';
  END IF;
  body := (pg_catalog.jsonb_build_object('v', 2, 'p', coalesce(page, ''), 'k', target_kind,
    't', coalesce(target, ''), 'a', action)
    || CASE WHEN data IS NULL THEN '{}'::jsonb ELSE pg_catalog.jsonb_build_object('d', data) END)::text;
  -- The payload: '2s', the key id, HMAC-SHA256(key, channel LF '2s' kid
  -- rest) in hex, then rest: the time (µs, 16 hex digits), a random nonce
  -- (32 hex digits) and the JSON.
  FOR i IN 1..2 LOOP
    rest := pg_catalog.lpad(pg_catalog.to_hex((pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000000)::bigint), 16, '0')
      || pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', '') || body;
    payload := '2s' || k.kid || pg_catalog.encode(pg_catalog.sha256(k.opad || pg_catalog.sha256(k.ipad
      || pg_catalog.convert_to(ch || E'\n2s' || k.kid || rest, 'UTF8'))), 'hex') || rest;
    EXIT WHEN pg_catalog.octet_length(payload) < 8000;
    -- Too large for a notification: store it, and sign a reference to it.
    digest := pg_catalog.sha256(pg_catalog.convert_to(payload, 'UTF8'));
    DELETE FROM lt_messages WHERE created_at < pg_catalog.clock_timestamp() - interval '2 minutes';
    INSERT INTO lt_messages (id, payload) VALUES (digest, payload);
    body := '{"v": 2, "r": "' || pg_catalog.encode(digest, 'hex') || '"}';
  END LOOP;
  PERFORM pg_catalog.pg_notify(ch, payload);
END
$fn$;

-- A definer function must not find the caller's objects: it sees this
-- schema, then pg_temp (last, so a temporary table named lt_keys cannot
-- stand in for the real one), and pg_catalog.
DO $do$
BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION %I.lt_notify(text, text, text, jsonb, text) SET search_path = %I, pg_temp',
    pg_catalog.current_schema(), pg_catalog.current_schema());
END
$do$;
REVOKE ALL ON FUNCTION lt_notify(text, text, text, jsonb, text) FROM PUBLIC;
