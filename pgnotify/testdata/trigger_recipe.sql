-- The statement-level trigger recipe of docs/multi-instance.md: one
-- notification per affected user per statement, however many rows it
-- inserts. The page's action order_added gets {"count": n}.
CREATE TABLE IF NOT EXISTS orders (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id text NOT NULL,
  amount  numeric(12,2) NOT NULL
);

CREATE OR REPLACE FUNCTION orders_notify_users() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lt_notify('order_added', 'user', n.user_id, jsonb_build_object('count', n.count))
  FROM (SELECT user_id, count(*) AS count FROM new_rows GROUP BY user_id) AS n;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER orders_notify_users
  AFTER INSERT ON orders
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION orders_notify_users();
