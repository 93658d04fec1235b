-- The schema of version 1 (before messages were authenticated), for the
-- test that Setup migrates it; __CHANNEL__ as in schema.sql.
-- livesse pgnotify schema. Idempotent: safe to run at every start, from
-- every instance at once (an advisory lock serializes concurrent runs).
-- __CHANNEL__ is replaced by the quoted channel name.
SELECT pg_advisory_xact_lock(7410355001);

-- Messages too large for a notification (8000 bytes): the notification
-- carries the row's id. Rows older than ten minutes are deleted whenever
-- another large message is stored.
CREATE TABLE IF NOT EXISTS lt_messages (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  payload    jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS lt_messages_created_at ON lt_messages (created_at);

-- lt_send sends an envelope (see pgnotify.EnvelopeVersion) on a channel:
-- in the notification itself if it fits, else through lt_messages.
-- Like NOTIFY, it is delivered when the transaction commits.
CREATE OR REPLACE FUNCTION lt_send(channel text, envelope jsonb) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  body text := envelope::text;
  ref  bigint;
BEGIN
  IF octet_length(body) < 8000 THEN
    PERFORM pg_notify(channel, body);
    RETURN;
  END IF;
  DELETE FROM lt_messages WHERE created_at < now() - interval '10 minutes';
  INSERT INTO lt_messages (payload) VALUES (envelope) RETURNING id INTO ref;
  PERFORM pg_notify(channel, jsonb_strip_nulls(jsonb_build_object(
    'v', envelope->'v', 'i', envelope->'i', 'e', envelope->'e', 'r', ref))::text);
END
$fn$;

-- lt_notify runs an action on live pages of every instance, from SQL:
--   target_kind 'all' (every tab; target unused), 'user' (a user id from
--   the app's authenticator) or 'group' (a session group id);
--   data: the action's data, a JSON object (or NULL);
--   page: the lt Handler's name; '' for every page that has the action.
-- SELECT lt_notify('refresh', 'all');
-- SELECT lt_notify('order_added', 'user', '42', jsonb_build_object('id', 7));
CREATE OR REPLACE FUNCTION lt_notify(action text, target_kind text, target text DEFAULT '',
                                     data jsonb DEFAULT NULL, page text DEFAULT '') RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  envelope jsonb;
BEGIN
  IF target_kind NOT IN ('all', 'user', 'group') THEN
    RAISE EXCEPTION 'lt_notify: target_kind must be all, user or group, not %', target_kind
      USING ERRCODE = '22023';
  END IF;
  IF data IS NOT NULL AND jsonb_typeof(data) <> 'object' THEN
    RAISE EXCEPTION 'lt_notify: data must be a JSON object, not %', jsonb_typeof(data)
      USING ERRCODE = '22023';
  END IF;
  envelope := jsonb_build_object('v', 1, 'i', '@sql', 'e', true, 'p', coalesce(page, ''),
    'k', target_kind, 't', coalesce(target, ''), 'a', action);
  IF data IS NOT NULL THEN
    envelope := envelope || jsonb_build_object('d', data);
  END IF;
  PERFORM lt_send(__CHANNEL__, envelope);
END
$fn$;
