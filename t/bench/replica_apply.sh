#!/bin/sh
#
# Replica benchmarks (not part of make check).  Usage, from a build
# tree:
#
#	t/bench/replica_apply.sh [events] [verify_rows]
#
# 1. Apply throughput of state/replica.c: "events" inserts, then as many
#    updates of the same keys, then as many deletes (CT deletes: the key
#    only), into a fresh replica file, in transactions bounded as the
#    supervisor bounds them (REPLICA_BATCH_EVENTS / REPLICA_BATCH_MS),
#    synchronous=FULL.  Printed per wall second and per CPU second (the
#    second is what the daemon costs; the first depends on the disk and
#    on what else the machine runs).  Target: 100,000 events/s.
# 2. verify time for a table of "verify_rows" rows (default 1,000,000)
#    of ten mixed columns: loaded into mssqlsim with freebcp, copied into
#    a replica by bench_replica fill (worker/db.c reads, replica apply),
#    then "mssql-capture verify" is timed, with its peak RSS.
#
# Needs "make t/bench/bench_replica" (done here).  MSSQLSIM names the
# simulator (default t/mssqlsim/mssqlsim); MSSQL_TEST_ADDRESS/USER/
# PASSWORD (and MSSQL_TEST_DATABASE) use a real server for step 2.

EVENTS=${1:-1000000}
ROWS=${2:-1000000}
SIM=${MSSQLSIM:-./t/mssqlsim/mssqlsim}
T=$(mktemp -d "${TMPDIR:-/tmp}/replica_apply.XXXXXX") || exit 1
SIM_PID=
trap '[ -n "$SIM_PID" ] && kill $SIM_PID 2>/dev/null; rm -rf "$T"' EXIT

make -s t/bench/bench_replica mssql-capture >/dev/null ||
    { echo "cannot build t/bench/bench_replica" >&2; exit 1; }
./t/bench/bench_replica apply "$EVENTS" || exit 1
[ "$ROWS" -gt 0 ] || exit 0

if [ -n "$MSSQL_TEST_ADDRESS" ]; then
	HOST=${MSSQL_TEST_ADDRESS%:*}
	PORT=${MSSQL_TEST_ADDRESS##*:}
	U=$MSSQL_TEST_USER
	PW=$MSSQL_TEST_PASSWORD
	DB=${MSSQL_TEST_DATABASE:-master}
else
	HOST=127.0.0.1
	U=sa
	PW='Replica_bench1!'
	DB=master
	mkdir "$T/data"
	timeout 7200 "$SIM" --listen 127.0.0.1:0 --data "$T/data" \
	    --sa-password "$PW" >"$T/sim.out" 2>"$T/sim.err" &
	SIM_PID=$!
	for i in $(seq 1 50); do
		grep -q '^port ' "$T/sim.out" 2>/dev/null && break
		sleep 0.1
	done
	PORT=$(sed -n 's/^port //p' "$T/sim.out")
	[ -n "$PORT" ] || { echo "mssqlsim did not start" >&2; exit 1; }
fi
cat >"$T/freetds.conf" <<EOC
[bench]
	host = $HOST
	port = $PORT
	tds version = 7.4
EOC
FREETDSCONF=$T/freetds.conf
export FREETDSCONF
printf '%s\ngo\n' "if object_id('dbo.bench_verify') is not null
drop table dbo.bench_verify
create table dbo.bench_verify (id int not null primary key,
	b bigint not null, d decimal(18,4) not null, f float not null,
	s varchar(50) not null, n nvarchar(50) null, t datetime2 not null,
	x bit not null, dt date not null, v varbinary(16) null)" |
    tsql -S bench -U "$U" -P "$PW" -D "$DB" -o q >/dev/null 2>&1
awk -v n="$ROWS" 'BEGIN {
	for (i = 1; i <= n; i++)
		printf "%d\t%d\t%d.%04d\t%d.25\tsome text %d\t\303\251t\303\251 %d\t" \
		    "2024-%02d-%02d %02d:%02d:%02d.1234567\t%d\t2024-%02d-%02d\t" \
		    "%08X%08X\n", i, i * 7919, i, i % 10000, i % 1000, i, i,
		    i % 12 + 1, i % 28 + 1, i % 24, i % 60, (i * 7) % 60, i % 2,
		    i % 12 + 1, i % 28 + 1, i, i * 31
}' >"$T/in.txt"
freebcp "$DB.dbo.bench_verify" in "$T/in.txt" -c -b 100000 -S bench \
    -U "$U" -P "$PW" >"$T/in.log" 2>&1 || { cat "$T/in.log"; exit 1; }
cat >"$T/cfg.json" <<EOC
{"address": "$HOST:$PORT", "database": "$DB", "user": "$U",
 "password": "$PW", "replica": {"path": "$T/replica.db"}}
EOC
./t/bench/bench_replica fill "$T/cfg.json" || exit 1
start=$(date +%s.%N)
/usr/bin/time -f '%M %U %S' -o "$T/rss" ./mssql-capture -c "$T/cfg.json" \
    verify dbo.bench_verify >"$T/verify.out" 2>&1
rc=$?
end=$(date +%s.%N)
cat "$T/verify.out"
echo "$start $end $rc $(cat "$T/rss")" | awk -v r="$ROWS" '{
	t = $2 - $1
	printf "verify: %d rows in %.2f s (%.0f rows/s), exit %d, " \
	    "peak RSS %.1f MB, CPU %.2f s user %.2f s system\n", r, t,
	    r / t, $3, $4 / 1024, $5, $6
}'
