package pgnotify_test

import (
	"fmt"
	"strings"

	"github.com/livesse/livesse/pgnotify"
)

// SQL is the schema Setup applies (without the key), for a migration tool;
// it needs no database. Here the statements it creates, and lt_notify
// sending on the app's own channel. A channel that is not a plain
// lower-case identifier is refused before anything reaches PostgreSQL.
func ExampleSQL() {
	schema, err := pgnotify.SQL(pgnotify.WithChannel("orders_live"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(schema, "\n") {
		if strings.HasPrefix(line, "CREATE") || strings.Contains(line, ":= 'orders_live'") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	_, err = pgnotify.SQL(pgnotify.WithChannel("orders; DROP TABLE orders"))
	fmt.Println(err)
	// Output:
	// CREATE TABLE IF NOT EXISTS lt_messages (
	// CREATE INDEX IF NOT EXISTS lt_messages_created_at ON lt_messages (created_at);
	// CREATE TABLE IF NOT EXISTS lt_keys (
	// CREATE OR REPLACE FUNCTION lt_notify(action text, target_kind text, target text DEFAULT '',
	// ch      constant text := 'orders_live';
	// pgnotify: invalid configuration: channel "orders; DROP TABLE orders": use a lower-case identifier of at most 63 bytes
}
