#!/bin/sh
# t/demo.sh: a capture against the bundled SQL Server simulator, as the
# README's first command shows it.  Starts mssqlsim on a free port with
# a fresh data directory, creates database "shop" with Change Tracking
# and a table dbo.orders, runs "mssql-capture check", captures it with
# "mssql-capture run --once" into a JSON-lines file and a SQLite
# replica, changes a few rows, captures again (only the changes come),
# shows "mssql-capture status" and the replica, and stops the simulator.
#
#   t/demo.sh [BUILDDIR]     (default: the directory above this script)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
sim=$build/t/mssqlsim/mssqlsim
capture=$build/mssql-capture
work=$(mktemp -d "${TMPDIR:-/tmp}/mssql-capture-demo.XXXXXX")
pw='Demo_pass1!'
sim_pid=

cleanup()
{
	[ -z "$sim_pid" ] || { kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null || :; }
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for f in "$sim" "$capture"; do
	[ -x "$f" ] || { echo "demo: $f is not built (run make)" >&2; exit 1; }
done

# The simulator prints "port N" once it accepts connections.
mkdir "$work/data"
timeout -k 5 300 "$sim" --listen 127.0.0.1:0 --data "$work/data" \
    --sa-password "$pw" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 50); do
	grep -q '^port ' "$work/sim.out" 2>/dev/null && break
	sleep 0.1
done
port=$(sed -n 's/^port //p' "$work/sim.out")
[ -n "$port" ] || { echo "demo: mssqlsim did not start" >&2; cat "$work/sim.err" >&2; exit 1; }

sql()
{
	printf '%s\ngo\n' "$1" | timeout 60 tsql -H 127.0.0.1 -p "$port" \
	    -U sa -P "$pw" -o q >"$work/tsql.log" 2>&1 ||
	    { cat "$work/tsql.log" >&2; exit 1; }
}

echo "demo: mssqlsim listening on 127.0.0.1:$port; creating shop.dbo.orders"
sql "CREATE DATABASE shop"
sql "ALTER DATABASE shop SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 3 DAYS, AUTO_CLEANUP = ON)
ALTER DATABASE shop SET ALLOW_SNAPSHOT_ISOLATION ON"
sql "USE shop
CREATE TABLE dbo.orders (id int PRIMARY KEY, customer nvarchar(50) NOT NULL,
    total decimal(12,2), placed datetime2(3), paid bit)
ALTER TABLE dbo.orders ENABLE CHANGE_TRACKING
INSERT INTO dbo.orders VALUES
    (1, N'Ada', 120.50, '2026-11-20 09:15:00.125', 1),
    (2, N'Grace', 99.99, '2026-11-20 10:02:30', 0),
    (3, N'Zoë', NULL, NULL, NULL)"

cat >"$work/capture.json" <<CONF
{
	"address": "127.0.0.1:$port",
	"database": "shop",
	"user": "sa",
	"password": "$pw",
	"output": { "path": "orders.jsonl" },
	"replica": { "path": "replica.db" },
	"state": { "path": "state.db" },
	"bindings": [ { "namespace": "dbo", "stream": "orders" } ]
}
CONF

echo "demo: mssql-capture check (what capture needs, with the SQL to fix a FAIL)"
"$capture" -c "$work/capture.json" check ||
    { echo "demo: check failed" >&2; exit 1; }

echo "demo: mssql-capture run --once (backfill)"
"$capture" -c "$work/capture.json" run --once 2>"$work/run1.log" ||
    { cat "$work/run1.log" >&2; exit 1; }
cat "$work/orders.jsonl"

sql "USE shop
UPDATE dbo.orders SET paid = 1, total = 101.00 WHERE id = 2
DELETE FROM dbo.orders WHERE id = 3
INSERT INTO dbo.orders VALUES (4, N'Linus', 7.25, SYSDATETIME(), 0)"

echo "demo: three changes made; mssql-capture run --once again (only the changes)"
lines=$(wc -l <"$work/orders.jsonl")
"$capture" -c "$work/capture.json" run --once 2>"$work/run2.log" ||
    { cat "$work/run2.log" >&2; exit 1; }
tail -n +"$((lines + 1))" "$work/orders.jsonl"

echo "demo: mssql-capture status"
"$capture" -c "$work/capture.json" status ||
    { echo "demo: status failed" >&2; exit 1; }

echo "demo: the SQLite replica (soft deletes kept):"
sqlite3 -header "$work/replica.db" \
    "SELECT id, customer, total, paid, _deleted FROM \"shop_dbo.orders\" ORDER BY id" ||
    sqlite3 "$work/replica.db" ".tables"
