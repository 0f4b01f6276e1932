#!/bin/sh
#
# "status" and "reset" against the simulator, with the real daemon.
# What each part pins:
#  1. status before any run is a clear "no state yet" error (exit 2);
#     reset of a table that is not a binding names the bindings (2).
#  2. after run --once: status shows each table streaming, its rows,
#     its CT version and the output seq, and no daemon; --json parses
#     and has the fields.
#  3. reset with no daemon: rows deleted at the source before the
#     reset are never captured as deletes; the next run --once
#     backfills that table alone (the other table emits nothing), and
#     the replica's rows the backfill did not see are _deleted = 1
#     with a journal entry (the reconcile rule of replica.c).
#  4. reset while a daemon runs: the request is picked up within a few
#     seconds (logged), status says running with the pid, the table is
#     backfilled again and a replica row that no backfill can see (put
#     there by hand) ends _deleted = 1; verify agrees with the source.
#  5. kill -9 right after a reset request loses nothing: the next run
#     applies it (or finds it applied) and verify agrees.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$top_srcdir/t/run_lib.sh"

sim_start
out=$(sq "ALTER DATABASE $DB SET CHANGE_TRACKING = ON
    (CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON)")
case $out in
*Msg*)
	skip "the server rejects Change Tracking: $(echo "$out" | tr '\n' ' ')"
	;;
esac

# status [--json] into $T/out, $T/err, $RC.
status()
{
	run -c "$T/st.json" status "$@"
}

# A python expression over the replica: rq EXPR-SQL.
rq()
{
	"$PYTHON3" - "$T/st.replica.db" "$1" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print("|".join(str(r[0]) for r in c.execute(sys.argv[2])))
EOF
}

# Lines of the output file for table NAME: table_lines NAME.
table_lines()
{
	grep -c "\"table\":\"$1\"" "$T/st.jsonl" || true
}

mktable t_a 1 50
mktable t_b 1 30
mkcfg st '[{"namespace": "dbo", "stream": "t_a"},
    {"namespace": "dbo", "stream": "t_b"}]'

# 1. No state yet; not a binding.
status
expect "status before any run: exit 2" "$RC" 2
expect_grep "status before any run: no state yet" "$T/err" "no state yet"
run -c "$T/st.json" reset dbo.nope
expect "reset of an unknown table: exit 2" "$RC" 2
expect_grep "reset of an unknown table: lists the bindings" "$T/err" \
    "dbo.nope is not a binding.*dbo.t_a, dbo.t_b"

# 2. After run --once.
runcap 60 st run --once
expect "run --once: exit 0" "$RC" 0
status
expect "status after run: exit 0" "$RC" 0
expect_grep "status: not running" "$T/out" "^daemon: not running"
expect_grep "status: output seq" "$T/out" "^output: seq 80,"
expect_grep "status: t_a streaming with its rows and CT version" \
    "$T/out" "^dbo.t_a  *ct  *streaming  *50/[0-9?]* .*ct version [0-9]"
status --json
expect "status --json: exit 0" "$RC" 0
check "status --json: one JSON object with the fields" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["daemon"]["running"] is False and d["daemon"]["pid"] is None
assert d["output"]["seq"] == 80, d["output"]
t = {x["table"]: x for x in d["tables"]}
a = t["dbo.t_a"]
assert a["phase"] == "streaming" and a["mode"] == "ct", a
assert a["rows_backfilled"] == 50 and a["restarts"] == 0, a
assert isinstance(a["cursor"]["ct_version"], int), a
assert a["reset_pending"] is False and a["failed_reason"] is None, a
assert "lag_seconds" in a and "rows_estimate" in a and a["updated_at"]
assert t["dbo.t_b"]["rows_backfilled"] == 30
' "$T/out"

# 3. Rows deleted at the source, then reset with no daemon.
sq "DELETE FROM t_a WHERE id <= 5" >>"$T/sql.log"
run -c "$T/st.json" reset dbo.t_a
expect "reset with no daemon: exit 0" "$RC" 0
expect_grep "reset with no daemon: cursor cleared" "$T/out" "cursor cleared"
status
expect_grep "status after reset: backfill, reset pending" "$T/out" \
    "^dbo.t_a  *ct  *backfill (reset pending)"
b_before=$(table_lines t_b)
a_before=$(table_lines t_a)
runcap 60 st run --once
expect "run --once after reset: exit 0" "$RC" 0
expect_grep "run --once after reset: logged" "$T/err" \
    "table dbo.t_a: reset requested"
expect "re-backfill: t_a's 45 rows emitted again" \
    "$(($(table_lines t_a) - a_before))" 45
expect "re-backfill: t_b emits nothing" "$(table_lines t_b)" "$b_before"
expect "replica: rows deleted at the source are _deleted = 1" \
    "$(rq 'SELECT group_concat(id) FROM (SELECT id FROM "runt_dbo.t_a"
        WHERE _deleted = 1 ORDER BY id)')" "1,2,3,4,5"
expect "replica: with a 'd' journal entry each" \
    "$(rq 'SELECT count(*) FROM "runt_dbo.t_a_journal"
        WHERE _op = '"'d'"' AND id <= 5')" 5
status
expect_grep "status after re-backfill: streaming, 45 rows" "$T/out" \
    "^dbo.t_a  *ct  *streaming  *45/"
check "status after re-backfill: no request left" \
    sh -c "! grep -q 'reset pending' '$T/out'"

# 4. Reset while a daemon runs; a stale row put in the replica by hand.
"$PYTHON3" - "$T/st.replica.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute('INSERT INTO "runt_dbo.t_b" (id, name, amount, _inserted_at, '
          '_updated_at, _deleted) VALUES (777, \'stale\', NULL, '
          '\'2026-01-01T00:00:00Z\', \'2026-01-01T00:00:00Z\', 0)')
c.commit()
EOF
runbg st run
wait_for 20 grep -q "running 2 bindings" "$T/bg.err"
status --json
check "status while running: running, with the daemon's pid" \
    "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["daemon"]["running"] is True, d["daemon"]
assert d["daemon"]["pid"] == int(sys.argv[2]), d["daemon"]
' "$T/out" "$DAEMON_PID"
b_before=$(table_lines t_b)
run -c "$T/st.json" reset dbo.t_b
expect "reset while running: exit 0" "$RC" 0
expect_grep "reset while running: asked the daemon" "$T/out" \
    "asked the running daemon (pid $DAEMON_PID)"
status
check "status right after: reset pending or backfill" \
    grep -Eq "^dbo.t_b  *ct  *(streaming \(reset pending|backfill)" "$T/out"
check "daemon: picks the request up" \
    wait_for 10 grep -q "table dbo.t_b: reset: cursor cleared" "$T/bg.err"
check "daemon: t_b backfilled again" \
    wait_for 10 grep -q "table dbo.t_b: backfill done" "$T/bg.err"
check "daemon: the stale replica row is reconciled (logged)" \
    wait_for 10 grep -q "dbo.t_b: backfill complete: 1 replica row" \
    "$T/bg.err"
check "daemon: t_b's 30 rows emitted again" wait_for 10 sh -c \
    "[ \$(grep -c '\"table\":\"t_b\"' '$T/st.jsonl') -ge $((b_before + 30)) ]"
check "status: t_b streaming again, no request left" wait_for 10 sh -c \
    "'$MSSQL_CAPTURE' -c '$T/st.json' status | grep -q \
    '^dbo.t_b  *ct  *streaming  *30/'"
kill -TERM "$DAEMON_PID"
waitbg 20
expect "SIGTERM: exit 0" "$RC" 0
expect "replica: the stale row is _deleted = 1" \
    "$(rq 'SELECT _deleted FROM "runt_dbo.t_b" WHERE id = 777')" 1
expect "replica: t_a untouched by t_b's reset" \
    "$(rq 'SELECT count(*) FROM "runt_dbo.t_a" WHERE _deleted = 0')" 45
run -c "$T/st.json" verify
expect "verify after the resets: exit 0" "$RC" 0

# 5. kill -9 right after a reset request: the request is in the state
#    file, so whatever the daemon did with it, the next run ends with
#    the table backfilled and the request gone.
runbg st run
wait_for 20 grep -q "running 2 bindings" "$T/bg.err"
a_before=$(table_lines t_a)
run -c "$T/st.json" reset dbo.t_a
expect "reset before a kill -9: exit 0" "$RC" 0
kill -9 "$DAEMON_PID"
waitbg 10
runcap 60 st run --once
expect "run --once after the kill: exit 0" "$RC" 0
check "after the kill: t_a backfilled again" \
    test "$(table_lines t_a)" -ge $((a_before + 45))
status
expect_grep "after the kill: t_a streaming with its 45 rows" "$T/out" \
    "^dbo.t_a  *ct  *streaming  *45/"
check "after the kill: no request left" \
    sh -c "! grep -q 'reset pending' '$T/out'"
run -c "$T/st.json" verify
expect "verify after the kill: exit 0" "$RC" 0

finish
