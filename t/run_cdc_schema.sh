#!/bin/sh
#
# CDC schema changes (issue 5; SQLSERVER.md §2.6, §2.9) and the commit
# time of CDC events.  After ALTER TABLE a capture instance keeps its
# column set (an added column is not captured, a dropped one is NULL);
# the DBA creates a second instance and later disables the old one.
# The worker used to read only the instance it found when it started:
# it never saw the new column, and once the old instance was disabled
# it failed and, restarted, found its cursor below the new instance's
# start and backfilled the table again.  It must hand over at the new
# instance's start_lsn S (the old instance below S, the new one from
# S on: nothing lost or twice), send the new columns, and backfill
# only when the old instance was disabled before the cursor reached S.
# Also: "ts" of a CDC event is its transaction's commit time
# (cdc.lsn_time_mapping.tran_end_time), not the time it was read.
#
#  1. ts: a change committed, run --once 2 seconds later: ts is the
#     commit time in UTC (the simulator runs at UTC+05:30), a backfill
#     row's the time it was read.
#  2. ADD COLUMN, streaming: changes before and after the ALTER, the
#     second instance, changes, the old instance disabled, changes;
#     the switch is logged, events from S on carry the new column
#     and those before do not, every change is there once in position
#     order, and the replay, the replica (with the new column) and
#     verify equal the source.
#  3. DROP COLUMN, run --once: a third instance while the second is
#     read; run --once hands over within one run; the replica keeps
#     the dropped column as <col>__deleted.
#  4. The old instance disabled while the worker (stopped) had not
#     reached S: the log says so and the table is backfilled again.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$top_srcdir/t/run_lib.sh"

"$PYTHON3" -c 'import sqlite3' 2>/dev/null ||
	skip "$PYTHON3 has no sqlite3"

# A server whose local time is not UTC: tran_end_time is local time.
[ -n "$MSSQL_TEST_ADDRESS" ] || { TZ=Asia/Kolkata; export TZ; }
sim_start
out=$(sq "EXEC sys.sp_cdc_enable_db")
case $out in
*"Msg "[0-9]*" (severity 1"[0-9]*)
	skip "the server rejects sp_cdc_enable_db: $(echo "$out" | tr '\n' ' ')"
	;;
esac
sq "CREATE TABLE s (id int NOT NULL PRIMARY KEY, name nvarchar(50) NULL,
    amount decimal(10,2) NULL)" >"$T/create.log"
rows=
for i in $(seq 1 20); do
	rows="$rows${rows:+, }($i, N'row $i', $i.50)"
done
sq "INSERT INTO s VALUES $rows
EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N's',
    @role_name = NULL" >>"$T/create.log"
BINDINGS='[{"namespace": "dbo", "stream": "s", "mode": "cdc"}]'

# Enable a capture instance of s: instance NAME.
instance()
{
	sq "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo',
    @source_name = N's', @role_name = NULL, @capture_instance = N'$1'" \
	    >>"$T/sql.log"
}

# Disable one: disable NAME.
disable()
{
	sq "EXEC sys.sp_cdc_disable_table @source_schema = N'dbo',
    @source_name = N's', @capture_instance = N'$1'" >>"$T/sql.log"
}

# The source, columns COLS (comma-separated): source COLS.
source()
{
	sq "SELECT $1 FROM s ORDER BY id"
}

# Replay an output file by key: replay_cols FILE COLS, printed like
# source; fails if seq is not 1, 2, 3, ..., an event is there twice,
# or the table's positions do not increase (snapshot rows aside).
# Columns an event does not carry keep their value (as in the
# replica).
replay_cols()
{
	"$PYTHON3" - "$1" "$2" <<'EOF'
import json, sys
rows, seen, want, last = {}, set(), 1, None
for line in open(sys.argv[1]):
    d = json.loads(line)
    m = d["_meta"]
    s = m["source"]
    if m["seq"] != want:
        sys.exit("seq %d where %d was expected" % (m["seq"], want))
    want += 1
    ident = (d["id"], s["lsn"], s["seqval"], s["snapshot"], m["op"])
    if ident in seen:
        sys.exit("duplicate event %r" % (ident,))
    seen.add(ident)
    pos = (s["lsn"], s["seqval"])
    if not s["snapshot"]:
        if last is not None and pos <= last:
            sys.exit("position %r after %r" % (pos, last))
        last = pos
    if m["op"] == "d":
        rows.pop(d["id"], None)
    elif s["snapshot"]:
        rows[d["id"]] = d
    else:
        rows.setdefault(d["id"], {}).update(d)
def show(v):
    return "NULL" if v is None else str(v)
cols = sys.argv[2].split(",")
for k in sorted(rows):
    print("\t".join(show(rows[k].get(c)) for c in cols))
EOF
}

# The live rows of the replica, columns COLS: replica_cols DB COLS.
replica_cols()
{
	"$PYTHON3" - "$1" "$DB" "$2" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
cols = sys.argv[3].split(",")
for r in c.execute('SELECT %s FROM "%s_dbo.s" WHERE _deleted = 0 '
                   'ORDER BY id' % (", ".join('"%s"' % x for x in cols),
                                    sys.argv[2])):
    print("\t".join("NULL" if v is None else str(v) for v in r))
EOF
}

# Output, replica and verify equal the source: converge NAME COLS.
converge()
{
	source "$2" >"$T/src.txt"
	if replay_cols "$T/$1.jsonl" "$2" >"$T/replay.txt" 2>"$T/replay.err" &&
	    cmp -s "$T/src.txt" "$T/replay.txt"; then
		pass "$1: output replayed equals the source ($2)"
	else
		fail "$1: output replayed equals the source ($2)" \
		    "$(cat "$T/replay.err")" \
		    "$(diff "$T/src.txt" "$T/replay.txt" | head -10)"
	fi
	replica_cols "$T/$1.replica.db" "$2" >"$T/replica.txt" 2>&1
	if cmp -s "$T/src.txt" "$T/replica.txt"; then
		pass "$1: replica equals the source ($2)"
	else
		fail "$1: replica equals the source ($2)" \
		    "$(diff "$T/src.txt" "$T/replica.txt" | head -10)"
	fi
	verify_equal "$1" "$1"
}

# The events of table s after line N of FILE, one line each:
# "op id snap|log has-COLUMN", events FILE N COLUMN.
events()
{
	"$PYTHON3" - "$1" "$2" "$3" <<'EOF'
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    d = json.loads(line)
    s = d["_meta"]["source"]
    if i >= int(sys.argv[2]):
        print(d["_meta"]["op"], d["id"], "snap" if s["snapshot"] else "log",
              "with" if sys.argv[3] in d else "without")
EOF
}

# The value of field F of the event of id ID with op OP in FILE:
# field FILE OP ID F (the last such event).
field()
{
	"$PYTHON3" - "$@" <<'EOF'
import json, sys
v = "none"
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["_meta"]["op"] == sys.argv[2] and d["id"] == int(sys.argv[3]):
        v = d.get(sys.argv[4], "absent")
        if sys.argv[4] == "ts":
            v = d["_meta"]["source"]["ts"]
print(v)
EOF
}

# Wait until FILE holds an event OP of id ID: wait_event FILE OP ID.
wait_event()
{
	wait_for 60 sh -c "grep -q '\"op\":\"$2\".*\"id\":$3[,}]' '$1' \
2>/dev/null" || fail "the event $2 $3 reaches the output" \
	    "$(tail -5 "$T/bg.err")"
}

# 1. ts is the commit time.
mkcfg stream "$BINDINGS"
runcap 60 stream run --once
expect "backfill: run --once exits 0" "$RC" 0
sq "UPDATE s SET name = N'committed' WHERE id = 1" >>"$T/sql.log"
# The commit time as the server has it (local time), in UTC.
wait_for 30 sh -c "[ -n \"\$(printf 'SELECT 1 FROM cdc.dbo_s_CT WHERE \
name = N%scommitted%s\\ngo\\n' \"'\" \"'\" | tsql -S sim -U '$U' -P '$PW' \
-D $DB -o qh 2>/dev/null)\" ]" || fail "the change is harvested"
commit=$(sq "SELECT CONVERT(varchar(23), DATEADD(minute,
    -DATEPART(TZOFFSET, SYSDATETIMEOFFSET()),
    sys.fn_cdc_map_lsn_to_time(__\$start_lsn)), 126)
FROM cdc.dbo_s_CT WHERE name = N'committed' AND __\$operation = 4" |
    tr -d ' \t')
sleep 2
runcap 60 stream run --once
expect "ts: run --once exits 0" "$RC" 0
expect "ts: a CDC event's ts is its commit time (tran_end_time in UTC)" \
    "$(field "$T/stream.jsonl" u 1 ts)" "${commit}Z"
bts=$(field "$T/stream.jsonl" c 2 ts)
if [ "$(printf '%s\n%s\n' "$bts" "${commit}Z" | sort | head -1)" = "$bts" ] &&
    [ "$bts" != "${commit}Z" ]; then
	pass "ts: a backfill row's ts is its read time, before the commit"
else
	fail "ts: a backfill row's ts is its read time, before the commit" \
	    "backfill: $bts, commit: ${commit}Z"
fi

# 2. ADD COLUMN, streaming.
n0=$(lines "$T/stream.jsonl")
runbg stream run
wait_for 30 grep -q 'reading capture instance dbo_s' "$T/bg.err" ||
	fail "stream: the worker reads dbo_s" "$(tail -5 "$T/bg.err")"
sq "UPDATE s SET name = N'before alter' WHERE id = 2
INSERT INTO s VALUES (21, N'row 21', 21.00)" >>"$T/sql.log"
sq "ALTER TABLE s ADD extra int NULL" >>"$T/sql.log"
sq "INSERT INTO s VALUES (22, N'row 22', 22.00, NULL)
INSERT INTO s VALUES (23, N'row 23', 23.00, 7)
UPDATE s SET amount = 5 WHERE id = 3" >>"$T/sql.log"
wait_event "$T/stream.jsonl" u 3
instance dbo_s_v2
sq "INSERT INTO s VALUES (24, N'row 24', 24.00, 24)
UPDATE s SET extra = 4 WHERE id = 4
UPDATE s SET name = N'touched' WHERE id = 23
DELETE FROM s WHERE id = 5" >>"$T/sql.log"
wait_event "$T/stream.jsonl" d 5
disable dbo_s
sq "INSERT INTO s VALUES (25, N'row 25', 25.00, 25)
UPDATE s SET extra = 6 WHERE id = 6" >>"$T/sql.log"
wait_event "$T/stream.jsonl" u 6
kill -TERM "$DAEMON_PID"
waitbg 30
expect "stream: SIGTERM: exit 0" "$RC" 0
cp "$T/bg.err" "$T/stream.err"
expect_grep "stream: the switch is logged" "$T/stream.err" \
    'switching from capture instance dbo_s to dbo_s_v2 at LSN [0-9A-F:]*,.*columns captured now: extra'
expect_grep "stream: with the DDL behind it" "$T/stream.err" \
    'cdc.ddl_history of dbo_s: ALTER TABLE .*ADD'
if grep -q 'backfilling\|marked failed\|protocol error' "$T/stream.err"; then
	fail "stream: no backfill, no failure" \
	    "$(grep -m 3 'backfilling\|marked failed\|protocol error' \
	    "$T/stream.err")"
else
	pass "stream: no backfill, no failure"
fi
expect "stream: every change once; extra from the new instance on" \
    "$(events "$T/stream.jsonl" "$n0" extra | tr '\n' ' ')" \
    "u 2 log without c 21 log without c 22 log without c 23 log without \
u 3 log without c 24 log with u 4 log with u 23 log with d 5 log with \
c 25 log with u 6 log with "
expect "stream: a value set before the new instance shows with the \
row's next change" "$(field "$T/stream.jsonl" u 23 extra)" 7
converge stream id,name,amount,extra

# 3. DROP COLUMN, run --once.
sq "ALTER TABLE s DROP COLUMN amount" >>"$T/sql.log"
sq "UPDATE s SET name = N'after drop' WHERE id = 7" >>"$T/sql.log"
instance dbo_s_v3
sq "UPDATE s SET name = N'in v3' WHERE id = 8
INSERT INTO s VALUES (26, N'row 26', 26)" >>"$T/sql.log"
n1=$(lines "$T/stream.jsonl")
wait_for 30 sh -c "[ -n \"\$(printf 'SELECT 1 FROM cdc.dbo_s_v3_CT WHERE \
id = 26\\ngo\\n' | tsql -S sim -U '$U' -P '$PW' -D $DB -o qh \
2>/dev/null)\" ]" || fail "the change is harvested"
runcap 60 stream run --once
expect "once: run --once exits 0" "$RC" 0
expect_grep "once: the switch is logged" "$T/err" \
    'switching from capture instance dbo_s_v2 to dbo_s_v3.*no longer: amount'
expect "once: every change once, in one run; amount gone" \
    "$(events "$T/stream.jsonl" "$n1" amount | tr '\n' ' ')" \
    "u 7 log without u 8 log without c 26 log without "
disable dbo_s_v2
converge stream id,name,extra
expect "once: the replica keeps the dropped column as amount__deleted" \
    "$("$PYTHON3" -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT amount__deleted FROM \"%s_dbo.s\" WHERE id = 9"
                % sys.argv[2]).fetchone()[0])' "$T/stream.replica.db" "$DB")" \
    "9.50"

# 4. The old instance disabled before the worker reached S.
runbg stream run
wait_for 30 grep -q 'reading capture instance dbo_s_v3' "$T/bg.err" ||
	fail "lost: the worker reads dbo_s_v3" "$(tail -5 "$T/bg.err")"
workers=$(pgrep -P "$DAEMON_PID" | tr '\n' ' ')
[ -z "$workers" ] || kill -STOP $workers
sq "UPDATE s SET name = N'lost 1' WHERE id = 10" >>"$T/sql.log"
instance dbo_s_v4
sq "UPDATE s SET name = N'in v4' WHERE id = 11" >>"$T/sql.log"
disable dbo_s_v3
[ -z "$workers" ] || kill -CONT $workers
wait_for 60 grep -q 'backfill done' "$T/bg.err" ||
	fail "lost: the table is backfilled again" "$(tail -5 "$T/bg.err")"
kill -TERM "$DAEMON_PID"
waitbg 30
expect "lost: SIGTERM: exit 0" "$RC" 0
expect_grep "lost: the log names the disabled instance" "$T/bg.err" \
    'capture instance dbo_s_v3, which this table was read from, was disabled before the changes from LSN [0-9A-F:]* up to [0-9A-F:]*, where dbo_s_v4 starts'
converge stream id,name,extra

finish
