#!/bin/sh
#
# CDC primary-key updates (issue 5), deterministic.  SQL Server logs an
# UPDATE that changes the primary key (the clustered key) as a delete
# of the old row and an insert of the new one (operations 1 and 2), and
# one that changes a primary key which is not the clustered key as an
# update pair (3/4) whose keys differ (t/sim_cdc.py "key updates").
# The daemon used to emit the pair as one update of the new key, so the
# old key was never deleted downstream, and in the backfill's keyed
# catch-up ("key <= K") the server could keep the 3 and drop the 4
# ("key column id is absent").  Tables k (clustered primary key) and kc
# (nonclustered primary key, clustered on c), rows 1..KEYS_ROWS:
#  1. Streaming: after a backfill, key updates (multi-row, singleton,
#     with a value change); the output has a delete of each old key
#     then an insert of its new key (for kc: at the 3's and the 4's
#     positions), in position order, and the replay, the replica and
#     verify equal the source.
#  2. Backfill catch-up: a fresh state with 2-row chunks; the workers
#     are stopped (SIGSTOP) in the backfill at last key K, keys are
#     moved across K and on either side of it, then they go on: the
#     old keys at or below K are deleted by the catch-up (not a
#     snapshot), the new keys at or below K are inserted by it, a key
#     moved from above K to above K is only ever a snapshot row, and a
#     row moved from above K to below it is never copied under its old
#     key; then run --once and the same checks as in 1.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$top_srcdir/t/run_lib.sh"

: "${KEYS_ROWS:=3000}"

"$PYTHON3" -c 'import sqlite3' 2>/dev/null ||
	skip "$PYTHON3 has no sqlite3"

sim_start
out=$(sq "EXEC sys.sp_cdc_enable_db")
case $out in
*"Msg "[0-9]*" (severity 1"[0-9]*)
	skip "the server rejects sp_cdc_enable_db: $(echo "$out" | tr '\n' ' ')"
	;;
esac
sq "CREATE TABLE k (id int NOT NULL PRIMARY KEY, name nvarchar(50) NULL,
    amount decimal(10,2) NULL)
CREATE TABLE kc (id int NOT NULL, name nvarchar(50) NULL,
    amount decimal(10,2) NULL, c int NOT NULL,
    CONSTRAINT kc_c UNIQUE CLUSTERED (c))
ALTER TABLE kc ADD CONSTRAINT kc_pk PRIMARY KEY NONCLUSTERED (id)" \
    >"$T/create.log"
for t in k kc; do
	extra=
	[ "$t" = kc ] && extra=c
	awk -v t="$t" -v to="$KEYS_ROWS" -v extra="$extra" 'BEGIN {
		for (b = 1; b <= to; b += 500) {
			printf "INSERT INTO %s VALUES ", t;
			for (i = b; i <= to && i < b + 500; i++)
				printf "%s(%d, N'"'"'row %d'"'"', %d.%02d%s)",
				    (i > b ? ", " : ""), i, i, i, i % 100,
				    extra == "" ? "" : ", " i;
			printf "\ngo\n";
		}
	}' | run_with_timeout 120 tsql -S sim -U "$U" -P "$PW" -D "$DB" \
	    -o qh >>"$T/create.log" 2>&1
	sq "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo',
	    @source_name = N'$t', @role_name = NULL" >>"$T/create.log"
done
expect "setup: $KEYS_ROWS rows in kc" \
    "$(sq "SELECT COUNT(*) FROM kc" | tr -d ' \t')" "$KEYS_ROWS"
BINDINGS='[{"namespace": "dbo", "stream": "k", "mode": "cdc"},
    {"namespace": "dbo", "stream": "kc", "mode": "cdc"}]'

# Wait until the capture job has harvested every change so far (a
# marker update of row KEYS_ROWS of each table shows in its change
# table): harvest N.
harvest()
{
	sq "UPDATE k SET name = N'marker $1' WHERE id = $KEYS_ROWS
UPDATE kc SET name = N'marker $1' WHERE id = $KEYS_ROWS" >>"$T/sql.log"
	for t in k kc; do
		wait_for 30 sh -c "[ \"\$(printf \"SELECT COUNT(*) FROM \
cdc.dbo_${t}_CT WHERE name = N'marker $1'\\ngo\\n\" | tsql -S sim \
-U '$U' -P '$PW' -D $DB -o qh 2>/dev/null | tr -d ' \t')\" -ge 1 ]" ||
			fail "the capture job did not harvest marker $1 of $t"
	done
}

# The events of a table after line N of an output file, one
# "op id snapshot" line each: events FILE TABLE N.
events()
{
	"$PYTHON3" - "$1" "$2" "$3" <<'EOF'
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    d = json.loads(line)
    s = d["_meta"]["source"]
    if i >= int(sys.argv[3]) and s["table"] == sys.argv[2]:
        print(d["_meta"]["op"], d["id"], "snap" if s["snapshot"] else "log")
EOF
}

# Positions (lsn, seqval) of the events of a table after line N,
# strictly increasing: check_order NAME FILE TABLE N.
check_order()
{
	if "$PYTHON3" - "$2" "$3" "$4" >"$T/order.err" 2>&1 <<'EOF'
import json, sqlite3, sys
pos = []
for i, line in enumerate(open(sys.argv[1])):
    s = json.loads(line)["_meta"]["source"]
    if i >= int(sys.argv[3]) and s["table"] == sys.argv[2]:
        pos.append((s["lsn"], s["seqval"]))
bad = [i for i in range(1, len(pos)) if pos[i] < pos[i - 1]]
if bad:
    sys.exit("positions go back at events %r: %r" % (bad[:3], pos[:8]))
EOF
	then
		pass "$1: $3: events in position order"
	else
		fail "$1: $3: events in position order" "$(cat "$T/order.err")"
	fi
}

# Replay, replica and verify equal the source: converge NAME.
converge()
{
	for t in k kc; do
		compare "$1: $t" "$1" "$t"
	done
	verify_equal "$1" "$1"
}

# 1. Streaming.
mkcfg stream "$BINDINGS"
runcap 120 stream run --once
expect "stream: backfill: run --once exits 0" "$RC" 0
n0=$(lines "$T/stream.jsonl")
sq "UPDATE k SET id = id + 100000 WHERE id <= 2
UPDATE k SET id = 100003, name = N'moved' WHERE id = 3
UPDATE kc SET id = id + 100000 WHERE id <= 2
UPDATE kc SET id = 100003, name = N'moved' WHERE id = 3
UPDATE k SET name = N'same key' WHERE id = 4" >>"$T/sql.log"
harvest 1
runcap 120 stream run --once
expect "stream: run --once exits 0" "$RC" 0
expect "stream: k: delete 1, 2, insert 100001, 100002; delete 3, insert \
100003; an update keeps its key" "$(events "$T/stream.jsonl" k "$n0" |
    tr '\n' ' ')" "d 1 log d 2 log c 100001 log c 100002 log d 3 log \
c 100003 log u 4 log u $KEYS_ROWS log "
expect "stream: kc (update pairs with two keys): delete then insert, \
per row" "$(events "$T/stream.jsonl" kc "$n0" | tr '\n' ' ')" \
    "d 1 log c 100001 log d 2 log c 100002 log d 3 log c 100003 log \
u $KEYS_ROWS log "
expect "stream: kc: the insert carries the new values" \
    "$("$PYTHON3" -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["_meta"]["source"]["table"] == "kc" and d["id"] == 100003:
        print(d["_meta"]["op"], d["name"], d["c"])
' "$T/stream.jsonl")" "c moved 3"
for t in k kc; do
	check_order stream "$T/stream.jsonl" "$t" "$n0"
done
converge stream

# 2. The backfill's keyed catch-up.
mkcfg catch "$BINDINGS"
sed -i 's/"backfill_chunk_size": 500/"backfill_chunk_size": 2/' \
    "$T/catch.json"
runbg catch run
wait_for 60 sh -c "[ \$(cat '$T/catch.jsonl' 2>/dev/null |
    grep -c '\"table\":\"kc\"') -ge 20 ] && [ \$(cat '$T/catch.jsonl' \
    2>/dev/null | grep -c '\"table\":\"k\"') -ge 20 ]"
workers=$(pgrep -P "$DAEMON_PID" | tr '\n' ' ')
[ -z "$workers" ] || kill -STOP $workers
# K (per table) is at least the last key in the file, at most a few
# chunks more: keys 10 and 5 are at or below it, 2990 and up above it.
for t in k kc; do
	kmin=$(events "$T/catch.jsonl" "$t" 0 | awk '$3 == "snap" { k = $2 }
	    END { print k + 0 }')
	if [ "$kmin" -ge 10 ] && [ "$kmin" -lt 2500 ]; then
		pass "catch: $t: stopped in the backfill (K >= $kmin)"
	else
		fail "catch: $t: stopped in the backfill at 10 <= K < 2500" \
		    "last key in the output: $kmin"
	fi
done
n1=$(lines "$T/catch.jsonl")
for t in k kc; do
	sq "UPDATE $t SET id = 200010 WHERE id = 10
UPDATE $t SET id = -2990 WHERE id = 2990
UPDATE $t SET id = id + 200000 WHERE id IN (2991, 2992)
UPDATE $t SET id = -5 WHERE id = 5" >>"$T/sql.log"
done
harvest 2
[ -z "$workers" ] || kill -CONT $workers
wait_for 120 sh -c "[ \$(grep -c 'backfill done' '$T/bg.err') -ge 2 ]" ||
	fail "catch: the backfill ends" "$(tail -5 "$T/bg.err")"
kill -TERM "$DAEMON_PID"
waitbg 30
expect "catch: SIGTERM: exit 0" "$RC" 0
cp "$T/bg.err" "$T/catch.bg.err"
if grep -q 'is absent\|marked failed\|protocol error' "$T/catch.bg.err"; then
	fail "catch: no worker error" \
	    "$(grep -m 3 'is absent\|marked failed\|protocol error' \
	    "$T/catch.bg.err")"
else
	pass "catch: no worker error"
fi
runcap 120 catch run --once
expect "catch: run --once exits 0" "$RC" 0
# SIGTERM may leave events a worker sent unwritten (their cursor not
# durable either): run --once has them.
for t in k kc; do
	events "$T/catch.jsonl" "$t" "$n1" >"$T/catch.$t.ev"
	expect "catch: $t: old key 10 <= K deleted by the catch-up, once" \
	    "$(grep -c '^d 10 log$' "$T/catch.$t.ev")" 1
	expect "catch: $t: new key -2990 <= K inserted by the catch-up" \
	    "$(grep -c '^c -2990 log$' "$T/catch.$t.ev")" 1
	expect "catch: $t: 5 -> -5 (both <= K): delete and insert" \
	    "$(grep -c '^d 5 log$\|^c -5 log$' "$T/catch.$t.ev")" 2
	expect "catch: $t: 200010 (from <= K to > K): a snapshot row only" \
	    "$(grep ' 200010 ' "$T/catch.$t.ev" | tr '\n' ' ')" "c 200010 snap "
	expect "catch: $t: 2991 -> 202991 (> K to > K): a snapshot row only" \
	    "$(grep ' 2991 \| 202991 ' "$T/catch.$t.ev" | tr '\n' ' ')" \
	    "c 202991 snap "
	expect "catch: $t: 2990 (moved below K before it was copied): \
never sent" "$(grep -c ' 2990 ' "$T/catch.$t.ev")" 0
	check_order catch "$T/catch.jsonl" "$t" 0
done
converge catch

finish
