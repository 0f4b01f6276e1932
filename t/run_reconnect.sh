#!/bin/sh
#
# The source goes away under the daemon, and a bound table lacks what
# its mode needs: clear errors, nothing lost.
#  1. Lost connection mid-backfill: "run" streams two Change Tracking
#     tables (chunks of 500 rows); when 2,000 rows of the big one (60,000) is in the
#     output, the simulator is killed (SIGKILL: connections cut without
#     a word) and started again 3 s later on the same port and data.
#     The workers log the lost connection and reconnect (backoff); the
#     backfill resumes after the last committed key, changes made after
#     the restart are captured, SIGTERM exits 0, and the output file
#     replayed by key and the replica both equal the source, with each
#     event once (replay checks seq and duplicates).
#  2. The same while streaming (the backfill done).
#  3. A table bound with mode "ct" whose Change Tracking is off fails
#     with a message that names the table and the statement to run;
#     the table beside it is captured.
# Only with our simulator: it needs to kill and restart the server.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$top_srcdir/t/run_lib.sh"

[ -z "$MSSQL_TEST_ADDRESS" ] ||
	skip "restarts the server: only with mssqlsim"
sim_start
sq "ALTER DATABASE $DB SET CHANGE_TRACKING = ON
    (CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON)" >>"$T/sql.log"

# has_lines N FILE: FILE has at least N lines.
has_lines()
{
	[ "$(lines "$2")" -ge "$1" ]
}

# 1. Lost connection in the middle of a backfill.
mktable big 1 60000
mktable small 1 200
mkcfg rc '[{"namespace": "dbo", "stream": "big"},
    {"namespace": "dbo", "stream": "small"}]'
runbg rc run
if wait_for 60 has_lines 2000 "$T/rc.jsonl"; then
	pass "backfill: output started"
else
	fail "backfill: output started" "$(tail -5 "$T/bg.err")"
fi
before=$(lines "$T/rc.jsonl")
sim_restart 3
# The daemon must still be there, and the backfill must go on.
if kill -0 "$DAEMON_PID" 2>/dev/null; then
	pass "lost connection: the daemon keeps running"
else
	fail "lost connection: the daemon keeps running" \
	    "$(tail -5 "$T/bg.err")"
fi
sq "UPDATE big SET name = N'after restart' WHERE id % 1000 = 7;
    DELETE FROM big WHERE id % 1000 = 8;
    INSERT INTO big VALUES (70001, N'new', 1.00)" >>"$T/sql.log"
if wait_for 120 grep -q 'table dbo.big: backfill done' "$T/bg.err" &&
    wait_for 30 grep -q '"id":70001,' "$T/rc.jsonl"; then
	pass "lost connection: the backfill resumed and changes are captured"
else
	fail "lost connection: the backfill resumed and changes are captured" \
	    "$(tail -5 "$T/bg.err")"
fi
expect_grep "lost connection: logged" "$T/bg.err" \
    'worker dbo.big: .*; reconnecting in'
expect "lost connection: output had $before lines, not the whole table" \
    "$([ "$before" -lt 60000 ] && echo partial)" partial

# 2. Lost connection while streaming.
sim_restart 2
sq "UPDATE small SET amount = 0.01 WHERE id <= 20;
    DELETE FROM small WHERE id > 190" >>"$T/sql.log"
if wait_for 60 sh -c "[ \$(grep -c '\"table\":\"small\",\"snapshot\":false' \
    '$T/rc.jsonl') -ge 30 ]" 2>/dev/null; then
	pass "streaming: changes after the restart are captured"
else
	fail "streaming: changes after the restart are captured" \
	    "$(tail -5 "$T/bg.err")"
fi
kill -TERM "$DAEMON_PID"
waitbg 60
expect "SIGTERM after two server crashes: exit 0" "$RC" 0
compare "after two server crashes (big)" rc big
compare "after two server crashes (small)" rc small
run -c "$T/rc.json" verify
expect "after two server crashes: verify exits 0" "$RC" 0

# 3. Change Tracking off on a table bound with mode ct.
sq "CREATE TABLE noct (id int NOT NULL PRIMARY KEY, v int NULL);
    INSERT INTO noct VALUES (1, 1)" >>"$T/sql.log"
mktable beside 1 50
mkcfg noct '[{"namespace": "dbo", "stream": "noct", "mode": "ct"},
    {"namespace": "dbo", "stream": "beside"}]'
runcap 60 noct run --once
expect "CT off: run --once exits 1" "$RC" 1
expect_grep "CT off: the table and the fix are named" "$T/err" \
    'dbo.noct.*ALTER TABLE.*ENABLE CHANGE_TRACKING'
compare "CT off: the table beside it" noct beside

finish
