#!/bin/sh
#
# Throughput of mssqlsim's result path as FreeTDS sees it: a 1,000,000
# row table of 10 mixed columns is loaded with freebcp in, then copied
# out with "freebcp t out FILE -c" (a plain select * from t read
# through db-lib), and the rows/s and MB/s of the copy out are printed.
# Not part of make check.  Usage (from a build tree):
#
#	t/bench/sim_bcp.sh [rows]
#
# MSSQLSIM names the simulator binary (default t/mssqlsim/mssqlsim
# under the current directory); MSSQL_TEST_ADDRESS/USER/PASSWORD run it
# against a real server instead.

ROWS=${1:-1000000}
SIM=${MSSQLSIM:-./t/mssqlsim/mssqlsim}
T=$(mktemp -d "${TMPDIR:-/tmp}/sim_bcp.XXXXXX") || exit 1
SIM_PID=
trap '[ -n "$SIM_PID" ] && kill $SIM_PID 2>/dev/null; rm -rf "$T"' EXIT

if [ -n "$MSSQL_TEST_ADDRESS" ]; then
	HOST=${MSSQL_TEST_ADDRESS%:*}
	PORT=${MSSQL_TEST_ADDRESS##*:}
	U=$MSSQL_TEST_USER
	PW=$MSSQL_TEST_PASSWORD
else
	HOST=127.0.0.1
	U=sa
	PW='Sim_bench1!'
	mkdir "$T/data"
	timeout 3600 "$SIM" --listen 127.0.0.1:0 --data "$T/data" \
	    --sa-password "$PW" >"$T/sim.out" 2>"$T/sim.err" &
	SIM_PID=$!
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		grep -q '^port ' "$T/sim.out" 2>/dev/null && break
		sleep 0.1
	done
	PORT=$(sed -n 's/^port //p' "$T/sim.out")
	[ -n "$PORT" ] || { echo "mssqlsim did not start" >&2; exit 1; }
fi
cat >"$T/freetds.conf" <<EOC
[sim]
	host = $HOST
	port = $PORT
	tds version = 7.4
EOC
FREETDSCONF=$T/freetds.conf
export FREETDSCONF

sq()
{
	printf '%s\ngo\n' "$1" | tsql -S sim -U "$U" -P "$PW" -o qh 2>&1
}

sq "if object_id('sim_bench') is not null drop table sim_bench
create table sim_bench (id int not null primary key, b bigint not null,
	d decimal(18,4) not null, f float not null, s varchar(50) not null,
	n nvarchar(50) null, t datetime2 not null, x bit not null,
	dt date not null, v varbinary(16) null)" >/dev/null
awk -v n="$ROWS" 'BEGIN {
	for (i = 1; i <= n; i++)
		printf "%d\t%d\t%d.%04d\t%d.25\tsome text %d\t\303\251t\303\251 %d\t" \
		    "2024-%02d-%02d %02d:%02d:%02d.1234567\t%d\t2024-%02d-%02d\t" \
		    "%08X%08X\n", i, i * 7919, i, i % 10000, i % 1000, i, i,
		    i % 12 + 1, i % 28 + 1, i % 24, i % 60, (i * 7) % 60, i % 2,
		    i % 12 + 1, i % 28 + 1, i, i * 31
}' >"$T/in.txt"
start=$(date +%s.%N)
freebcp sim_bench in "$T/in.txt" -c -b 100000 -S sim -U "$U" -P "$PW" \
    >"$T/in.log" 2>&1 || { cat "$T/in.log"; exit 1; }
end=$(date +%s.%N)
echo "load: $ROWS rows in $(echo "$end - $start" | bc) s"
# CPU seconds the simulator itself has used (its pid is timeout's child).
sim_cpu()
{
	_p=$(pgrep -P "$SIM_PID" 2>/dev/null)
	[ -n "$_p" ] && awk '{ printf "%.2f\n", ($14 + $15) / 100 }' \
	    "/proc/$_p/stat"
}
cpu0=$(sim_cpu)
start=$(date +%s.%N)
freebcp sim_bench out "$T/out.txt" -c -S sim -U "$U" -P "$PW" \
    >"$T/out.log" 2>&1 || { cat "$T/out.log"; exit 1; }
end=$(date +%s.%N)
cpu1=$(sim_cpu)
got=$(wc -l <"$T/out.txt")
bytes=$(wc -c <"$T/out.txt")
echo "$got rows, $bytes bytes out" |
    awk -v s="$start" -v e="$end" -v r="$got" -v b="$bytes" '{
	t = e - s
	printf "freebcp out -c: %d rows in %.2f s: %.0f rows/s, %.1f MB/s\n",
	    r, t, r / t, b / t / 1e6
}'
if [ -n "$cpu0" ] && [ -n "$cpu1" ]; then
	echo "$cpu0 $cpu1 $got" | awk '{ c = $2 - $1
	    printf "mssqlsim CPU for the copy out: %.2f s (%.0f rows per CPU second)\n",
		c, (c > 0 ? $3 / c : 0) }'
fi
