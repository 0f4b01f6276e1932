#!/bin/sh
#
# "mssql-capture run" with bad input, against the simulator: what an
# operator gets wrong first must end with a clear message and the
# documented exit status, and must not touch what was captured.
#  - no bindings and no capturable table (t1 has no Change Tracking):
#    run exits 2 saying what discovery looked for;
#  - a configuration error exits 2 before anything starts;
#  - a second daemon on the same state file exits 2 naming the lock
#    (two writers would number events twice);
#  - a wrong password marks every table failed with the server's login
#    error (18456) and run --once exits 1 with a summary;
#  - an unknown table is marked failed in the state with its reason.
# What needs Change Tracking in the simulator is t/run_ct.sh.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$top_srcdir/t/run_lib.sh"

sim_start
sq "CREATE TABLE t1 (id int NOT NULL PRIMARY KEY, name nvarchar(50) NULL)" \
    >"$T/create.log"

# No bindings.
mkcfg nob '[]'
runcap 30 nob run --once
expect "no bindings: exit 2" "$RC" 2
expect_grep "no bindings: says what discovery looked for" "$T/err" \
    'discovery found no table to capture in database runt: it looks for tables with a primary key and Change Tracking enabled or a CDC capture instance'

# A configuration error: nothing starts, no state file.
printf '{"address": "x", "bogus": 1}\n' >"$T/bad.json"
runcap 30 bad run --once
expect "bad configuration: exit 2" "$RC" 2
expect_grep "bad configuration: names the key" "$T/err" 'bogus'
expect "bad configuration: no state written" \
    "$(ls "$T"/bad.state.db 2>/dev/null)" ""

# run takes no operands.
mkcfg one '[{"namespace": "dbo", "stream": "t1"}]'
runcap 30 one run extra
expect "run with an operand: exit 2" "$RC" 2

# A second daemon on the same state: the writer lock is taken.
: >"$T/one.state.db-lock"
flock "$T/one.state.db-lock" sleep 20 &
LOCKER=$!
sleep 0.3
runcap 30 one run --once
kill "$LOCKER" 2>/dev/null
wait "$LOCKER" 2>/dev/null
expect "state locked by another process: exit 2" "$RC" 2
expect_grep "state locked: clear message" "$T/err" 'in use by another mssql-capture process'

# Wrong password: every table fails with the login error.
mkcfg badpw '[{"namespace": "dbo", "stream": "t1"}]' 'not the password'
runcap 60 badpw run --once
expect "wrong password: exit 1" "$RC" 1
expect_grep "wrong password: names the login failure" "$T/err" \
    "Login failed for user '$U'"
expect_grep "wrong password: summary line" "$T/err" '1 of 1 table failed'

# Unknown table: failed in the state, with the server's error.
mkcfg unk '[{"namespace": "dbo", "stream": "no_such_table"}]'
runcap 60 unk run --once
expect "unknown table: exit 1" "$RC" 1
expect_grep "unknown table: named in the log" "$T/err" \
    'dbo.no_such_table.*Invalid object name'
state=$("$PYTHON3" -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for b, p, r in c.execute("select binding, phase, failed_reason from tables"):
    print(b, p, "reason" if r and "no_such_table" in r else "-")
' "$T/unk.state.db")
expect "unknown table: failed in the state with its reason" "$state" \
    "dbo.no_such_table failed reason"
expect "unknown table: nothing emitted" "$(lines "$T/unk.jsonl")" 0

finish
