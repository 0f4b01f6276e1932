#!/bin/sh
#
# metrics.listen, /metrics, /healthz and the terminal progress line,
# against the simulator with the real daemon.  What each part pins:
#  1. an address in use: run exits 2 naming metrics.listen and the
#     address, before any worker starts and before anything is emitted;
#  2. while streaming, mssql_capture_events_total per table and op
#     equals the lines of the output file per table and op (events
#     count when committed, so the file and the counters agree once a
#     commit is done), the lag gauge appears once the tables stream,
#     the exposition text is well formed (TYPE before samples, every
#     sample "name{labels} value"), /healthz is 200 "ok", other paths
#     are 404 and other methods 405;
#  3. a table that fails (a binding without a primary key, added by
#     SIGHUP) turns /healthz into 503 naming it, with
#     mssql_capture_failed_tables 1, while the others keep streaming;
#  4. on a terminal (script(1) gives one) run prints progress lines;
#     with stderr on a pipe, or under systemd (NOTIFY_SOCKET), it
#     does not.

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

# Make table NAME with rows 1..N and Change Tracking on it.
mktable()
{
	sq "CREATE TABLE $1 (id int NOT NULL PRIMARY KEY,
	    name nvarchar(50) NULL)" >>"$T/sql.log"
	sq "ALTER TABLE $1 ENABLE CHANGE_TRACKING" >>"$T/sql.log"
	awk -v t="$1" -v n="$2" 'BEGIN {
		printf "INSERT INTO %s VALUES ", t;
		for (i = 1; i <= n; i++)
			printf "%s(%d, N'"'"'row %d'"'"')", (i > 1 ? ", " : ""), i, i;
		printf "\n";
	}' >"$T/insert.sql"
	sq "$(cat "$T/insert.sql")" >>"$T/sql.log"
}

# A TCP port nothing listens on.
free_port()
{
	"$PYTHON3" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Add metrics.listen to $T/NAME.json: with_listen NAME ADDRESS.
with_listen()
{
	"$PYTHON3" - "$T/$1.json" "$2" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["metrics"] = {"listen": sys.argv[2]}
json.dump(c, open(sys.argv[1], "w"))
EOF
}

# HTTP: http METHOD PATH; prints "STATUS" then the body; $T/headers.
http()
{
	"$PYTHON3" - "$1" "http://127.0.0.1:$MPORT$2" "$T/headers" <<'EOF'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[2], method=sys.argv[1],
                             data=b"x" if sys.argv[1] == "POST" else None)
try:
    r = urllib.request.urlopen(req, timeout=10)
except urllib.error.HTTPError as e:
    r = e
except Exception as e:
    print("000")
    print(e)
    sys.exit(0)
open(sys.argv[3], "w").write(str(r.headers))
print(r.status)
sys.stdout.write(r.read().decode())
EOF
}

# Scrape /metrics into $T/metrics.txt; 0 if it answered 200.
scrape()
{
	http GET /metrics >"$T/scrape.txt"
	[ "$(head -1 "$T/scrape.txt")" = 200 ] || return 1
	tail -n +2 "$T/scrape.txt" >"$T/metrics.txt"
}

# Lines of the output file per table and op, as "table op count".
file_counts()
{
	"$PYTHON3" - "$1" <<'EOF'
import collections, json, sys
n = collections.Counter()
for line in open(sys.argv[1]):
    d = json.loads(line)
    s = d["_meta"]["source"]
    n["%s.%s %s" % (s["schema"], s["table"], d["_meta"]["op"])] += 1
for k in sorted(n):
    print(k, n[k])
EOF
}

# mssql_capture_events_total per table and op from $T/metrics.txt,
# nonzero ones, printed like file_counts.
metric_counts()
{
	sed -n 's/^mssql_capture_events_total{table="\([^"]*\)",/\1 /p' \
	    "$T/metrics.txt" | sed 's/op="\(.\)"} /\1 /' |
	    awk '$3 != 0' | sort
}

# The status of METHOD PATH: status METHOD PATH.
status()
{
	http "$1" "$2" >"$T/response"
	head -1 "$T/response"
}

# The status of GET /healthz.
health_code()
{
	status GET /healthz
}

# Is /healthz answering STATUS: health_is STATUS.
health_is()
{
	[ "$(health_code)" = "$1" ]
}

# Does a scrape show the lag of table NAME: has_lag NAME.
has_lag()
{
	scrape && grep -q "^mssql_capture_lag_seconds{table=\"$1\"} [0-9.]*$" \
	    "$T/metrics.txt"
}

# Is something listening on $MPORT?
port_taken()
{
	! "$PYTHON3" -c 'import socket, sys
socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$MPORT" 2>/dev/null
}

# Scrape until the counters equal the file: counts_match FILE.
counts_match()
{
	scrape && [ "$(metric_counts)" = "$(file_counts "$1")" ]
}

# Is the exposition text in $T/metrics.txt well formed?  Prints what
# is wrong.
well_formed()
{
	"$PYTHON3" - "$T/metrics.txt" <<'EOF'
import re, sys
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"'
value = r"(-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)"
sample = re.compile(r"^(%s)(\{%s(,%s)*\})? %s$" % (name, label, label, value))
comment = re.compile(r"^# (HELP|TYPE) (%s) (.+)$" % name)
typed, bad = set(), []
text = open(sys.argv[1]).read()
if not text.endswith("\n"):
    bad.append("no final newline")
for line in text.splitlines():
    m = comment.match(line)
    if m:
        if m.group(1) == "TYPE":
            if m.group(2) in typed:
                bad.append("second TYPE: " + line)
            typed.add(m.group(2))
        continue
    m = sample.match(line)
    if not m:
        bad.append("not a sample: " + line)
    elif m.group(1) not in typed:
        bad.append("sample before TYPE: " + line)
print("\n".join(bad))
EOF
}

mktable m1 300
mktable m2 100
MPORT=$(free_port)

# 1. The address is in use: exit 2, nothing started.
mkcfg busy '[{"namespace": "dbo", "stream": "m1"}]'
with_listen busy "127.0.0.1:$MPORT"
"$PYTHON3" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
time.sleep(30)' "$MPORT" &
HOLDER=$!
wait_for 10 port_taken
runcap 30 busy run --once
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
expect "address in use: exit 2" "$RC" 2
expect_grep "address in use: names the key and the address" "$T/err" \
    "metrics.listen: cannot listen on 127.0.0.1:$MPORT: Address already in use"
if grep -q 'worker .* started' "$T/err"; then
	fail "address in use: no worker started" "$(cat "$T/err")"
else
	pass "address in use: no worker started"
fi
expect "address in use: nothing emitted" "$(lines "$T/busy.jsonl")" 0

# 2. Streaming, scraped.
mkcfg st '[{"namespace": "dbo", "stream": "m1"},
    {"namespace": "dbo", "stream": "m2"}]'
with_listen st "127.0.0.1:$MPORT"
runbg st run
wait_for 30 sh -c "[ \$(wc -l 2>/dev/null <'$T/st.jsonl' || echo 0) \
    -ge 400 ]"
expect "streaming: both backfills" "$(lines "$T/st.jsonl")" 400
sq "UPDATE m1 SET name = N'changed' WHERE id <= 10" >>"$T/sql.log"
sq "DELETE FROM m2 WHERE id <= 5" >>"$T/sql.log"
sq "INSERT INTO m2 VALUES (1000, N'new')" >>"$T/sql.log"
wait_for 30 sh -c "[ \$(wc -l 2>/dev/null <'$T/st.jsonl' || echo 0) \
    -ge 416 ]"
expect "streaming: the changes arrive" "$(lines "$T/st.jsonl")" 416
if wait_for 10 counts_match "$T/st.jsonl"; then
	pass "events_total per table and op equals the output file"
else
	fail "events_total per table and op equals the output file" \
	    "file: $(file_counts "$T/st.jsonl" | tr '\n' ' ')" \
	    "metrics: $(metric_counts | tr '\n' ' ')"
fi
expect "the counts are the expected ones" "$(metric_counts | tr '\n' ' ')" \
    "dbo.m1 c 300 dbo.m1 u 10 dbo.m2 c 101 dbo.m2 d 5 "
expect "exposition text is well formed" "$(well_formed)" ""
expect_grep "committed seq is the last line's" "$T/metrics.txt" \
    "^mssql_capture_committed_seq 416$"
expect_grep "last commit time is set" "$T/metrics.txt" \
    '^mssql_capture_last_commit_timestamp_seconds [1-9][0-9]*\.[0-9]*$'
expect_grep "phase gauge: streaming" "$T/metrics.txt" \
    '^mssql_capture_table_phase{table="dbo.m1",phase="streaming"} 1$'
expect_grep "backfill rows" "$T/metrics.txt" \
    '^mssql_capture_backfill_rows{table="dbo.m1"} 300$'
if wait_for 15 has_lag dbo.m1 && has_lag dbo.m2; then
	pass "lag gauge present while streaming"
else
	fail "lag gauge present while streaming" "$(grep lag "$T/metrics.txt")"
fi
expect "healthz: 200 ok" "$(http GET /healthz | tr '\n' ' ')" "200 ok "
expect "other path: 404" "$(status GET /nope)" 404
expect "other path and method: 404" "$(status POST /metricsx)" 404
expect "POST /metrics: 405" "$(status POST /metrics)" 405
expect_grep "405 says what is allowed" "$T/headers" '^Allow: GET, HEAD'
expect "PUT /healthz: 405" "$(status PUT /healthz)" 405
expect "HEAD /metrics: 200" "$(status HEAD /metrics)" 200
expect "GET /metrics?query: 200" "$(status GET '/metrics?x=1')" 200
expect_grep "metrics content type" "$T/headers" \
    '^Content-Type: text/plain; version=0.0.4'
if grep -q 'progress:' "$T/bg.err"; then
	fail "stderr on a file: no progress lines" "$(grep progress: "$T/bg.err")"
else
	pass "stderr on a file: no progress lines"
fi

# 3. A table without a primary key, added by SIGHUP, fails.
sq "CREATE TABLE nopk (a int NULL)" >>"$T/sql.log"
sq "ALTER TABLE nopk ENABLE CHANGE_TRACKING" >>"$T/sql.log"
mkcfg st '[{"namespace": "dbo", "stream": "m1"},
    {"namespace": "dbo", "stream": "m2"},
    {"namespace": "dbo", "stream": "nopk"}]'
with_listen st "127.0.0.1:$MPORT"
kill -HUP "$DAEMON_PID"
if wait_for 20 health_is 503; then
	pass "failed table: healthz 503"
else
	fail "failed table: healthz 503" "$(tail -5 "$T/bg.err")"
fi
http GET /healthz >"$T/health.txt"
expect_grep "failed table: healthz names it" "$T/health.txt" \
    '^failed: dbo.nopk: '
scrape
expect_grep "failed table: failed gauge 1" "$T/metrics.txt" \
    '^mssql_capture_failed_tables 1$'
expect_grep "failed table: its phase" "$T/metrics.txt" \
    '^mssql_capture_table_phase{table="dbo.nopk",phase="failed"} 1$'
sq "INSERT INTO m1 VALUES (1001, N'after failure')" >>"$T/sql.log"
if wait_for 20 grep -q '"after failure"' "$T/st.jsonl"; then
	pass "failed table: the others keep streaming"
else
	fail "failed table: the others keep streaming" "$(tail -5 "$T/bg.err")"
fi
kill -TERM "$DAEMON_PID"
waitbg 30
expect "SIGTERM: exit 0" "$RC" 0

# 4. Progress on a terminal, not on a pipe nor under systemd.  Each
# run streams for 3 s (timeout sends SIGTERM: a graceful stop).
mkcfg pr '[{"namespace": "dbo", "stream": "m1"}]'
STOP3="timeout --foreground -s TERM 3"
if command -v script >/dev/null 2>&1; then
	run_with_timeout 30 script -qec \
	    "$STOP3 '$MSSQL_CAPTURE' -c '$T/pr.json' run" "$T/typescript" \
	    </dev/null >/dev/null 2>&1
	expect_grep "terminal: progress lines" "$T/typescript" \
	    'progress: dbo.m1 \(backfill\|streaming\)'
else
	echo "script(1) is not installed: the terminal checks are skipped"
fi
run_with_timeout 30 $STOP3 "$MSSQL_CAPTURE" -c "$T/pr.json" run \
    2>&1 >/dev/null | cat >"$T/pipe.err"
expect_grep "pipe: the run logged" "$T/pipe.err" 'running 1 binding'
if grep -q 'progress:' "$T/pipe.err"; then
	fail "pipe: no progress lines" "$(cat "$T/pipe.err")"
else
	pass "pipe: no progress lines"
fi
if command -v script >/dev/null 2>&1; then
	NOTIFY_SOCKET=$T/no.sock run_with_timeout 30 script -qec \
	    "$STOP3 '$MSSQL_CAPTURE' -c '$T/pr.json' run" "$T/typescript2" \
	    </dev/null >/dev/null 2>&1
	expect_grep "systemd: the run logged" "$T/typescript2" \
	    'running 1 binding'
	if grep -q 'progress:' "$T/typescript2"; then
		fail "systemd: no progress lines" "$(cat "$T/typescript2")"
	else
		pass "systemd: no progress lines"
	fi
fi

finish
