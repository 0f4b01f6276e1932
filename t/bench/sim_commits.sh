#!/bin/sh
#
# Commit rate of mssqlsim with Change Tracking: UPDATES single-row
# autocommit updates (default 100,000) of a change-tracked table through
# one FreeTDS db-lib connection (t/bench/bench_commits.c), each its own
# transaction drawing one CT version; prints commits/s and checks that
# the version moved by exactly UPDATES.  Not part of make check.  Usage
# (from a build tree):
#
#	t/bench/sim_commits.sh [updates]
#
# Builds t/bench/bench_commits on demand.  MSSQLSIM names the simulator
# binary (default t/mssqlsim/mssqlsim under the current directory);
# MSSQL_TEST_ADDRESS/USER/PASSWORD run it against a real server instead.

N=${1:-100000}
SIM=${MSSQLSIM:-./t/mssqlsim/mssqlsim}
T=$(mktemp -d "${TMPDIR:-/tmp}/sim_commits.XXXXXX") || exit 1
SIM_PID=
trap '[ -n "$SIM_PID" ] && kill $SIM_PID 2>/dev/null; rm -rf "$T"' EXIT

make t/bench/bench_commits >/dev/null || exit 1
if [ -n "$MSSQL_TEST_ADDRESS" ]; then
	ADDR=$MSSQL_TEST_ADDRESS
	U=$MSSQL_TEST_USER
	PW=$MSSQL_TEST_PASSWORD
else
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
	ADDR=127.0.0.1:$PORT
fi
# db-lib takes host:port as the server name without a freetds.conf.
FREETDSCONF=/dev/null ./t/bench/bench_commits "$ADDR" "$U" "$PW" "$N"
