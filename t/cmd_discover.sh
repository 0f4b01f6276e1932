#!/bin/sh
#
# "mssql-capture discover" and "run" without bindings, against the
# simulator.  discover must list exactly the capturable tables (a
# primary key, and Change Tracking or a CDC capture instance) with the
# declared SQL Server types, the JSON types of the output, the key in
# key order (not column order) and the modes each table offers; tables
# without a key never appear (they are under "skipped" with the
# reason), and advanced.discover_tables_without_ct adds the keyed
# tables that have neither mechanism, with no modes.  "run --once" with
# no bindings must capture every table discovery lists, each worker on
# its own table (the binding ids of supervisor and workers agree), and
# with mode ct only the Change Tracking tables.  A view, even over a
# tracked table, is not a table: it is never listed, nor skipped.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$top_srcdir/t/run_lib.sh"

sim_start
sq "ALTER DATABASE $DB SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 3 DAYS, AUTO_CLEANUP = ON)
CREATE TABLE dbo.orders (id int NOT NULL PRIMARY KEY, customer nvarchar(50) NULL, total decimal(10,2) NOT NULL, placed datetime2(3) NULL, paid bit NULL, qty tinyint NULL, ref uniqueidentifier NULL, day date NULL, at time(7) NULL, zoned datetimeoffset(7) NULL, blob varbinary(max) NULL, ratio float NULL, price money NULL, code char(3) NULL, twice AS (total * 2))
ALTER TABLE dbo.orders ENABLE CHANGE_TRACKING
CREATE TABLE dbo.lines (order_id int NOT NULL, line smallint NOT NULL, sku varchar(20) NULL, CONSTRAINT pk_lines PRIMARY KEY (line, order_id))
ALTER TABLE dbo.lines ENABLE CHANGE_TRACKING
CREATE TABLE dbo.both (id bigint NOT NULL PRIMARY KEY, v int NULL)
ALTER TABLE dbo.both ENABLE CHANGE_TRACKING
CREATE TABLE dbo.plain (id int NOT NULL PRIMARY KEY, v int NULL)
CREATE TABLE dbo.heap (a int NULL, b int NULL)
CREATE SCHEMA sales
CREATE TABLE sales.cust (id int NOT NULL PRIMARY KEY, name nchar(10) NULL)
EXEC sys.sp_cdc_enable_db
EXEC sys.sp_cdc_enable_table @source_schema = N'sales', @source_name = N'cust', @role_name = NULL
EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'both', @role_name = NULL
EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'heap', @role_name = NULL, @supports_net_changes = 0
INSERT INTO dbo.orders (id, customer, total) VALUES (1, N'Ada', 10.50), (2, N'Bob', 3)
INSERT INTO dbo.lines VALUES (1, 1, 'x'), (1, 2, 'y')
INSERT INTO dbo.both VALUES (7, 70)
INSERT INTO dbo.plain VALUES (1, 1)
INSERT INTO dbo.heap VALUES (1, 1)
INSERT INTO sales.cust VALUES (1, N'c')" >"$T/setup.log"
sq "CREATE VIEW dbo.orders_v AS SELECT id, total FROM dbo.orders" \
    >>"$T/setup.log"

# Summarize discover's JSON: one line per table, then the skipped.
summary()
{
	"$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["tables"]:
    print("%s.%s key=%s modes=%s cdc=%s" % (t["schema"], t["table"],
        ",".join(t["key"]), ",".join(t["modes"]),
        ",".join(t["cdc_instances"])))
for s in d["skipped"]:
    print("skipped %s.%s: %s" % (s["schema"], s["table"],
        s["reason"].split(":")[0]))
' "$1" 2>&1
}

mkcfg disc '[]'
runcap 60 disc discover
expect "discover: exit 0" "$RC" 0
check "discover: one JSON document" is_json_file "$T/out"
expect "discover: exactly the capturable tables, keys in key order" \
    "$(summary "$T/out")" "dbo.both key=id modes=ct,cdc cdc=dbo_both
dbo.lines key=line,order_id modes=ct cdc=
dbo.orders key=id modes=ct cdc=
sales.cust key=id modes=cdc cdc=sales_cust
skipped dbo.heap: no primary key
skipped dbo.plain: neither Change Tracking nor a CDC capture instance (advanced.discover_tables_without_ct lists it)"

cols=$("$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = [t for t in d["tables"] if t["table"] == "orders"][0]
for c in t["columns"]:
    j = c["json"] or {}
    print(c["name"], c["type"], j.get("type"),
          j.get("format", j.get("contentEncoding", "-")),
          "null" if c["nullable"] else "notnull",
          "computed" if c["computed"] else "-")
' "$T/out" 2>&1)
expect "discover: declared and JSON types of every column" "$cols" \
    "id int integer - notnull -
customer nvarchar(50) string - null -
total decimal(10,2) string number notnull -
placed datetime2(3) string date-time null -
paid bit boolean - null -
qty tinyint integer - null -
ref uniqueidentifier string uuid null -
day date string date null -
at time(7) string time null -
zoned datetimeoffset(7) string date-time null -
blob varbinary(max) string base64 null -
ratio float number - null -
price money string number null -
code char(3) string - null -
twice numeric(12,2) string number null computed"

# discover_tables_without_ct: keyed tables without CT or CDC too.
sed 's/"advanced": {/"advanced": {"discover_tables_without_ct": true, /' \
    "$T/disc.json" >"$T/all.json"
runcap 60 all discover
expect "discover_tables_without_ct: exit 0" "$RC" 0
expect "discover_tables_without_ct: plain listed with no modes" \
    "$(summary "$T/out" | grep -v '^dbo.both\|^dbo.lines\|^dbo.orders\|^sales.cust')" \
    "dbo.plain key=id modes= cdc=
skipped dbo.heap: no primary key"

# Wrong password: exit 2 with the server's reason.
mkcfg badpw '[]' 'not the password'
runcap 60 badpw discover
expect "discover, wrong password: exit 2" "$RC" 2
expect_grep "discover, wrong password: names the login failure" "$T/err" \
    "Login failed for user '$U'"
expect "discover, wrong password: nothing on stdout" "$(cat "$T/out")" ""

# run --once without bindings: every discovered table, each right.
runcap 90 disc run --once
expect "run without bindings: exit 0" "$RC" 0
expect_grep "run without bindings: logs what it bound" "$T/err" \
    'no bindings: bound dbo.orders (ct), found by discovery'
got=$("$PYTHON3" -c '
import json, sys
n = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    s = d["_meta"]["source"]
    name = s["schema"] + "." + s["table"]
    cols = sorted(k for k in d if k != "_meta")
    n.setdefault(name + " " + ",".join(cols), 0)
    n[name + " " + ",".join(cols)] += 1
for k in sorted(n):
    print(k, n[k])
' "$T/disc.jsonl" 2>&1)
expect "run without bindings: rows of every capturable table" "$got" \
    "dbo.both id,v 1
dbo.lines line,order_id,sku 2
dbo.orders at,blob,code,customer,day,id,paid,placed,price,qty,ratio,ref,total,twice,zoned 2
sales.cust id,name 1"

# A second run picks up only the new change, by the same bindings.
sq "UPDATE dbo.lines SET sku = 'z' WHERE line = 2" >"$T/upd.log"
runcap 90 disc run --once
expect "second run: exit 0" "$RC" 0
expect "second run: one more line, the update of dbo.lines" \
    "$(tail -n 1 "$T/disc.jsonl" | "$PYTHON3" -c '
import json, sys
d = json.loads(sys.stdin.read())
print(d["_meta"]["op"], d["_meta"]["source"]["table"], d["line"], d["sku"])')" \
    "u lines 2 z"
expect "second run: 7 lines in all" "$(lines "$T/disc.jsonl")" 7

# Top-level mode ct: only the Change Tracking tables are bound.
sed 's/"advanced": {/"mode": "ct", "advanced": {/; s|/disc\.|/ct.|g' \
    "$T/disc.json" >"$T/ct.json"
runcap 90 ct run --once
expect "mode ct without bindings: exit 0" "$RC" 0
expect "mode ct without bindings: the CT tables only" \
    "$(sed -n 's/.*no bindings: bound \([^ ]*\) .*/\1/p' "$T/err" | tr '\n' ' ')" \
    "dbo.both dbo.lines dbo.orders "

# No capturable table: exit 2 saying what was looked for.
sq_master "CREATE DATABASE ${DB}2" >"$T/db2.log"
sed "s/\"database\": \"$DB\"/\"database\": \"${DB}2\"/; s|/disc\.|/none.|g" \
    "$T/disc.json" >"$T/none.json"
runcap 60 none run --once
expect "no capturable table: exit 2" "$RC" 2
expect_grep "no capturable table: says what was looked for" "$T/err" \
    "discovery found no table to capture in database ${DB}2: it looks for tables with a primary key and Change Tracking enabled or a CDC capture instance"

finish
