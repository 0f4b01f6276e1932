#!/bin/sh
#
# End-to-end pipeline benchmark of mssql-capture against mssqlsim, all
# figures from one run so that they compare.  Not part of make check.
#
#	t/bench/pipeline.sh [BUILDDIR]	(default: the source top)
#
# 1. Backfill: a Change Tracking table of ROWS (default 1,000,000) rows
#    x 10 mixed columns (the shape of t/bench/sim_bcp.sh, loaded the
#    same way with "freebcp in"), then, against the same simulator and
#    table, "freebcp bf.dbo.t out FILE -c" and "mssql-capture run --once"
#    to a JSON-lines file (no replica, fresh state) are timed; rows/s of
#    each and their ratio are printed, with the CPU seconds of mssqlsim,
#    the supervisor and the worker.
# 2. RSS: peak RSS (VmHWM, sampled from /proc every 0.2 s) of the
#    supervisor and of the worker (its child, "-P worker") during that
#    backfill; then the table is grown to ROWS2 rows (default 4,000,000)
#    and both are measured again.  The whole run takes about 4 minutes
#    on 2 CPUs; ROWS2=2000000 makes it about 2.5.
# 3. Streaming: the daemon runs in streaming mode ("run", poll interval
#    POLL_MS, default 100 ms) on a small CT table whose rows carry the
#    client's commit time (bigint microseconds since the epoch); after
#    its backfill, a db-lib client commits COMMITS (default 200,000)
#    single-row INSERTs at full speed, one autocommit batch each, and
#    events/s end to end (first commit to the last line in the output
#    file) is printed; then RATE (default 2,000) commits/s for SECS
#    (default 20) s and commit-to-emit latency p50/p99/max: the time a
#    reader tailing the output file saw the line minus the commit time
#    in the row.  (The events' "ts" is the worker's clock when it read
#    the changes, not the commit time, so it is not used.)  The daemon
#    is then stopped with SIGTERM and must exit 0.
#    t/bench/bench_commits is not used: it updates one row over and
#    over, which Change Tracking reports as one net change per poll.
#
# 1b. Replica: on the same table, "run --once" to JSON lines and the
#    SQLite replica (fresh state): the backfill applies ROWS inserts;
#    then every row is updated at the source and a second run --once
#    applies ROWS updates.  events/s end to end and the supervisor's CPU
#    per event (it applies to the replica) are printed beside the
#    JSONL-only figures, and t/bench/bench_replica apply (the replica
#    module alone) if it is built ("make t/bench/bench_replica").
#
# Environment: ROWS, ROWS2 (0: skip), COMMITS, RATE, SECS, POLL_MS.
# Needs freebcp and tsql (FreeTDS), cc with sybdb.h, python3.

set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top}" && pwd)
SIM=$build/t/mssqlsim/mssqlsim
CAP=$build/mssql-capture
ROWS=${ROWS:-1000000}
ROWS2=${ROWS2:-4000000}
COMMITS=${COMMITS:-200000}
RATE=${RATE:-2000}
SECS=${SECS:-20}
POLL_MS=${POLL_MS:-100}
PW='Pipe_bench1!'
U=sa

for f in "$SIM" "$CAP"; do
	[ -x "$f" ] || { echo "pipeline: $f is not built" >&2; exit 1; }
done
for f in freebcp tsql cc python3; do
	command -v $f >/dev/null || { echo "pipeline: needs $f" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/pipeline.XXXXXX")
PIDS=
# Private copies, so that a rebuild of BUILDDIR during the run is harmless.
mkdir "$T/bin"
cp "$SIM" "$CAP" "$T/bin/"
SIM=$T/bin/mssqlsim
CAP=$T/bin/mssql-capture

# Every process started here is killed by its pid.
cleanup()
{
	for p in $PIDS; do
		kill "$p" 2>/dev/null || :
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || :
	done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
addpid() { PIDS="$PIDS $1"; }
delpid()
{
	_n=
	for _p in $PIDS; do [ "$_p" = "$1" ] || _n="$_n $_p"; done
	PIDS=$_n
}
now() { date +%s.%N; }
say() { echo "pipeline: $*" >&2; }

# The load generator: single-row INSERTs of (id, commit time in
# microseconds, 0), one autocommit batch each, at full speed or at a
# steady rate.  Prints the first and last commit times (epoch seconds).
cat >"$T/load.c" <<'EOC'
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sybfront.h>
#include <sybdb.h>

static int bad;

static int
err_h(DBPROCESS *d, int s, int e, int o, char *m, char *om)
{
	(void)d; (void)s; (void)o; (void)om;
	fprintf(stderr, "load: db-lib %d: %s\n", e, m);
	return (INT_CANCEL);
}

static int
msg_h(DBPROCESS *d, DBINT n, int st, int s, char *m, char *sv, char *p, int l)
{
	(void)d; (void)st; (void)sv; (void)p; (void)l;
	if (s > 10) {
		bad = 1;
		fprintf(stderr, "load: Msg %d: %s\n", (int)n, m);
	}
	return (0);
}

static int
run(DBPROCESS *d, const char *sql)
{
	RETCODE rc;

	bad = 0;
	if (dbcmd(d, sql) == FAIL || dbsqlexec(d) == FAIL)
		return (-1);
	while ((rc = dbresults(d)) != NO_MORE_RESULTS) {
		if (rc == FAIL)
			return (-1);
		while (dbnextrow(d) != NO_MORE_ROWS)
			;
	}
	return (bad ? -1 : 0);
}

static double
now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (tv.tv_sec * 1e6 + tv.tv_usec);
}

int
main(int argc, char **argv)
{
	LOGINREC *l;
	DBPROCESS *d;
	long long first, n, i;
	double rate, t0, t, t1 = 0, tf = 0;
	char sql[256];

	if (argc != 8) {
		fprintf(stderr, "usage: load host:port user pw db first n rate\n");
		return (2);
	}
	first = atoll(argv[5]);
	n = atoll(argv[6]);
	rate = atof(argv[7]);
	dbinit();
	dberrhandle(err_h);
	dbmsghandle(msg_h);
	l = dblogin();
	DBSETLUSER(l, argv[2]);
	DBSETLPWD(l, argv[3]);
	DBSETLAPP(l, "pipeline_load");
	if ((d = dbopen(l, argv[1])) == NULL || dbuse(d, argv[4]) == FAIL)
		return (1);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		if (rate > 0) {
			double due = t0 + i * 1e6 / rate, w = due - now_us();
			if (w > 0) {
				struct timespec ts;
				ts.tv_sec = (time_t)(w / 1e6);
				ts.tv_nsec = (long)((w - ts.tv_sec * 1e6) * 1e3);
				nanosleep(&ts, NULL);
			}
		}
		t = now_us();
		if (i == 0)
			tf = t;
		snprintf(sql, sizeof(sql),
		    "insert into s values (%lld, %.0f, 0)", first + i, t);
		if (run(d, sql) == -1) {
			fprintf(stderr, "load: insert %lld failed\n", i);
			return (1);
		}
		t1 = now_us();
	}
	printf("%.6f %.6f\n", tf / 1e6, t1 / 1e6);
	dbclose(d);
	dbexit();
	return (0);
}
EOC
cc -O2 -o "$T/load" "$T/load.c" -lsybdb

# The reader: tails the output file, stamps every line with the time it
# saw it.  Writes "seen_time id ts_us" for rows of dbo.s to its output,
# one line per event, and flushes at the end (on SIGTERM).
cat >"$T/reader.py" <<'EOP'
import os, re, signal, sys, time
path, outp = sys.argv[1], sys.argv[2]
rx = re.compile(rb'"id":(\d+),"ts_us":(\d+)')
stop = False
def on_term(s, f):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
while not os.path.exists(path) and not stop:
    time.sleep(0.01)
rec = []
buf = b""
with open(path, "rb") as f:
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            if stop:
                break
            time.sleep(0.001)
            continue
        t = time.time()
        buf += chunk
        lines = buf.split(b"\n")
        buf = lines.pop()
        for ln in lines:
            m = rx.search(ln)
            if m:
                rec.append("%.6f %s %s\n" % (t, m.group(1).decode(), m.group(2).decode()))
with open(outp, "w") as o:
    o.writelines(rec)
EOP

# --- the simulator ---------------------------------------------------
mkdir "$T/data"
"$SIM" --listen 127.0.0.1:0 --data "$T/data" --sa-password "$PW" \
    >"$T/sim.out" 2>"$T/sim.err" &
SIM_PID=$!
addpid $SIM_PID
for _ in $(seq 1 100); do
	grep -q '^port ' "$T/sim.out" 2>/dev/null && break
	sleep 0.1
done
PORT=$(sed -n 's/^port //p' "$T/sim.out")
[ -n "$PORT" ] || { say "mssqlsim did not start"; cat "$T/sim.err" >&2; exit 1; }
ADDR=127.0.0.1:$PORT
cat >"$T/freetds.conf" <<EOC
[sim]
	host = 127.0.0.1
	port = $PORT
	tds version = 7.4
[simbf]
	host = 127.0.0.1
	port = $PORT
	tds version = 7.4
	database = bf
EOC
# freebcp logs in to database bf: mssqlsim loses "freebcp bf.dbo.t in"
# rows and returns none to "out" from a session whose database is master.
FREETDSCONF=$T/freetds.conf
export FREETDSCONF

sql()
{
	printf '%s\ngo\n' "$1" | timeout 120 tsql -S sim -U $U -P "$PW" \
	    -o qh >"$T/tsql.log" 2>&1 || { cat "$T/tsql.log" >&2; exit 1; }
	if grep -q '^Msg ' "$T/tsql.log"; then
		cat "$T/tsql.log" >&2
		exit 1
	fi
}
sim_cpu() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$SIM_PID/stat"; }

sql "CREATE DATABASE bf"
sql "ALTER DATABASE bf SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 3 DAYS, AUTO_CLEANUP = ON)
ALTER DATABASE bf SET ALLOW_SNAPSHOT_ISOLATION ON"
sql "CREATE DATABASE strm"
sql "ALTER DATABASE strm SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 3 DAYS, AUTO_CLEANUP = ON)
ALTER DATABASE strm SET ALLOW_SNAPSHOT_ISOLATION ON"

# conf FILE DB TABLE OUT STATE [REPLICA]: a capture configuration.
conf()
{
	_rep=
	[ -z "${6:-}" ] || _rep="
	\"replica\": { \"path\": \"$6\" },"
	cat >"$1" <<CONF
{
	"address": "$ADDR",
	"database": "$2",
	"user": "$U",
	"password": "$PW",
	"tls": { "encrypt": "off" },
	"advanced": { "poll_interval_ms": $POLL_MS },
	"output": { "path": "$4" },
	"state": { "path": "$5" },$_rep
	"bindings": [ { "namespace": "dbo", "stream": "$3" } ]
}
CONF
}

# sampler PID OUT: every 0.2 s, the peak of VmHWM (kB) of PID (the
# supervisor) and of its children (the worker), and the CPU seconds
# each has used so far (the last sample before it exits), until PID is
# gone.
cat >"$T/sampler.sh" <<'EOS'
sup=$1 out=$2 sv=0 wk=0 wn=0 sc=0 wc=0
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
while [ -d "/proc/$sup" ] && ! grep -q '^State:.*Z' "/proc/$sup/status" 2>/dev/null; do
	v=$(hwm "$sup"); [ -n "$v" ] && [ "$v" -gt "$sv" ] && sv=$v
	v=$(cpu "$sup"); [ -n "$v" ] && sc=$v
	for c in $(cat /proc/"$sup"/task/*/children 2>/dev/null); do
		grep -q -- '-P' "/proc/$c/cmdline" 2>/dev/null || continue
		wn=$((wn + 1))
		v=$(hwm "$c"); [ -n "$v" ] && [ "$v" -gt "$wk" ] && wk=$v
		v=$(cpu "$c"); [ -n "$v" ] && wc=$v
	done
	echo "$sv $wk $wn $sc $wc" >"$out"
	sleep 0.2
done
EOS

# backfill N: grow the CT table to N rows, time freebcp out and the
# capture (from a fresh state, so a full backfill).
sql "USE bf
create table dbo.t (id int not null primary key, b bigint not null,
	d decimal(18,4) not null, f float not null, s varchar(50) not null,
	n nvarchar(50) null, t datetime2 not null, x bit not null,
	dt date not null, v varbinary(16) null)
alter table dbo.t enable change_tracking"
HAVE=0
backfill()
{
	n=$1
	say "backfill: loading rows $((HAVE + 1))..$n"
	awk -v h="$HAVE" -v n="$n" 'BEGIN {
	for (i = h + 1; i <= n; i++)
		printf "%d\t%d\t%d.%04d\t%d.25\tsome text %d\t\303\251t\303\251 %d\t" \
		    "2024-%02d-%02d %02d:%02d:%02d.1234567\t%d\t2024-%02d-%02d\t" \
		    "%08X%08X\n", i, i * 7919, i, i % 10000, i % 1000, i, i,
		    i % 12 + 1, i % 28 + 1, i % 24, i % 60, (i * 7) % 60, i % 2,
		    i % 12 + 1, i % 28 + 1, i, i * 31
	}' >"$T/in.txt"
	s=$(now)
	freebcp bf.dbo.t in "$T/in.txt" -c -b 100000 -S simbf -U $U -P "$PW" \
	    >"$T/in.log" 2>&1 || { cat "$T/in.log" >&2; exit 1; }
	e=$(now)
	rm -f "$T/in.txt"
	HAVE=$n
	say "backfill: loaded in $(echo "$e - $s" | bc) s"

	c0=$(sim_cpu)
	s=$(now)
	freebcp bf.dbo.t out "$T/out.txt" -c -S simbf -U $U -P "$PW" \
	    >"$T/out.log" 2>&1 || { cat "$T/out.log" >&2; exit 1; }
	e=$(now)
	c1=$(sim_cpu)
	bcp_rows=$(wc -l <"$T/out.txt")
	bcp_bytes=$(wc -c <"$T/out.txt")
	rm -f "$T/out.txt"
	bcp_s=$(echo "$e - $s" | bc)
	bcp_simcpu=$(echo "$c1 - $c0" | bc)
	say "backfill: freebcp out $bcp_rows rows in $bcp_s s"

	rm -f "$T/bf.jsonl" "$T/bf.state.db"*
	conf "$T/bf.json" bf t "$T/bf.jsonl" "$T/bf.state.db"
	c0=$(sim_cpu)
	s=$(now)
	"$CAP" -c "$T/bf.json" run --once 2>"$T/bf.log" &
	cp=$!
	addpid $cp
	sh "$T/sampler.sh" $cp "$T/rss" &
	sp=$!
	addpid $sp
	rc=0
	wait $cp || rc=$?
	e=$(now)
	delpid $cp
	c1=$(sim_cpu)
	wait $sp || :
	delpid $sp
	[ $rc = 0 ] || { say "capture exited $rc"; tail "$T/bf.log" >&2; exit 1; }
	cap_rows=$(wc -l <"$T/bf.jsonl")
	cap_bytes=$(wc -c <"$T/bf.jsonl")
	cap_s=$(echo "$e - $s" | bc)
	cap_simcpu=$(echo "$c1 - $c0" | bc)
	read -r sup_kb wk_kb wk_n sup_cpu wk_cpu <"$T/rss"
	rm -f "$T/bf.jsonl"
	say "backfill: capture $cap_rows lines in $cap_s s; VmHWM supervisor $sup_kb kB, worker $wk_kb kB ($wk_n samples)"
	[ "$cap_rows" -eq "$n" ] || { say "capture wrote $cap_rows lines, not $n"; exit 1; }
	[ "$bcp_rows" -eq "$n" ] || { say "freebcp wrote $bcp_rows rows, not $n"; exit 1; }
	echo "$n $bcp_s $bcp_bytes $bcp_simcpu $cap_s $cap_bytes $cap_simcpu $sup_kb $wk_kb $sup_cpu $wk_cpu" >>"$T/bf.results"
}

# replica OP: run --once to JSONL and the replica (state rp), timed with
# the supervisor's CPU (it applies to the replica); the first call is a
# full backfill (inserts), later ones capture what changed since.
replica()
{
	conf "$T/rp.json" bf t "$T/rp.jsonl" "$T/rp.state.db" "$T/rp.replica.db"
	[ -f "$T/rp.jsonl" ] || : >"$T/rp.jsonl"
	ev0=$(wc -l <"$T/rp.jsonl")
	c0=$(sim_cpu)
	s=$(now)
	"$CAP" -c "$T/rp.json" run --once 2>"$T/rp.log" &
	cp=$!
	addpid $cp
	sh "$T/sampler.sh" $cp "$T/rss" &
	sp=$!
	addpid $sp
	rc=0
	wait $cp || rc=$?
	e=$(now)
	delpid $cp
	c1=$(sim_cpu)
	wait $sp || :
	delpid $sp
	[ $rc = 0 ] || { say "replica capture exited $rc"; tail "$T/rp.log" >&2; exit 1; }
	read -r sup_kb wk_kb wk_n sup_cpu wk_cpu <"$T/rss"
	ev=$(($(wc -l <"$T/rp.jsonl") - ev0))
	jn=$(python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM \"bf_dbo.t_journal\" WHERE _op = ?", (sys.argv[2],)).fetchone()[0])' "$T/rp.replica.db" "$2")
	say "replica: $1: $ev events ($jn journaled '$2') in $(echo "$e - $s" | bc) s"
	[ "$ev" -eq "$ROWS" ] && [ "$jn" -eq "$ROWS" ] ||
	    { say "replica: $1: expected $ROWS events and journal rows"; exit 1; }
	echo "$1 $ev $(echo "$e - $s" | bc) $sup_cpu $wk_cpu $(echo "$c1 - $c0" | bc)" >>"$T/rp.results"
}

START=$(now)
backfill "$ROWS"
# The replica on the same table, in the same run: inserts (the
# backfill), then every row updated once (CT: one net update per row).
replica inserts c
# The baseline for the updates: a JSONL-only capture (state ju) placed
# at the current version by skip_backfills, run after the updates.
conf "$T/ju.json" bf t "$T/ju.jsonl" "$T/ju.state.db"
sed -i 's/"poll_interval_ms": \([0-9]*\) }/"poll_interval_ms": \1, "skip_backfills": "dbo.t" }/' "$T/ju.json"
"$CAP" -c "$T/ju.json" run --once 2>"$T/ju.log" ||
    { say "skip_backfills run failed"; tail "$T/ju.log" >&2; exit 1; }
say "replica: updating all $ROWS rows at the source"
sql "USE bf
update dbo.t set b = b + 1"
c0=$(sim_cpu)
s=$(now)
"$CAP" -c "$T/ju.json" run --once 2>>"$T/ju.log" ||
    { say "JSONL-only updates run failed"; tail "$T/ju.log" >&2; exit 1; }
e=$(now)
c1=$(sim_cpu)
ju_n=$(wc -l <"$T/ju.jsonl")
[ "$ju_n" -eq "$ROWS" ] || { say "JSONL-only updates: $ju_n lines, not $ROWS"; exit 1; }
echo "$ju_n $(echo "$e - $s" | bc) $(echo "$c1 - $c0" | bc)" >"$T/ju.results"
rm -f "$T/ju.jsonl"
replica updates u
bench_replica=$build/t/bench/bench_replica
if [ -x "$bench_replica" ]; then
	"$bench_replica" apply "$ROWS" >"$T/apply.out" 2>&1 ||
	    { cat "$T/apply.out" >&2; exit 1; }
fi
if [ "$ROWS2" -gt 0 ]; then
	backfill "$ROWS2"
	sql "USE bf
drop table dbo.t"
fi

# --- streaming -------------------------------------------------------
say "streaming: daemon on strm.dbo.s, poll_interval_ms $POLL_MS"
sql "USE strm
create table dbo.s (id bigint not null primary key, ts_us bigint not null, v int)
alter table dbo.s enable change_tracking"
FREETDSCONF=/dev/null "$T/load" "$ADDR" $U "$PW" strm 1 100 0 >/dev/null
conf "$T/st.json" strm s "$T/st.jsonl" "$T/st.state.db"
"$CAP" -c "$T/st.json" run 2>"$T/st.log" &
CAP_PID=$!
addpid $CAP_PID
for _ in $(seq 1 300); do
	[ -f "$T/st.jsonl" ] && [ "$(wc -l <"$T/st.jsonl")" -ge 100 ] && break
	sleep 0.1
done
[ "$(wc -l <"$T/st.jsonl")" -eq 100 ] || { say "streaming backfill did not finish"; tail "$T/st.log" >&2; exit 1; }
sleep 1
base=$(wc -l <"$T/st.jsonl")
python3 "$T/reader.py" "$T/st.jsonl" "$T/seen" &
RD_PID=$!
addpid $RD_PID
sleep 0.5

# waitlines N: until the output file has N lines (at most 300 s).
waitlines()
{
	_i=0
	while [ "$(wc -l <"$T/st.jsonl")" -lt "$1" ]; do
		_i=$((_i + 1))
		[ $_i -lt 3000 ] || { say "only $(wc -l <"$T/st.jsonl") of $1 lines"; exit 1; }
		sleep 0.1
	done
}

say "streaming: $COMMITS commits at full speed"
c0=$(sim_cpu)
FREETDSCONF=/dev/null "$T/load" "$ADDR" $U "$PW" strm 1000001 "$COMMITS" 0 >"$T/full.times"
waitlines $((base + COMMITS))
c1=$(sim_cpu)
read -r full_t0 full_t1 <"$T/full.times"
full_commit_s=$(echo "$full_t1 - $full_t0" | bc)
stream_simcpu=$(echo "$c1 - $c0" | bc)
sleep 0.5

n2=$((RATE * SECS))
say "streaming: $n2 commits at $RATE/s"
FREETDSCONF=/dev/null "$T/load" "$ADDR" $U "$PW" strm 3000001 "$n2" "$RATE" >"$T/rate.times"
waitlines $((base + COMMITS + n2))
read -r rate_t0 rate_t1 <"$T/rate.times"
sleep 0.3

kill -TERM $CAP_PID
rc=0
wait $CAP_PID || rc=$?
delpid $CAP_PID
kill -TERM $RD_PID
wait $RD_PID || :
delpid $RD_PID
term_rc=$rc

# Throughput: first commit to the time the reader saw the last line.
full_last=$(awk '$2 >= 1000001 && $2 < 3000000 { if ($1 > m) m = $1; n++ }
    END { printf "%.6f %d\n", m, n }' "$T/seen")
set -- $full_last
full_end=$1 full_n=$2
full_e2e_s=$(echo "$full_end - $full_t0" | bc)
# Latency: seen time minus the commit time carried in the row.
awk '$2 >= 3000001 { printf "%.3f\n", ($1 - $3 / 1e6) * 1000 }' "$T/seen" |
    sort -n >"$T/lat"
lat_n=$(wc -l <"$T/lat")
pct() { awk -v p="$1" -v n="$lat_n" 'NR == int((n - 1) * p) + 1 { print; exit }' "$T/lat"; }
lat_p50=$(pct 0.50)
lat_p99=$(pct 0.99)
lat_max=$(tail -1 "$T/lat")
rate_s=$(echo "$rate_t1 - $rate_t0" | bc)
END=$(now)

# --- the table -------------------------------------------------------
echo
echo "mssql-capture pipeline benchmark ($(nproc) CPUs), mssqlsim on $ADDR, $(echo "$END - $START" | bc | cut -d. -f1) s in all"
echo
echo "Backfill (CT table, 10 mixed columns, freebcp out -c vs run --once to JSONL, no replica):"
printf '%9s %8s %8s %8s %8s %6s %6s %6s %6s %6s %7s %7s\n' \
    "" freebcp capture freebcp capture "" "sim" "sim" "sup" "wrk" "sup" "wrk"
printf '%9s %8s %8s %8s %8s %6s %6s %6s %6s %6s %7s %7s\n' \
    rows "s" "s" "rows/s" "rows/s" ratio "CPU b" "CPU c" "CPU" "CPU" "HWM MB" "HWM MB"
while read -r n bs bb bc_ cs cb cc sk wk sc wc; do
	awk -v n="$n" -v bs="$bs" -v cs="$cs" -v bc_="$bc_" -v cc="$cc" \
	    -v sk="$sk" -v wk="$wk" -v sc="$sc" -v wc="$wc" 'BEGIN {
	printf "%9d %8.2f %8.2f %8.0f %8.0f %6.2f %6.1f %6.1f %6.1f %6.1f %7.1f %7.1f\n",
	    n, bs, cs, n / bs, n / cs, (n / cs) / (n / bs), bc_, cc,
	    sc / 100, wc / 100, sk / 1024, wk / 1024 }'
done <"$T/bf.results"
echo "  (CPU in seconds: sim b/c = mssqlsim during freebcp out / the capture; sup, wrk = mssql-capture"
echo "   supervisor and worker, last 0.2 s sample; HWM = peak RSS, VmHWM sampled every 0.2 s)"
echo
echo "Replica (the same table: run --once to JSONL and the replica, synchronous=FULL; events/s end to end):"
printf '%9s %9s %8s %10s %8s %8s %8s %10s\n' "" events s "events/s" "sim CPU" "sup CPU" "wrk CPU" "sup CPU/ev"
while read -r op n s_ sc wc simc; do
	awk -v op="$op" -v n="$n" -v s_="$s_" -v sc="$sc" -v wc="$wc" -v simc="$simc" 'BEGIN {
	printf "%9s %9d %8.2f %10.0f %8.1f %8.1f %8.1f %8.2f us\n",
	    op, n, s_, n / s_, simc, sc / 100, wc / 100, sc / 100 / n * 1e6 }'
done <"$T/rp.results"
read -r ju_n ju_s ju_sim <"$T/ju.results"
awk -v n="$ju_n" -v s_="$ju_s" -v simc="$ju_sim" 'BEGIN {
	printf "  baseline: the same %d updates to JSONL only: %.2f s, %.0f events/s (sim CPU %.1f s);\n", n, s_, n / s_, simc }'
echo "  the inserts' baseline is the JSONL-only backfill above; sup CPU includes formatting the JSON lines"
if [ -s "$T/apply.out" ]; then
	echo "  state/replica.c alone (t/bench/bench_replica apply $ROWS, no source, no JSON):"
	sed 's/^/    /' "$T/apply.out"
fi
echo
echo "Streaming (poll_interval_ms $POLL_MS, single-row autocommit INSERTs, one db-lib connection):"
awk -v n="$COMMITS" -v cs="$full_commit_s" -v es="$full_e2e_s" -v got="$full_n" \
    -v sc="$stream_simcpu" 'BEGIN {
	printf "  full speed: %d commits in %.2f s (%.0f commits/s); %d events in the output %.2f s after the first commit: %.0f events/s end to end (sim CPU %.1f s)\n",
	    n, cs, n / cs, got, es, got / es, sc }'
awk -v n="$n2" -v rs="$rate_s" -v ln="$lat_n" -v p50="$lat_p50" -v p99="$lat_p99" -v mx="$lat_max" 'BEGIN {
	printf "  steady: %d commits in %.2f s (%.0f/s); commit-to-emit latency over %d events: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
	    n, rs, n / rs, ln, p50, p99, mx }'
echo "  SIGTERM: daemon exit status $term_rc"
[ "$term_rc" = 0 ]
