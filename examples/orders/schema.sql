-- The orders example's schema; idempotent (run at every start).
SELECT pg_advisory_xact_lock(7410355002);

CREATE TABLE IF NOT EXISTS orders (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer   text NOT NULL CHECK (length(customer) BETWEEN 1 AND 100),
  amount     numeric(12,2) NOT NULL CHECK (amount > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One notification per INSERT statement, however many rows it adds:
-- every dashboard, on every instance, runs its refresh action.
--
-- The trigger functions run as their owner (SECURITY DEFINER), the role
-- that ran this (and pgnotify.Setup), who may call lt_notify: so any role
-- allowed to change orders refreshes the dashboards, and needs no EXECUTE
-- on lt_notify, which would let it push any server action.
CREATE OR REPLACE FUNCTION orders_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  added bigint := (SELECT count(*) FROM new_rows);
BEGIN
  IF added > 0 THEN
    PERFORM lt_notify('refresh', 'all', '', jsonb_build_object('added', added), 'orders');
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER orders_inserted
  AFTER INSERT ON orders
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION orders_inserted();

-- Updates, deletes and truncates refresh the dashboards too.
CREATE OR REPLACE FUNCTION orders_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM lt_notify('refresh', 'all', '', NULL, 'orders');
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER orders_changed
  AFTER UPDATE OR DELETE OR TRUNCATE ON orders
  FOR EACH STATEMENT EXECUTE FUNCTION orders_changed();

-- A definer function must not find the caller's objects: these see this
-- schema, then pg_temp (last, so that a temporary table or function
-- cannot stand in for lt_notify's).
DO $do$
BEGIN
  EXECUTE format('ALTER FUNCTION %I.orders_inserted() SET search_path = %I, pg_temp', current_schema(), current_schema());
  EXECUTE format('ALTER FUNCTION %I.orders_changed() SET search_path = %I, pg_temp', current_schema(), current_schema());
END
$do$;
