#!/bin/sh
#
# "mssql-capture run" end to end with Change Tracking, against the
# simulator: the real daemon, real workers, real output, replica and
# state files.  What each part pins:
#  1. run --once backfills a few thousand rows and exits 0; the file,
#     replayed by key, equals the source (SELECT through tsql), and so
#     does the replica; with max_workers 1 the binding of higher
#     priority is backfilled first; a rerun after changes emits exactly those
#     changes; a rerun with no changes emits nothing and exits 0.
#  2. kill -9 of the supervisor during a backfill and during streaming,
#     with changes in between, then a rerun: no duplicate, no gap, seq
#     strictly increasing by one, final content equal to the source
#     (the output is cut back to the committed offset, the workers
#     resume from the committed cursors, the replica skips what it has).
#     The same at each step of a commit, deterministically, through
#     the MSSQL_CAPTURE_CRASH_AT test hook.
#  3. a table without a primary key is marked failed in the state with
#     its reason while the other table completes, and run --once exits
#     1 with a summary; a table dropped while streaming is marked
#     failed and the other keeps streaming.
#  4. a worker killed with SIGKILL is restarted (logged with its
#     signal) and loses nothing; SIGTERM during streaming exits 0
#     after a final commit; SIGHUP adds a binding, removes one at the
#     end, adds a removed one back in another order (it resumes), and
#     removes the first; a second daemon on the same state exits 2.
# Skipped (77) when the server rejects ALTER DATABASE ... SET
# CHANGE_TRACKING = ON.

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

# The number of events in a replica table's journal.
journal_count()
{
	"$PYTHON3" - "$1" "$DB" "$2" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
name = "%s_dbo.%s_journal" % (sys.argv[2], sys.argv[3])
print(c.execute('SELECT count(*) FROM "%s"' % name).fetchone()[0])
EOF
}

# A table's phase and whether its failed_reason matches: state_of CFG
# TABLE PATTERN.
state_of()
{
	"$PYTHON3" - "$T/$1.state.db" "dbo.$2" "$3" <<'EOF'
import re, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for p, r in c.execute("SELECT phase, failed_reason FROM tables "
                      "WHERE binding = ?", (sys.argv[2],)):
    print(p, "reason" if r and re.search(sys.argv[3], r) else "-")
EOF
}

# 1. Backfill with run --once, changes, an idle rerun.
mktable t1 1 3000
mkcfg once '[{"namespace": "dbo", "stream": "t1"}]'
runcap 120 once run --once
expect "once: exit 0" "$RC" 0
expect "once: 3000 snapshot lines" "$(lines "$T/once.jsonl")" 3000
compare "once" once t1
sq "UPDATE t1 SET name = N'changed' WHERE id <= 10" >>"$T/sql.log"
sq "DELETE FROM t1 WHERE id > 2990" >>"$T/sql.log"
sq "INSERT INTO t1 VALUES (5000, N'new', 1.00)" >>"$T/sql.log"
runcap 120 once run --once
expect "once again: exit 0" "$RC" 0
expect "once again: the 21 changes" "$(lines "$T/once.jsonl")" 3021
compare "once again" once t1
size=$(wc -c <"$T/once.jsonl")
runcap 120 once run --once
expect "idle rerun: exit 0" "$RC" 0
expect "idle rerun: nothing emitted" "$(wc -c <"$T/once.jsonl")" "$size"

# 1b. Priorities with max_workers 1: the higher priority binding,
# listed second, is backfilled first, then the other.
mktable p1 1 600
mktable p2 1 600
mkcfg prio '[{"namespace": "dbo", "stream": "p1"},
    {"namespace": "dbo", "stream": "p2", "priority": 5}]'
sed -i 's/"backfill_chunk_size": 500}/"backfill_chunk_size": 500, "max_workers": 1}/' \
    "$T/prio.json"
runcap 120 prio run --once
expect "priority: exit 0" "$RC" 0
order=$("$PYTHON3" -c '
import json, sys
seen = []
for line in open(sys.argv[1]):
    t = json.loads(line)["_meta"]["source"]["table"]
    if not seen or seen[-1] != t:
        seen.append(t)
print(" ".join(seen))
' "$T/prio.jsonl")
expect "priority: p2 backfilled before p1" "$order" "p2 p1"

# 2. kill -9 during a backfill, then during streaming with changes.
mktable t2 1 20000
mkcfg crash '[{"namespace": "dbo", "stream": "t2"}]'
runbg crash run
if wait_for 60 sh -c "[ \$(wc -l 2>/dev/null <'$T/crash.jsonl' || echo 0) \
    -ge 2000 ]"; then
	kill -9 "$DAEMON_PID"
	waitbg 10
	expect "kill -9 during backfill: killed" "$RC" 137
else
	fail "kill -9 during backfill: output never reached 2000 lines" \
	    "$(tail -5 "$T/bg.err")"
fi
before=$(lines "$T/crash.jsonl")
echo "killed during the backfill at $before lines"
runbg crash run
sleep 0.5
sq "UPDATE t2 SET amount = 0.01 WHERE id % 97 = 0" >>"$T/sql.log"
sq "DELETE FROM t2 WHERE id % 101 = 0" >>"$T/sql.log"
if wait_for 60 sh -c "[ \$(wc -l <'$T/crash.jsonl') -gt $before ]"; then
	kill -9 "$DAEMON_PID"
	waitbg 10
	expect "kill -9 while streaming: killed" "$RC" 137
else
	fail "kill -9 while streaming: no progress after the restart" \
	    "$(tail -5 "$T/bg.err")"
	kill -9 "$DAEMON_PID"
	waitbg 10
fi
insert_rows t2 30001 30100
runcap 120 crash run --once
expect "rerun after kill -9: exit 0" "$RC" 0
compare "after kill -9" crash t2

# 2a. Two tables streaming, kill -9: a table's committed cursor may lag
# behind what it emitted (its events below the other table's watermark
# went out while its own newer watermark was incomplete); the restart
# must not emit those events again (the regression: 8 duplicates).
mktable d1
mktable d2
mkcfg dup '[{"namespace": "dbo", "stream": "d1"},
    {"namespace": "dbo", "stream": "d2"}]'
runbg dup run
sleep 0.5
(
	i=1
	while [ $i -le 300 ]; do
		if [ $((i % 3)) -eq 0 ]; then
			# One transaction, one CT version, both tables.
			printf "BEGIN TRANSACTION
INSERT INTO d1 VALUES (%d, N'x', 1.00)
INSERT INTO d2 VALUES (%d, N'y', 1.00)
COMMIT TRANSACTION\ngo\n" $i $i
		else
			printf "INSERT INTO d1 VALUES (%d, N'x', 1.00)\ngo\n" $i
			printf "INSERT INTO d2 VALUES (%d, N'y', 1.00)\ngo\n" $i
		fi
		i=$((i + 1))
		sleep 0.01
	done
) | run_with_timeout 120 tsql -S sim -U "$U" -P "$PW" -D "$DB" -o qh \
    >>"$T/sql.log" 2>&1 &
WRITER=$!
wait_for 30 sh -c "[ \$(wc -l 2>/dev/null <'$T/dup.jsonl' || echo 0) \
    -ge 100 ]"
kill -9 "$DAEMON_PID"
waitbg 10
expect "two tables, kill -9 while streaming: killed" "$RC" 137
runbg dup run
sleep 1
kill -9 "$DAEMON_PID"
waitbg 10
wait "$WRITER"
runcap 120 dup run --once
expect "two tables, rerun: exit 0" "$RC" 0
compare "two tables after kill -9 (d1)" dup d1
compare "two tables after kill -9 (d2)" dup d2
if "$PYTHON3" - "$T/dup.jsonl" >"$T/order.err" 2>&1 <<'EOF'
import json, sys
last = 0
for n, line in enumerate(open(sys.argv[1]), 1):
    s = json.loads(line)["_meta"]["source"]
    if s["version"] < last:
        sys.exit("line %d: version %d after %d" % (n, s["version"], last))
    last = s["version"]
EOF
then
	pass "two tables: lines in commit (version) order across restarts"
else
	fail "two tables: lines in commit (version) order across restarts" \
	    "$(cat "$T/order.err")"
fi

# 2b. kill -9 at each step of a commit (MSSQL_CAPTURE_CRASH_AT, a test
# hook): after the lines are written, after they are synced, after the
# replica's commit, with the state transaction written but not
# committed.  The crash is in the first commit, in the backfill; rows
# are then deleted and updated all over the table (so also among those
# the crashed round copied) before the rerun.  A rerun must give each
# event once in file and replica, and both must equal the source: a
# replica one round ahead of the state must not keep a row that a
# backfill resumed from the state's older cursor no longer sees.
mktable t4 1 3000
_n=0
for step in written synced replica state; do
	mkcfg "crash_$step" '[{"namespace": "dbo", "stream": "t4"}]'
	RC=0
	MSSQL_CAPTURE_CRASH_AT=$step:1 run_with_timeout 60 "$MSSQL_CAPTURE" \
	    -c "$T/crash_$step.json" run --once >"$T/out" 2>"$T/err" || RC=$?
	expect "kill -9 after step $step: killed" "$RC" 137
	sq "DELETE FROM t4 WHERE id % 10 = $_n;
	    UPDATE t4 SET name = N'after $step' WHERE id % 10 = $((_n + 5))" \
	    >>"$T/sql.log"
	_n=$((_n + 1))
	runcap 120 "crash_$step" run --once
	expect "kill -9 after step $step: rerun exits 0" "$RC" 0
	[ "$step" != replica ] || expect_grep \
	    "kill -9 after step replica: the state takes the replica's round" \
	    "$T/err" 'committed round 1 .* from the replica'
	compare "kill -9 after step $step" "crash_$step" t4
	expect "kill -9 after step $step: journal holds each event once" \
	    "$(journal_count "$T/crash_$step.replica.db" t4)" \
	    "$(lines "$T/crash_$step.jsonl")"
done

# 3. A table without a primary key fails, the other completes.
sq "CREATE TABLE nopk (a int NULL, b nvarchar(10) NULL)" >>"$T/sql.log"
mktable t3 1 700
mkcfg nopk '[{"namespace": "dbo", "stream": "nopk"},
    {"namespace": "dbo", "stream": "t3"}]'
runcap 120 nopk run --once
expect "no primary key: exit 1" "$RC" 1
expect_grep "no primary key: summary" "$T/err" '1 of 2 tables failed'
expect "no primary key: failed in the state" "$(state_of nopk nopk \
    'primary key')" "failed reason"
compare "beside the failed table" nopk t3

# Standard output: the same lines, at least once.
mkcfg stdout '[{"namespace": "dbo", "stream": "t3"}]'
sed -i "s|\"path\": \"$T/stdout.jsonl\"|\"path\": \"-\"|" "$T/stdout.json"
runcap 120 stdout run --once
expect "stdout: exit 0" "$RC" 0
cp "$T/out" "$T/stdout.jsonl"
compare "stdout" stdout t3

# 4. Streaming: a dropped table, SIGHUP, a second daemon, SIGTERM.
mktable s1 1 100
mktable s2 1 100
mktable s3 1 50
mkcfg stream '[{"namespace": "dbo", "stream": "s1"},
    {"namespace": "dbo", "stream": "s2"}]'
# systemd's notify socket: what the daemon says goes to $T/notify.txt.
"$PYTHON3" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
with open(sys.argv[2], "a") as f:
    while True:
        try:
            m = s.recv(4096)
        except socket.timeout:
            break
        f.write(m.decode().replace("\n", " ") + "\n")
        f.flush()
' "$T/notify.sock" "$T/notify.txt" &
NOTIFY_PID=$!
wait_for 10 test -S "$T/notify.sock"
NOTIFY_SOCKET=$T/notify.sock runbg stream run
wait_for 60 sh -c "[ \$(wc -l 2>/dev/null <'$T/stream.jsonl' || echo 0) \
    -ge 200 ]"
expect "streaming: both backfills" "$(lines "$T/stream.jsonl")" 200
sq "INSERT INTO s1 VALUES (1000, N'streamed', 2.50)" >>"$T/sql.log"
if wait_for 30 grep -q '"streamed"' "$T/stream.jsonl"; then
	pass "streaming: a change arrives"
else
	fail "streaming: a change arrives" "$(tail -5 "$T/bg.err")"
fi
# A worker killed with SIGKILL is restarted, and nothing is lost.
wpid=$(sed -n 's/.*worker dbo.s1 (pid \([0-9]*\)) started.*/\1/p' \
    "$T/bg.err" | tail -1)
kill -9 "$wpid"
sq "INSERT INTO s1 VALUES (999, N'after worker crash', 2.50)" >>"$T/sql.log"
if wait_for 30 grep -q '"after worker crash"' "$T/stream.jsonl"; then
	pass "worker crash: restarted, the change arrives"
else
	fail "worker crash: restarted, the change arrives" \
	    "$(tail -5 "$T/bg.err")"
fi
expect_grep "worker crash: logged with its signal" "$T/bg.err" \
    "worker dbo.s1 (pid $wpid) terminated by signal 9: SIGKILL"
runcap 30 stream run
expect "second daemon on the same state: exit 2" "$RC" 2
expect_grep "second daemon: says why" "$T/err" \
    'in use by another mssql-capture process'
sq "DROP TABLE s2" >>"$T/sql.log"
if wait_for 60 grep -q 'dbo.s2.*marked failed' "$T/bg.err"; then
	pass "dropped table: marked failed"
else
	fail "dropped table: marked failed" "$(tail -5 "$T/bg.err")"
fi
sq "INSERT INTO s1 VALUES (1001, N'after drop', 2.50)" >>"$T/sql.log"
if wait_for 30 grep -q '"after drop"' "$T/stream.jsonl"; then
	pass "dropped table: the other keeps streaming"
else
	fail "dropped table: the other keeps streaming" \
	    "$(tail -5 "$T/bg.err")"
fi
mkcfg stream '[{"namespace": "dbo", "stream": "s1"},
    {"namespace": "dbo", "stream": "s2"},
    {"namespace": "dbo", "stream": "s3"}]'
kill -HUP "$DAEMON_PID"
if wait_for 60 grep -q '"table":"s3"' "$T/stream.jsonl"; then
	pass "SIGHUP: the added binding is captured"
else
	fail "SIGHUP: the added binding is captured" "$(tail -5 "$T/bg.err")"
fi
sq "INSERT INTO s3 VALUES (1000, N'hup', 1.00)" >>"$T/sql.log"
wait_for 30 grep -q '"hup"' "$T/stream.jsonl"
compare "after SIGHUP" stream s3
mkcfg stream '[{"namespace": "dbo", "stream": "s1"}]'
kill -HUP "$DAEMON_PID"
if wait_for 30 grep -q 'worker dbo.s3 (pid [0-9]*) exited with code 0' \
    "$T/bg.err"; then
	pass "SIGHUP: a binding removed at the end is stopped"
else
	fail "SIGHUP: a binding removed at the end is stopped" \
	    "$(tail -5 "$T/bg.err")"
fi
sq "INSERT INTO s1 VALUES (1002, N'after removal', 2.50)" >>"$T/sql.log"
wait_for 30 grep -q '"after removal"' "$T/stream.jsonl"
# The removed binding comes back, first in the file now: it resumes
# from its cursor (the change made while it was out arrives).  SIGHUP
# is refused while its old worker's last round is not committed yet.
sq "INSERT INTO s3 VALUES (1001, N'while removed', 1.00)" >>"$T/sql.log"
mkcfg stream '[{"namespace": "dbo", "stream": "s3"},
    {"namespace": "dbo", "stream": "s1"}]'
for _i in 1 2 3 4 5; do
	kill -HUP "$DAEMON_PID"
	wait_for 5 grep -q 'binding dbo.s3 added' "$T/bg.err" && break
done
if wait_for 30 grep -q '"while removed"' "$T/stream.jsonl"; then
	pass "SIGHUP: a removed binding added back, in another order, resumes"
else
	fail "SIGHUP: a removed binding added back, in another order, resumes" \
	    "$(tail -5 "$T/bg.err")"
fi
# The first binding removed: the other goes on.
mkcfg stream '[{"namespace": "dbo", "stream": "s3"}]'
kill -HUP "$DAEMON_PID"
if wait_for 30 grep -q 'worker dbo.s1 (pid [0-9]*) exited with code 0' \
    "$T/bg.err"; then
	pass "SIGHUP: the first binding removed is stopped"
else
	fail "SIGHUP: the first binding removed is stopped" \
	    "$(tail -5 "$T/bg.err")"
fi
sq "INSERT INTO s3 VALUES (1002, N'after s1 removed', 1.00)" >>"$T/sql.log"
if wait_for 30 grep -q '"after s1 removed"' "$T/stream.jsonl"; then
	pass "SIGHUP: the binding after it keeps streaming"
else
	fail "SIGHUP: the binding after it keeps streaming" \
	    "$(tail -5 "$T/bg.err")"
fi
kill -TERM "$DAEMON_PID"
waitbg 30
expect "SIGTERM: exit 0" "$RC" 0
cp "$T/bg.err" "$T/err"
expect_grep "SIGTERM: final commit logged" "$T/err" 'stopped; committed'
expect "SIGTERM: dropped table failed in the state" \
    "$(state_of stream s2 '.')" "failed reason"
compare "after SIGTERM" stream s1
compare "after SIGTERM" stream s3
kill "$NOTIFY_PID" 2>/dev/null
wait "$NOTIFY_PID" 2>/dev/null
NOTIFY_PID=
expect "sd_notify: READY, RELOADING, STOPPING" \
    "$(sed 's/ MONOTONIC_USEC=[0-9]*//' "$T/notify.txt" | sort -u | tr '\n' ' ')" \
    "READY=1 RELOADING=1 STOPPING=1 "

# A second SIGTERM while draining exits at once, with status 1.
mkcfg twice '[{"namespace": "dbo", "stream": "s1"}]'
runbg twice run
wait_for 30 grep -q 'worker dbo.s1.*backfill done' "$T/bg.err"
# A worker that does not answer FRAME_STOP keeps the drain going.
wpid=$(sed -n 's/.*worker dbo.s1 (pid \([0-9]*\)) started.*/\1/p' \
    "$T/bg.err" | tail -1)
kill -STOP "$wpid"
kill -TERM "$DAEMON_PID"
wait_for 10 grep -q 'draining' "$T/bg.err"
kill -TERM "$DAEMON_PID"
waitbg 30
expect "second SIGTERM: exit 1 at once" "$RC" 1
cp "$T/bg.err" "$T/err"
expect_grep "second SIGTERM: fast exit logged" "$T/err" 'fast exit'

# 5. The same with CDC: backfill, changes through the capture job.
out=$(sq "EXEC sys.sp_cdc_enable_db")
case $out in
*"Msg "[0-9]*" (severity 1"[0-9]*)
	echo "SKIP: CDC: the server rejects sp_cdc_enable_db:" \
	    "$(echo "$out" | tr '\n' ' ')"
	finish
	;;
esac
sq "CREATE TABLE cd (id int NOT NULL PRIMARY KEY, name nvarchar(50) NULL,
    amount decimal(10,2) NULL)" >>"$T/sql.log"
sq "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo',
    @source_name = N'cd', @role_name = NULL" >>"$T/sql.log"
insert_rows cd 1 1500
# run --once stops at the max LSN the capture job has harvested.
cdc_rows()
{
	[ "$(sq "SELECT COUNT(*) FROM cdc.dbo_cd_CT")" -ge "$1" ]
}
wait_for 30 cdc_rows 1500
mkcfg cdc '[{"namespace": "dbo", "stream": "cd", "mode": "cdc"}]'
runcap 120 cdc run --once
expect "cdc once: exit 0" "$RC" 0
expect "cdc once: 1500 snapshot lines" "$(lines "$T/cdc.jsonl")" 1500
sq "UPDATE cd SET name = N'changed' WHERE id <= 3" >>"$T/sql.log"
sq "DELETE FROM cd WHERE id = 1500" >>"$T/sql.log"
wait_for 30 cdc_rows 1507
runcap 120 cdc run --once
expect "cdc once again: exit 0" "$RC" 0
expect "cdc once again: every change (CDC has each update)" \
    "$(lines "$T/cdc.jsonl")" 1504
compare "cdc" cdc cd

# 6. auto: a table captured with Change Tracking, then CDC enabled on
# it: the next run captures it with CDC, afresh (positions of the two
# modes do not compare), and the result still equals the source.
mktable am 1 300
mkcfg auto '[{"namespace": "dbo", "stream": "am"}]'
runcap 120 auto run --once
expect "auto, ct: exit 0" "$RC" 0
sq "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo',
    @source_name = N'am', @role_name = NULL" >>"$T/sql.log"
sq "UPDATE am SET name = N'after cdc' WHERE id <= 5" >>"$T/sql.log"
cdc_am()
{
	[ "$(sq "SELECT COUNT(*) FROM cdc.dbo_am_CT")" -ge 10 ]
}
wait_for 30 cdc_am
runcap 120 auto run --once
expect "auto, now cdc: exit 0" "$RC" 0
expect_grep "auto, now cdc: mode change logged" "$T/err" \
    'capture mode changed from ct to cdc'
expect "auto, now cdc: backfilled again" "$(lines "$T/auto.jsonl")" 600
compare "auto, ct then cdc" auto am

finish
