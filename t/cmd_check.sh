#!/bin/sh
#
# "mssql-capture check" against the simulator: each thing an operator
# gets wrong in the SQL Server setup must be one FAIL line that names
# it, with the SQL that fixes it, and exit 1; a good setup exits 0.
#  - good setup (CT on the database and the tables): no FAIL, exit 0;
#    snapshot isolation off and a 2-day retention are WARN lines with
#    their ALTER DATABASE fixes, not failures;
#  - wrong password: FAIL naming the login failure (18456), the checks
#    needing a connection reported as skipped, exit 1;
#  - a login with SELECT but not VIEW CHANGE TRACKING: FAIL with the
#    GRANT, while SELECT passes;
#  - a bound table without Change Tracking: FAIL with ALTER TABLE;
#  - a database without Change Tracking: FAIL with ALTER DATABASE;
#  - a bound table without a primary key: FAIL;
#  - a CDC table gated by a role the login is not in: FAIL with ALTER
#    ROLE;
#  - --json is one valid JSON array of {status, check, table?, detail,
#    fix?} with the same verdicts;
#  - no bindings: the tables discovery would bind are checked;
#  - a configuration error exits 2.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$top_srcdir/t/run_lib.sh"

sim_start
sq "ALTER DATABASE $DB SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON)
CREATE TABLE dbo.orders (id int NOT NULL PRIMARY KEY, name nvarchar(50) NULL)
ALTER TABLE dbo.orders ENABLE CHANGE_TRACKING
CREATE TABLE dbo.lines (order_id int NOT NULL, line int NOT NULL, CONSTRAINT pk_lines PRIMARY KEY (order_id, line))
ALTER TABLE dbo.lines ENABLE CHANGE_TRACKING
CREATE TABLE dbo.plain (id int NOT NULL PRIMARY KEY, v int)
CREATE TABLE dbo.heap (a int, b int)
CREATE LOGIN capt WITH PASSWORD = 'Capt_pw1!'
CREATE USER capt FOR LOGIN capt
GRANT SELECT ON SCHEMA::dbo TO capt" >"$T/setup.log"

# chk NAME: run check on $T/NAME.json (text); chkj NAME: with --json.
chk()
{
	runcap 60 "$1" check
}

# A good setup: CT everywhere it is needed, the sa login.
mkcfg good '[{"namespace": "dbo", "stream": "orders"},
  {"namespace": "dbo", "stream": "lines"}]'
chk good
expect "good setup: exit 0" "$RC" 0
expect "good setup: no FAIL line" "$(grep -c '^FAIL' "$T/out")" 0
expect_grep "good setup: composite key in key order" "$T/out" \
    '^PASS  primary key dbo.lines: order_id, line$'
expect_grep "good setup: table change tracking passes" "$T/out" \
    '^PASS  change tracking dbo.orders: enabled'
expect_grep "snapshot isolation off: WARN" "$T/out" \
    '^WARN  snapshot isolation: ALLOW_SNAPSHOT_ISOLATION is OFF'
expect_grep "snapshot isolation off: the fix" "$T/out" \
    "fix: ALTER DATABASE \[$DB\] SET ALLOW_SNAPSHOT_ISOLATION ON;"
expect_grep "2-day retention: WARN with the numbers" "$T/out" \
    '^WARN  change tracking retention: 2 DAYS: if capture is stopped for more than 2880 minutes'
expect_grep "2-day retention: the fix" "$T/out" \
    "fix: ALTER DATABASE \[$DB\] SET CHANGE_TRACKING (CHANGE_RETENTION = 3 DAYS);"
expect_grep "good setup: summary" "$T/out" '^[0-9]* checks, 0 failed$'

# Snapshot isolation on: that WARN becomes a PASS.
sq_master "ALTER DATABASE $DB SET ALLOW_SNAPSHOT_ISOLATION ON" >"$T/si.log"
chk good
expect_grep "snapshot isolation on: PASS" "$T/out" \
    '^PASS  snapshot isolation: ALLOW_SNAPSHOT_ISOLATION is ON'
sq_master "ALTER DATABASE $DB SET ALLOW_SNAPSHOT_ISOLATION OFF" >"$T/si.log"

# --json: one array, the same verdicts.
runcap 60 good check --json
expect "--json: exit 0" "$RC" 0
js=$("$PYTHON3" -c '
import json, sys
items = json.load(open(sys.argv[1]))
assert isinstance(items, list) and items
for i in items:
    assert set(i) <= {"status", "check", "table", "detail", "fix"}, i
    assert i["status"] in ("PASS", "WARN", "FAIL", "SKIP"), i
fails = [i for i in items if i["status"] == "FAIL"]
pk = [i for i in items if i["check"] == "primary key" and
      i.get("table") == "dbo.lines"]
snap = [i for i in items if i["check"] == "snapshot isolation"]
print(len(fails), pk[0]["detail"], snap[0]["status"], "fix" in snap[0])
' "$T/out" 2>&1)
expect "--json: valid, no FAIL, key and WARN with its fix" "$js" \
    "0 order_id, line WARN True"

# Wrong password.
mkcfg badpw '[{"namespace": "dbo", "stream": "orders"}]' 'not the password'
chk badpw
expect "wrong password: exit 1" "$RC" 1
expect_grep "wrong password: FAIL names the login failure" "$T/out" \
    "^FAIL  login: Login failed for user '$U'.*18456.*password"
expect_grep "wrong password: the rest is skipped" "$T/out" \
    '^SKIP  remaining checks: skipped: .*need a connection'
expect "wrong password: no table checks" \
    "$(grep -c 'dbo.orders' "$T/out")" 0

# A login with SELECT only: VIEW CHANGE TRACKING is missing.
cat >"$T/capt.json" <<EOF
{"address": "$HOST:$PORT", "database": "$DB", "user": "capt",
 "password": "Capt_pw1!", "tls": {"encrypt": "off"},
 "bindings": [{"namespace": "dbo", "stream": "orders"}]}
EOF
chk capt
expect "no VIEW CHANGE TRACKING: exit 1" "$RC" 1
expect_grep "no VIEW CHANGE TRACKING: FAIL" "$T/out" \
    '^FAIL  view change tracking permission dbo.orders: user \[capt\] lacks VIEW CHANGE TRACKING'
expect_grep "no VIEW CHANGE TRACKING: the GRANT" "$T/out" \
    'fix: GRANT VIEW CHANGE TRACKING ON SCHEMA::\[dbo\] TO \[capt\];'
expect_grep "no VIEW CHANGE TRACKING: SELECT passes" "$T/out" \
    '^PASS  select permission dbo.orders: granted to \[capt\]'
sq "GRANT VIEW CHANGE TRACKING ON SCHEMA::dbo TO capt" >"$T/grant.log"
chk capt
expect "after the GRANT: exit 0" "$RC" 0

# A bound table without Change Tracking, one without a primary key.
mkcfg noct '[{"namespace": "dbo", "stream": "plain"},
  {"namespace": "dbo", "stream": "heap"}]'
chk noct
expect "table without CT or PK: exit 1" "$RC" 1
expect_grep "table without CT: FAIL" "$T/out" \
    '^FAIL  change tracking dbo.plain: not enabled on \[dbo\].\[plain\]'
expect_grep "table without CT: the ALTER TABLE" "$T/out" \
    'fix: ALTER TABLE \[dbo\].\[plain\] ENABLE CHANGE_TRACKING;'
expect_grep "table without PK: FAIL" "$T/out" \
    '^FAIL  primary key dbo.heap: none'
expect_grep "table without PK: the fix" "$T/out" \
    'fix: ALTER TABLE \[dbo\].\[heap\] ADD CONSTRAINT \[PK_heap\] PRIMARY KEY'

# An unknown table.
mkcfg unk '[{"namespace": "dbo", "stream": "nope"}]'
chk unk
expect "unknown table: exit 1" "$RC" 1
expect_grep "unknown table: FAIL" "$T/out" '^FAIL  table dbo.nope: not found'

# No bindings: the tables discovery would bind (orders, lines).
mkcfg auto '[]'
chk auto
expect "no bindings: exit 0" "$RC" 0
expect "no bindings: the discovered tables are checked" \
    "$(sed -n 's/^PASS  primary key \([^:]*\):.*/\1/p' "$T/out" | tr '\n' ' ')" \
    "dbo.lines dbo.orders "

# A database without Change Tracking.
sq_master "CREATE DATABASE ${DB}2" >"$T/db2.log"
DB1=$DB
DB=${DB1}2
sq "CREATE TABLE dbo.t (id int NOT NULL PRIMARY KEY)" >>"$T/db2.log"
mkcfg noctdb '[{"namespace": "dbo", "stream": "t"}]'
DB=$DB1
chk noctdb
expect "database without CT: exit 1" "$RC" 1
expect_grep "database without CT: FAIL" "$T/out" \
    "^FAIL  change tracking: not enabled on database \[${DB}2\]"
expect_grep "database without CT: the ALTER DATABASE" "$T/out" \
    "fix: ALTER DATABASE \[${DB}2\] SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 3 DAYS, AUTO_CLEANUP = ON);"

# CDC gated by a role the login is not in.
sq "EXEC sys.sp_cdc_enable_db
CREATE TABLE dbo.gated (id int NOT NULL PRIMARY KEY, v int)
EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'gated', @role_name = N'cdc_gate'
GRANT SELECT ON SCHEMA::cdc TO capt" >"$T/cdc.log"
cat >"$T/gated.json" <<EOF
{"address": "$HOST:$PORT", "database": "$DB", "user": "capt",
 "password": "Capt_pw1!", "tls": {"encrypt": "off"},
 "bindings": [{"namespace": "dbo", "stream": "gated"}]}
EOF
chk gated
expect "cdc gating role: exit 1" "$RC" 1
expect_grep "cdc gating role: capture instance found" "$T/out" \
    '^PASS  cdc capture instance dbo.gated: dbo_gated'
expect_grep "cdc gating role: FAIL with ALTER ROLE" "$T/out" \
    'fix: ALTER ROLE \[cdc_gate\] ADD MEMBER \[capt\];'

# A configuration error.
printf '{"address": "x"}\n' >"$T/bad.json"
chk bad
expect "bad configuration: exit 2" "$RC" 2

finish
