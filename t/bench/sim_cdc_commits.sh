#!/bin/sh
#
# Commit throughput of mssqlsim with Change Data Capture on: N
# single-row UPDATEs (default 100,000), each its own committed
# transaction, against a table captured by CDC (the commit hook logs
# every one), run as one WHILE loop in a batch so that the client's
# round trips do not count.  Prints the simulator's commits/s (target
# >= 5,000), then scans and checks that every update reached the change
# table, and prints the scan time.  Not part of make check.  Usage
# (from a build tree):
#
#	t/bench/sim_cdc_commits.sh [updates]
#
# MSSQLSIM names the simulator binary (default t/mssqlsim/mssqlsim under
# the current directory); MSSQL_TEST_ADDRESS/USER/PASSWORD run it
# against a real server instead.  Needs /usr/bin/python3 with
# python3-tds.

N=${1:-100000}
SIM=${MSSQLSIM:-./t/mssqlsim/mssqlsim}
T=$(mktemp -d "${TMPDIR:-/tmp}/sim_cdc_bench.XXXXXX") || exit 1
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
	    --sa-password "$PW" --cdc-polling-interval-ms 600000 \
	    >"$T/sim.out" 2>"$T/sim.err" &
	SIM_PID=$!
	for i in $(seq 1 50); do
		grep -q '^port ' "$T/sim.out" 2>/dev/null && break
		sleep 0.1
	done
	PORT=$(sed -n 's/^port //p' "$T/sim.out")
	[ -n "$PORT" ] || { echo "mssqlsim did not start" >&2; exit 1; }
fi

HOST=$HOST PORT=$PORT U=$U PW=$PW N=$N /usr/bin/python3 - <<'EOF'
import os, time, pytds

n = int(os.environ["N"])
c = pytds.connect(server=os.environ["HOST"], port=int(os.environ["PORT"]),
                  user=os.environ["U"], password=os.environ["PW"],
                  autocommit=True, timeout=3600)
cur = c.cursor()
db = "cdc_bench_%d" % os.getpid()
cur.execute("CREATE DATABASE " + db)
cur.execute("USE " + db)
cur.execute("EXEC sys.sp_cdc_enable_db")
cur.execute("CREATE TABLE dbo.b (id int PRIMARY KEY, v int NOT NULL, "
            "s nvarchar(20) NULL)")
cur.execute("EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', "
            "@source_name = N'b', @role_name = NULL")
cur.execute("INSERT INTO dbo.b SELECT TOP 100 ROW_NUMBER() OVER (ORDER BY "
            "object_id) - 1, 0, N'x' FROM sys.columns")
cur.execute("SELECT count(*) FROM dbo.b")
rows = cur.fetchone()[0]
cur.execute("EXEC sys.sp_cdc_scan")
cur.execute("SELECT count(*) FROM cdc.dbo_b_CT")
base = cur.fetchone()[0]
t0 = time.time()
cur.execute("SET NOCOUNT ON; DECLARE @i int = 0; WHILE @i < %d BEGIN "
            "UPDATE dbo.b SET v = v + 1 WHERE id = @i %% %d; "
            "SET @i = @i + 1; END" % (n, rows))
t1 = time.time()
print("%d single-row committed updates in %.2f s: %.0f commits/s"
      % (n, t1 - t0, n / (t1 - t0)))
# One scan of everything (the default cycle stops at 10 x 500).
cur.execute("EXEC sys.sp_cdc_scan @maxtrans = %d, @maxscans = 1" % (n + 1))
t2 = time.time()
cur.execute("SELECT count(*) FROM cdc.dbo_b_CT WHERE __$operation = 4")
got = cur.fetchone()[0]
cur.execute("SELECT count(DISTINCT __$start_lsn) FROM cdc.dbo_b_CT WHERE "
            "__$operation = 4")
lsns = cur.fetchone()[0]
print("capture scan of %d transactions in %.2f s; %d update rows, %d "
      "commit LSNs in the change table" % (n, t2 - t1, got, lsns))
if got != n or lsns != n:
    raise SystemExit("sim_cdc_commits: expected %d updates captured" % n)
EOF
