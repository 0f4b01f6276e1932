# t/run_lib.sh: what the daemon's integration tests share: the
# simulator (or a real server: MSSQL_TEST_ADDRESS, MSSQL_TEST_USER,
# MSSQL_TEST_PASSWORD), tsql, configuration files, the standard test
# table (id, name, amount: mktable, insert_rows), and comparing the
# source with an output file replayed by key and with the replica
# (compare).  Sourced after t/lib.sh.

SIM=${MSSQLSIM:-$top_builddir/t/mssqlsim/mssqlsim}
SIM_PID=
DAEMON_PID=
NOTIFY_PID=
DB=runt

# Stop what we started: the daemon (hard) and the simulator.
run_cleanup()
{
	if [ -n "$DAEMON_PID" ]; then
		kill -9 "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	if [ -n "$NOTIFY_PID" ]; then
		kill "$NOTIFY_PID" 2>/dev/null
		wait "$NOTIFY_PID" 2>/dev/null
	fi
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
	fi
	[ -n "$KEEP" ] || rm -rf "$T"
}
trap run_cleanup EXIT

# Start mssqlsim on a free port (or use MSSQL_TEST_ADDRESS), write a
# freetds.conf naming it "sim" and create database $DB.
sim_start()
{
	if [ -n "$MSSQL_TEST_ADDRESS" ]; then
		HOST=${MSSQL_TEST_ADDRESS%:*}
		PORT=${MSSQL_TEST_ADDRESS##*:}
		U=$MSSQL_TEST_USER
		PW=$MSSQL_TEST_PASSWORD
	else
		[ -x "$SIM" ] || skip "$SIM is not built"
		mkdir -p "$T/data"
		HOST=127.0.0.1
		U=sa
		PW='Run_test1!'
		timeout -k 5 600 "$SIM" --listen 127.0.0.1:0 \
		    --data "$T/data" --sa-password "$PW" \
		    --cdc-polling-interval-ms 100 \
		    >"$T/sim.out" 2>"$T/sim.err" &
		SIM_PID=$!
		for _i in $(seq 1 50); do
			grep -q '^port ' "$T/sim.out" 2>/dev/null && break
			sleep 0.1
		done
		PORT=$(sed -n 's/^port //p' "$T/sim.out")
		if [ -z "$PORT" ]; then
			echo "$T_NAME: mssqlsim did not start" >&2
			cat "$T/sim.err" >&2
			exit 99
		fi
	fi
	cat >"$T/freetds.conf" <<EOF
[sim]
	host = $HOST
	port = $PORT
	tds version = 7.4
EOF
	FREETDSCONF=$T/freetds.conf
	export FREETDSCONF
	sq_master "IF DB_ID('$DB') IS NOT NULL DROP DATABASE $DB" >/dev/null
	sq_master "CREATE DATABASE $DB" >"$T/createdb.log"
}

# Kill the simulator (SIGKILL: a crash; the connections are reset) and start it again on the same port and data after SECS
# seconds: sim_restart SECS.  Only with our own simulator.
sim_restart()
{
	# $SIM_PID is timeout(1), which cannot pass SIGKILL on: kill its
	# child, and timeout exits with it.
	kill -9 $(pgrep -P "$SIM_PID") 2>/dev/null
	wait "$SIM_PID" 2>/dev/null
	SIM_PID=
	sleep "$1"
	timeout -k 5 600 "$SIM" --listen "127.0.0.1:$PORT" \
	    --data "$T/data" --sa-password "$PW" \
	    --cdc-polling-interval-ms 100 \
	    >"$T/sim.out" 2>>"$T/sim.err" &
	SIM_PID=$!
	for _i in $(seq 1 50); do
		sq_master "SELECT 4242" | grep -q 4242 && return 0
		sleep 0.1
	done
	echo "$T_NAME: mssqlsim did not restart on port $PORT" >&2
	cat "$T/sim.err" >&2
	exit 99
}

# Run a batch in master through tsql; rows (no headers) and messages.
sq_master()
{
	printf '%s\ngo\n' "$1" |
	    run_with_timeout 60 tsql -S sim -U "$U" -P "$PW" -o qh 2>&1
}

# Run a batch in $DB.
sq()
{
	printf '%s\ngo\n' "$1" |
	    run_with_timeout 60 tsql -S sim -U "$U" -P "$PW" -D "$DB" -o qh 2>&1
}

# Write $T/NAME.json: mkcfg NAME BINDINGS_JSON [PASSWORD].  Output,
# replica and state are $T/NAME.jsonl, .replica.db and .state.db.
mkcfg()
{
	cat >"$T/$1.json" <<EOF
{"address": "$HOST:$PORT", "database": "$DB", "user": "$U",
 "password": "${3:-$PW}", "tls": {"encrypt": "off"},
 "advanced": {"poll_interval_ms": 100, "backfill_chunk_size": 500},
 "output": {"path": "$T/$1.jsonl"},
 "replica": {"path": "$T/$1.replica.db"},
 "state": {"path": "$T/$1.state.db"},
 "bindings": $2}
EOF
}

# Run the daemon in the foreground under a limit: runcap SECS NAME ARGS...
# Status in $RC, stderr in $T/err.
runcap()
{
	_secs=$1
	_name=$2
	shift 2
	RC=0
	run_with_timeout "$_secs" "$MSSQL_CAPTURE" -c "$T/$_name.json" "$@" \
	    >"$T/out" 2>"$T/err" || RC=$?
}

# Start the daemon in the background: runbg NAME ARGS...; its pid is
# $DAEMON_PID, its stderr $T/bg.err.  One at a time: a daemon still
# running from before is killed first.
runbg()
{
	_name=$1
	shift
	if [ -n "$DAEMON_PID" ]; then
		# A check failed with the last one still running.
		kill -9 "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	: >"$T/bg.err"
	"$MSSQL_CAPTURE" -c "$T/$_name.json" "$@" >"$T/bg.out" \
	    2>"$T/bg.err" &
	DAEMON_PID=$!
}

# Wait for the background daemon: waitbg SECS; status in $RC (124 if
# it had to be killed).
waitbg()
{
	_i=0
	while kill -0 "$DAEMON_PID" 2>/dev/null; do
		_i=$((_i + 1))
		if [ "$_i" -gt $(($1 * 10)) ]; then
			kill -9 "$DAEMON_PID" 2>/dev/null
			wait "$DAEMON_PID" 2>/dev/null
			DAEMON_PID=
			RC=124
			return
		fi
		sleep 0.1
	done
	RC=0
	wait "$DAEMON_PID" || RC=$?
	DAEMON_PID=
}

# Wait until a command succeeds: wait_for SECS CMD...
wait_for()
{
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# The output file's lines: lines FILE.
lines()
{
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# expect DESCRIPTION ACTUAL EXPECTED
expect()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: $3" "got: $2" \
		    "stderr: $(tail -c 1500 "$T/err" 2>/dev/null)"
	fi
}

# expect_grep DESCRIPTION FILE PATTERN
expect_grep()
{
	if grep -q -- "$3" "$2"; then
		pass "$1"
	else
		fail "$1" "expected to match: $3" \
		    "got: $(tail -c 1500 "$2" 2>/dev/null)"
	fi
}

# Replaying by key, shared by t/run_ct.sh and t/run_stress.sh, for
# tables (id int PRIMARY KEY, name, amount).  A test may define its own
# versions after sourcing this file.

# The source table, one "id<TAB>name<TAB>amount" line per row.
source_rows()
{
	sq "SELECT id, name, amount FROM $1 ORDER BY id"
}

# Replay an output file by key for table NAME, printed like
# source_rows; exits 1 if seq is not 1, 2, 3, ... or if an event is
# there twice.
replay()
{
	"$PYTHON3" - "$1" "$2" <<'PYEOF'
import json, sys
rows, seen, want = {}, set(), 1
for line in open(sys.argv[1]):
    d = json.loads(line)
    m = d["_meta"]
    if m["seq"] != want:
        sys.exit("seq %d where %d was expected" % (m["seq"], want))
    want += 1
    s = m["source"]
    ident = (s["table"], d["id"], s.get("version"), s.get("lsn"),
             s.get("seqval"), s["snapshot"], m["op"])
    if ident in seen:
        sys.exit("duplicate event %r" % (ident,))
    seen.add(ident)
    if s["table"] != sys.argv[2]:
        continue
    if m["op"] == "d":
        rows.pop(d["id"], None)
    else:
        rows[d["id"]] = d
def show(v):
    return "NULL" if v is None else str(v)
for k in sorted(rows):
    r = rows[k]
    print("%d\t%s\t%s" % (k, show(r["name"]), show(r["amount"])))
PYEOF
}

# The live rows of a replica table, printed like source_rows.
replica_rows()
{
	"$PYTHON3" - "$1" "$DB" "$2" <<'PYEOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
name = "%s_dbo.%s" % (sys.argv[2], sys.argv[3])
for i, n, a in c.execute('SELECT id, name, amount FROM "%s" '
                         'WHERE _deleted = 0 ORDER BY id' % name):
    print("%d\t%s\t%s" % (i, "NULL" if n is None else n,
                          "NULL" if a is None else a))
PYEOF
}

# Make table NAME with ids FROM..TO and Change Tracking on it.
mktable()
{
	sq "CREATE TABLE $1 (id int NOT NULL PRIMARY KEY,
	    name nvarchar(50) NULL, amount decimal(10,2) NULL)" >>"$T/sql.log"
	sq "ALTER TABLE $1 ENABLE CHANGE_TRACKING" >>"$T/sql.log"
	[ "$#" -lt 3 ] || insert_rows "$@"
}

# Insert rows FROM..TO into NAME, 1000 per statement.
insert_rows()
{
	awk -v t="$1" -v from="$2" -v to="$3" 'BEGIN {
		for (b = from; b <= to; b += 1000) {
			printf "INSERT INTO %s VALUES ", t;
			for (i = b; i <= to && i < b + 1000; i++)
				printf "%s(%d, N'"'"'row %d'"'"', %d.%02d)",
				    (i > b ? ", " : ""), i, i, i, i % 100;
			printf "\ngo\n";
		}
	}' | run_with_timeout 120 tsql -S sim -U "$U" -P "$PW" -D "$DB" \
	    -o qh >>"$T/sql.log" 2>&1
}

# verify_equal DESCRIPTION CFG: "mssql-capture verify" exits 0.
verify_equal()
{
	runcap 60 "$2" verify
	expect "$1: verify exits 0 (equal)" "$RC" 0
	[ "$RC" = 0 ] || sed 's/^/    /' "$T/out" | tail -5
}

# compare DESCRIPTION CFG TABLE: file and replica equal the source.
compare()
{
	source_rows "$3" >"$T/src.txt"
	if replay "$T/$2.jsonl" "$3" >"$T/replay.txt" 2>"$T/replay.err" &&
	    cmp -s "$T/src.txt" "$T/replay.txt"; then
		pass "$1: output replayed equals the source ($(wc -l \
		    <"$T/src.txt") rows)"
	else
		fail "$1: output replayed equals the source" \
		    "$(cat "$T/replay.err")" \
		    "$(diff "$T/src.txt" "$T/replay.txt" | head -10)"
	fi
	replica_rows "$T/$2.replica.db" "$3" >"$T/replica.txt" 2>&1
	if cmp -s "$T/src.txt" "$T/replica.txt"; then
		pass "$1: replica equals the source"
	else
		fail "$1: replica equals the source" \
		    "$(diff "$T/src.txt" "$T/replica.txt" | head -10)"
	fi
}
