#!/bin/sh
#
# Stress: "mssql-capture run" against the simulator with 4 concurrent
# writers, and kill -9 at random moments.  Tables sct and scdc (id int
# PRIMARY KEY, name nvarchar NULL, amount decimal NULL), STRESS_ROWS
# rows each with NULLs, captured with Change Tracking and with CDC
# (scdc is left out when the server rejects CDC).  The writers
# (python3-tds, one connection each, each bounded by a number of
# changes, a deadline and $T/stop) insert, update (NULLs included),
# update primary keys, delete, and run small multi-statement
# transactions; each owns the keys congruent to its number modulo 4, so
# they never collide.
#  1. Backfill while the writers run: the daemon (run) starts once the
#     writers are running and its backfill must end while they still
#     run; when they have stopped, SIGTERM (exit 0), then run --once
#     (exit 0): the output replayed by key equals the source (SELECT
#     through tsql), and so does the replica; verify exits 0; seq is 1,
#     2, 3, ... with no line twice or torn; each replica journal has
#     no position twice, positions increasing, and holds every change
#     event of the file once.  Snapshot isolation off (READ COMMITTED).
#  2. Same table, a fresh state (smaller chunks), ALLOW_SNAPSHOT_
#     ISOLATION ON, writers running: STRESS_KILLS (20) kill -9,
#     alternately of the supervisor and of a worker (pgrep -P), each a
#     random moment after the output last grew (sooner in the
#     backfill), so they land in the backfill and in streaming; no
#     worker may outlive a killed supervisor; then the writers stop and
#     a final run --once: the same checks as in 1.
#
# Scaled for make check (the whole script takes 25-60 s on two cores):
# the issue's 50,000 rows are kept (a backfill takes about a second),
# but the writers are throttled (a random sleep of up to 20 ms between
# changes) and bounded: STRESS_WRITER_OPS (500) changes each in part 1,
# the length of the kill loop in part 2 (about 1,500 each), instead of
# running flat out; kill delays are 0-0.6 s after the output grew.
# STRESS_ROWS, STRESS_WRITER_OPS, STRESS_KILLS and STRESS_SEED override.
#
# Pinned here: a worker killed (SIGKILL) during a backfill, the
# supervisor still running, is restarted from the last complete cursor;
# the supervisor used to refuse its first watermark ("protocol error:
# watermark goes backwards") until the table was marked failed.  The
# check "the restarted worker is taken back" catches it again.
# Pinned here too: CDC primary-key updates (issue 5), which SQL Server
# logs as a delete and an insert; the daemon used to lose the old key
# (in streaming) or the new row (in the backfill's keyed catch-up), so
# the replay of scdc drifted from the source (t/run_cdc_keys.sh pins it
# deterministically).
# A check that fails because of a known daemon bug is a known_failure
# (STRESS_STRICT=0 turns it into an XFAIL).

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$top_srcdir/t/run_lib.sh"

: "${STRESS_ROWS:=50000}"
: "${STRESS_WRITER_OPS:=500}"
: "${STRESS_KILLS:=20}"
STARTED=$(date +%s)
WRITERS=

"$PYTHON3" -c 'import pytds' 2>/dev/null ||
	skip "$PYTHON3 has no pytds (python3-tds)"

# Also stop the writers on exit (run_cleanup stops the rest).
stress_cleanup()
{
	for _p in $WRITERS; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	run_cleanup
}
trap stress_cleanup EXIT

# A check that fails because of a known, reported daemon bug: a failure,
# or with STRESS_STRICT=0 printed as XFAIL and not counted.
# known_failure DESCRIPTION DETAIL...
known_failure()
{
	if [ "${STRESS_STRICT:-1}" = 1 ]; then
		fail "$@"
		return
	fi
	echo "XFAIL (known bug): $1"
	shift
	for line in "$@"; do
		printf '    %s\n' "$line"
	done
}

sim_start
out=$(sq "ALTER DATABASE $DB SET CHANGE_TRACKING = ON
    (CHANGE_RETENTION = 2 DAYS, AUTO_CLEANUP = ON)")
case $out in
*Msg*)
	skip "the server rejects Change Tracking: $(echo "$out" | tr '\n' ' ')"
	;;
esac
TABLES=sct
BINDINGS='{"namespace": "dbo", "stream": "sct"}'
out=$(sq "EXEC sys.sp_cdc_enable_db")
case $out in
*"Msg "[0-9]*" (severity 1"[0-9]*)
	echo "SKIP: CDC: the server rejects sp_cdc_enable_db:" \
	    "$(echo "$out" | tr '\n' ' ')"
	;;
*)
	TABLES="sct scdc"
	BINDINGS="$BINDINGS"', {"namespace": "dbo", "stream": "scdc",
	    "mode": "cdc"}'
	;;
esac

# Make table NAME with rows 1..STRESS_ROWS, 1000 per statement; every
# 5th name and every 7th amount NULL.
for t in $TABLES; do
	sq "CREATE TABLE $t (id int NOT NULL PRIMARY KEY,
	    name nvarchar(50) NULL, amount decimal(10,2) NULL)" >>"$T/sql.log"
	awk -v t="$t" -v to="$STRESS_ROWS" 'BEGIN {
		for (b = 1; b <= to; b += 1000) {
			printf "INSERT INTO %s VALUES ", t;
			for (i = b; i <= to && i < b + 1000; i++)
				printf "%s(%d, %s, %s)", (i > b ? ", " : ""), i,
				    i % 5 == 0 ? "NULL" : "N'"'"'row " i "'"'"'",
				    i % 7 == 0 ? "NULL" : sprintf("%d.%02d", i, i % 100);
			printf "\ngo\n";
		}
	}' | run_with_timeout 120 tsql -S sim -U "$U" -P "$PW" -D "$DB" \
	    -o qh >>"$T/sql.log" 2>&1
done
# Tracking is enabled after the load: CDC's capture job has nothing to
# harvest for the initial rows, which the backfill copies anyway.
sq "ALTER TABLE sct ENABLE CHANGE_TRACKING" >>"$T/sql.log"
case $TABLES in
*scdc*)
	sq "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo',
	    @source_name = N'scdc', @role_name = NULL" >>"$T/sql.log"
	;;
esac
expect "setup: $STRESS_ROWS rows in sct" \
    "$(sq "SELECT COUNT(*) FROM sct" | tr -d ' \t')" "$STRESS_ROWS"

# The writer: writer.py W SEED SECS OPS TABLE...  Writer W owns the keys
# congruent to W modulo 4 (so that writers never collide on a key), new
# keys from 1000000 up; exits after OPS changes, SECS seconds or when
# $T/stop exists, printing what it did.  A failed statement (none is
# expected) is counted and the writer reloads its keys.
cat >"$T/writer.py" <<'EOF'
import os, random, sys, time
import pytds

host, port, user, pw, db, stop = sys.argv[1:7]
w, seed, secs, maxops = (int(sys.argv[7]), int(sys.argv[8]),
                         float(sys.argv[9]), int(sys.argv[10]))
tables = sys.argv[11:]
NW = 4
deadline = time.time() + secs
rnd = random.Random(seed)
conn = pytds.connect(server=host, port=int(port), user=user, password=pw,
                     database=db, autocommit=True, login_timeout=10,
                     timeout=60)
cur = conn.cursor()
keys, nxt = {}, {}


def resync(t):
    cur.execute("SELECT id FROM %s WHERE id %% %d = %d" % (t, NW, w))
    keys[t] = [r[0] for r in cur.fetchall()]
    top = max(keys[t] + [1000000])
    nxt[t] = top - top % NW + NW + w


for t in tables:
    resync(t)


def values():
    name = "NULL" if rnd.random() < 0.25 else \
        "N'w%d %d'" % (w, rnd.randrange(1000000))
    amount = "NULL" if rnd.random() < 0.25 else \
        "%d.%02d" % (rnd.randrange(-9999, 99999), rnd.randrange(100))
    return name, amount


def one(t):
    """One change to table t, its SQL; keys[t] updated as if it ran."""
    ks = keys[t]
    r = rnd.random()
    if r < 0.3 or not ks:
        k = nxt[t]
        nxt[t] += NW
        ks.append(k)
        counts["insert"] += 1
        return "INSERT INTO %s VALUES (%d, %s, %s)" % ((t, k) + values())
    i = rnd.randrange(len(ks))
    k = ks[i]
    if r < 0.65:
        counts["update"] += 1
        return "UPDATE %s SET name = %s, amount = %s WHERE id = %d" % (
            (t,) + values() + (k,))
    if r < 0.8:
        n = nxt[t]
        nxt[t] += NW
        ks[i] = n
        counts["pkupdate"] += 1
        return "UPDATE %s SET id = %d WHERE id = %d" % (t, n, k)
    ks[i] = ks[-1]
    ks.pop()
    counts["delete"] += 1
    return "DELETE FROM %s WHERE id = %d" % (t, k)


counts = dict(insert=0, update=0, pkupdate=0, delete=0, txn=0, error=0)
ops = 0
while ops < maxops and time.time() < deadline and not os.path.exists(stop):
    if rnd.random() < 0.1:
        # A few changes, to both tables, in one transaction.
        stmts = [one(rnd.choice(tables)) for _ in range(rnd.randint(2, 5))]
        sql = "BEGIN TRANSACTION\n%s\nCOMMIT TRANSACTION" % "\n".join(stmts)
        counts["txn"] += 1
    else:
        stmts = [one(rnd.choice(tables))]
        sql = stmts[0]
    try:
        cur.execute(sql)
    except Exception as e:
        counts["error"] += 1
        print("writer %d: %s: %s" % (w, sql.replace("\n", "; "), e),
              file=sys.stderr)
        try:
            cur.execute("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION")
        except Exception:
            pass
        for t in tables:
            resync(t)
    ops += len(stmts)
    time.sleep(rnd.random() * 0.02)
print("writer %d: %d changes: %s" % (w, ops, " ".join(
    "%s=%d" % kv for kv in sorted(counts.items()))))
EOF

# Start the 4 writers: start_writers NAME SECS (seeds from $SEED).
start_writers()
{
	rm -f "$T/stop"
	WRITERS=
	for w in 0 1 2 3; do
		run_with_timeout $(($2 + 30)) "$PYTHON3" "$T/writer.py" \
		    "$HOST" "$PORT" "$U" "$PW" "$DB" "$T/stop" "$w" \
		    "$((SEED + w))" "$2" "$STRESS_WRITER_OPS" $TABLES \
		    >"$T/$1.w$w.out" 2>"$T/$1.w$w.err" &
		WRITERS="$WRITERS $!"
	done
}

# Are writers still running?
writers_running()
{
	for _p in $WRITERS; do
		kill -0 "$_p" 2>/dev/null && return 0
	done
	return 1
}

# Stop the writers and check that each ran without an error:
# stop_writers NAME.
stop_writers()
{
	[ "$2" != now ] || touch "$T/stop"
	_bad=
	for _p in $WRITERS; do
		wait "$_p" || _bad="$_bad $_p"
	done
	WRITERS=
	cat "$T/$1".w?.out
	if [ -z "$_bad" ] && ! grep -q . "$T/$1".w?.err &&
	    [ "$(cat "$T/$1".w?.out | grep -c ' error=0 ')" = 4 ]; then
		pass "$1: 4 writers ran without an error"
	else
		fail "$1: 4 writers ran without an error" \
		    "$(head -c 1500 "$T/$1".w?.err)"
	fi
}

# CDC only: wait until the capture job has harvested everything so far
# (a marker row inserted now shows up in the change table), so that
# run --once, which stops at the max LSN harvested, sees it all.
cdc_settle()
{
	case $TABLES in
	*scdc*) ;;
	*) return 0 ;;
	esac
	sq "INSERT INTO scdc VALUES ($1, N'marker', NULL)" >>"$T/sql.log"
	if wait_for 30 sh -c "[ \"\$(printf 'SELECT COUNT(*) FROM \
cdc.dbo_scdc_CT WHERE id = $1\ngo\n' | tsql -S sim -U '$U' -P '$PW' \
-D $DB -o qh 2>/dev/null | tr -d ' \t')\" -ge 1 ]"; then
		return 0
	fi
	fail "cdc: the capture job did not harvest the marker $1"
}

# The checks after a final run --once: check_all NAME.
check_all()
{
	for t in $TABLES; do
		compare "$1: $t" "$1" "$t"
	done
	verify_equal "$1" "$1"
	# Every line whole, seq 1, 2, 3, ... (so none twice, none lost).
	if "$PYTHON3" - "$T/$1.jsonl" >"$T/seq.err" 2>&1 <<'EOF'
import json, sys
data = open(sys.argv[1], "rb").read()
if data and not data.endswith(b"\n"):
    sys.exit("the file ends with a partial line")
seqs = [json.loads(l)["_meta"]["seq"] for l in data.splitlines()]
if seqs != list(range(1, len(seqs) + 1)):
    bad = next(i for i, s in enumerate(seqs) if s != i + 1)
    sys.exit("line %d has seq %d" % (bad + 1, seqs[bad]))
print(len(seqs), "lines")
EOF
	then
		pass "$1: seq strictly increasing by 1 from 1 ($(cat "$T/seq.err"))"
	else
		fail "$1: seq strictly increasing by 1 from 1" "$(cat "$T/seq.err")"
	fi
	# Each journal: exactly the events of its table in the file, in
	# the same order (op, snapshot, id), no position twice, positions
	# increasing in append order.
	for t in $TABLES; do
		if "$PYTHON3" - "$T/$1.replica.db" "$DB" "$t" "$T/$1.jsonl" \
		    >"$T/journal.err" 2>&1 <<'EOF'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
j = "%s_dbo.%s_journal" % (sys.argv[2], sys.argv[3])
ev = [json.loads(l) for l in open(sys.argv[4])]
ev = [e for e in ev if e["_meta"]["source"]["table"] == sys.argv[3]]
fl = [(e["_meta"]["op"], int(e["_meta"]["source"]["snapshot"]), e["id"])
      for e in ev]
jl = list(c.execute('SELECT _op, _snapshot, id FROM "%s" ORDER BY _seq' % j))
ev = [e["_meta"] for e in ev]
lines = sum(1 for m in ev if not m["source"]["snapshot"])
snap = len(ev) - lines
n = c.execute('SELECT count(*) FROM "%s" WHERE _snapshot = 0' % j).fetchone()[0]
nsnap = c.execute('SELECT count(*) FROM "%s" WHERE _snapshot = 1'
                  % j).fetchone()[0]
dups = c.execute('SELECT hex(_pos), count(*) FROM "%s" GROUP BY _pos '
                 'HAVING count(*) > 1 LIMIT 5' % j).fetchall()
pos = [p for p, in c.execute('SELECT _pos FROM "%s" ORDER BY _seq' % j)]
back = [i for i in range(1, len(pos)) if pos[i] <= pos[i - 1]][:5]
print("journal: %d change events, %d snapshot rows; file: %d change "
      "events, %d snapshot rows" % (n, nsnap, lines, snap))
if dups or back or n != lines:
    sys.exit("positions twice: %r; not increasing at journal rows %r"
             % (dups, back))
if jl != fl:
    i = next((i for i in range(min(len(jl), len(fl))) if jl[i] != fl[i]),
             min(len(jl), len(fl)))
    sys.exit("journal and file differ at event %d of the table: journal "
             "%r, file %r" % (i + 1, jl[i:i + 3], fl[i:i + 3]))
EOF
		then
			pass "$1: $t: journal: no position twice, each change once"
			sed 's/^/    /' "$T/journal.err"
		else
			fail "$1: $t: journal: no position twice, each change once" \
			    "$(cat "$T/journal.err")"
		fi
	done
}

# 1. Backfill with 4 writers running, then run --once.
SEED=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
echo "seed $SEED (STRESS_SEED to repeat)"
SEED=${STRESS_SEED:-$SEED}
mkcfg conc "[$BINDINGS]"
start_writers conc 30
sleep 0.5
runbg conc run
# The backfill must overlap the writers.
if wait_for 60 sh -c "[ \$(grep -c 'backfill done' '$T/bg.err') \
    -ge $(echo $TABLES | wc -w) ]" && writers_running; then
	pass "concurrent: backfill completed while the writers ran"
else
	fail "concurrent: backfill completed while the writers ran" \
	    "$(tail -5 "$T/bg.err")"
fi
stop_writers conc
kill -TERM "$DAEMON_PID"
waitbg 30
expect "concurrent: SIGTERM: exit 0" "$RC" 0
cp "$T/bg.err" "$T/conc.bg.err"
cdc_settle -1
runcap 120 conc run --once
expect "concurrent: run --once exits 0" "$RC" 0
check_all conc
echo "phase 1 done after $(($(date +%s) - STARTED)) s"

# 2. 20 kill -9, supervisor and workers alternately, writers running.
sq "ALTER DATABASE $DB SET ALLOW_SNAPSHOT_ISOLATION ON" >>"$T/sql.log"
mkcfg kill "[$BINDINGS]"
# Smaller chunks: a longer backfill, for more kills to land in it.
sed -i 's/"backfill_chunk_size": 500/"backfill_chunk_size": 200/' \
    "$T/kill.json"
: >"$T/kill.log"
STRESS_WRITER_OPS=100000 start_writers kill 60
SEED=$((SEED + 100))
i=1
n=0
grown=0
while [ "$i" -le "$STRESS_KILLS" ] && [ "$n" -lt $((STRESS_KILLS * 2)) ]; do
	n=$((n + 1))
	if [ -z "$DAEMON_PID" ]; then
		runbg kill run
	fi
	# A random moment once the output grew since the last kill.
	before=$(lines "$T/kill.jsonl")
	wait_for 20 sh -c "[ \$(wc -l 2>/dev/null <'$T/kill.jsonl' || \
	    echo 0) -gt $before ] || ! kill -0 $DAEMON_PID 2>/dev/null"
	if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		# It exited by itself (every table failed): start it again.
		waitbg 10
		cat "$T/bg.err" >>"$T/kill.bg.err"
		echo "daemon exited by itself with status $RC" | tee -a "$T/kill.log"
		continue
	fi
	[ "$(lines "$T/kill.jsonl")" -le "$before" ] || grown=$((grown + 1))
	# Soon in the backfill (it is short), later when streaming.
	phases=$(sqlite3 "$T/kill.state.db" \
	    "SELECT group_concat(phase, ',') FROM tables" 2>/dev/null)
	case $phases in
	*backfill*) max=15 ;;
	*) max=60 ;;
	esac
	sleep "0.$(od -An -N1 -tu1 /dev/urandom |
	    awk -v m=$max '{ printf "%02d", $1 % m }')"
	if [ $((i % 2)) -eq 1 ]; then
		what="supervisor $DAEMON_PID"
		kill -9 "$DAEMON_PID"
		waitbg 10
		[ "$RC" = 137 ] || what="$what (already gone: status $RC)"
		cat "$T/bg.err" >>"$T/kill.bg.err"
	else
		wpid=$(pgrep -P "$DAEMON_PID" | shuf -n 1)
		what="worker ${wpid:-none}"
		[ -z "$wpid" ] || kill -9 "$wpid"
	fi
	echo "kill $i: $what at $(lines "$T/kill.jsonl") lines, phases $phases" |
	    tee -a "$T/kill.log"
	i=$((i + 1))
done
expect "kill -9: $STRESS_KILLS kills" "$((i - 1))" "$STRESS_KILLS"
if [ -n "$DAEMON_PID" ]; then
	kill -9 "$DAEMON_PID"
	waitbg 10
	cat "$T/bg.err" >>"$T/kill.bg.err"
fi
expect "kill -9: the output grew between each two kills" "$grown" \
    "$STRESS_KILLS"
# A worker restarted by a running supervisor must be taken back: known
# bug, a restart during the backfill is refused ("watermark goes
# backwards") until the table is marked failed; see the top.
if grep -q 'protocol error\|marked failed' "$T/kill.bg.err"; then
	known_failure "kill -9 of a worker: the restarted worker is taken back" \
	    "$(grep -m 3 'protocol error\|marked failed' "$T/kill.bg.err")"
else
	pass "kill -9 of a worker: the restarted worker is taken back"
fi
# Where the kills landed (timing decides; not a check).
echo "phases at the kills: $(sed -n 's/^kill .*phases //p' "$T/kill.log" |
    sort | uniq -c | tr '\n' ' ')"
stop_writers kill now
# Orphaned workers (of a killed supervisor) must have gone.
sleep 0.5
orphans=$(pgrep -f "$T/kill.json" | tr '\n' ' ')
expect "kill -9: no worker outlived its supervisor" "$orphans" ""
cdc_settle -2
runcap 120 kill run --once
expect "kill -9: final run --once exits 0" "$RC" 0
cp "$T/err" "$T/kill.once.err"
check_all kill
if [ "$T_FAILED" -gt 0 ]; then
	echo "--- daemon log of the kill phase (tail)"
	tail -40 "$T/kill.bg.err"
	echo "--- final run --once"
	tail -20 "$T/kill.once.err"
fi
echo "done after $(($(date +%s) - STARTED)) s"

finish
