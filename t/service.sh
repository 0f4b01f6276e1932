#!/bin/sh
#
# Service integration (issue 7; mssql-capture(8), SERVICE): what an
# init system relies on, against a real daemon and the simulator.
#  - The generated systemd unit passes "systemd-analyze verify" (with
#    ExecStart pointed at the binary under test, and MANPATH at our
#    pages so that every Documentation= entry resolves); skipped, with
#    the reason, when the tool is missing.
#  - run --pidfile: the file holds the live pid and stays locked, so a
#    second daemon on it exits 2 naming the first; a stale file (dead
#    pid, not locked) is replaced; the file is removed at exit.
#  - run --daemonize returns 0 only once the daemon runs, detached
#    (own session, standard streams on /dev/null, workers too), and
#    fails with the reason on standard error when it cannot start: bad
#    configuration, output "-", pidfile in use, state in use.
#  - The LSB init script, both through start-stop-daemon (when
#    installed) and in plain sh: start, status (0 running, 3 stopped,
#    1 pidfile left by a killed daemon), reload (a binding appended to
#    the configuration starts capturing), stop (no process left, no
#    pidfile), start on a broken configuration fails with its message.
#  - make install DESTDIR=... puts every file in place, with paths
#    substituted, never overwrites an edited configuration, and
#    uninstall leaves nothing else.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$top_srcdir/t/run_lib.sh"

UNIT=$top_builddir/etc/mssql-capture.service
INITD=$top_builddir/etc/init.d/mssql-capture

# Pids of the processes whose command line mentions $1 (ours: the
# daemons and workers started with configurations under $T).
procs_matching()
{
	for _p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$_p/cmdline" | grep -q -- "$1" &&
		    echo "${_p#/proc/}"
	done
	return 0
}

# Kill what this test started in the background, then run_lib's cleanup.
svc_cleanup()
{
	for _pid in $(procs_matching "$T/svc"); do
		kill -9 "$_pid" 2>/dev/null
	done
	run_cleanup
}
trap svc_cleanup EXIT

# No live process (zombies aside) mentions $1.
no_live_procs()
{
	for _pid in $(procs_matching "$1"); do
		gone "$_pid" || return 1
	done
	return 0
}

# Is pid $1 gone (or a zombie)?
gone()
{
	[ ! -d "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# Does file $1 have at least $2 lines?
has_lines()
{
	[ "$(lines "$1")" -ge "$2" ]
}

# --- systemd unit -------------------------------------------------------

check "the unit is generated with Type=notify" \
    grep -q '^Type=notify$' "$UNIT"
check "the unit's paths were substituted" \
    sh -c "! grep -q '@[a-z]*dir@' '$UNIT' '$INITD'"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$T/unit" "$T/man/man5" "$T/man/man7" "$T/man/man8"
	cp "$top_srcdir/man/mssql-capture.conf.5" "$T/man/man5/"
	cp "$top_srcdir/man/mssql-capture.7" "$T/man/man7/"
	cp "$top_srcdir/man/mssql-capture.8" "$T/man/man8/"
	sed -e "s|^ExecStart=[^ ]*|ExecStart=$MSSQL_CAPTURE|" "$UNIT" \
	    >"$T/unit/mssql-capture.service"
	RC=0
	MANPATH=$T/man run_with_timeout 60 systemd-analyze verify \
	    "$T/unit/mssql-capture.service" >"$T/out" 2>"$T/err" || RC=$?
	check "systemd-analyze verify accepts the unit, silently" \
	    sh -c "test $RC -eq 0 && ! test -s '$T/err' && ! test -s '$T/out'"
else
	echo "note: systemd-analyze is not installed: the unit is not" \
	    "verified (apt-get install systemd)"
fi

# --- run --pidfile, run --daemonize --------------------------------------

sim_start
sq "CREATE TABLE t1 (id int NOT NULL PRIMARY KEY, name nvarchar(50) NULL);
ALTER DATABASE $DB SET CHANGE_TRACKING = ON;
ALTER TABLE t1 ENABLE CHANGE_TRACKING;
INSERT INTO t1 VALUES (1, 'a'), (2, 'b');
CREATE TABLE t2 (id int NOT NULL PRIMARY KEY, name nvarchar(50) NULL);
ALTER TABLE t2 ENABLE CHANGE_TRACKING;
INSERT INTO t2 VALUES (10, 'x'), (11, 'y'), (12, 'z')" >"$T/setup.log"

B1='[{"namespace": "dbo", "stream": "t1"}]'
B2='[{"namespace": "dbo", "stream": "t1"}, {"namespace": "dbo", "stream": "t2"}]'
mkcfg svc1 "$B1"
mkcfg svc2 "$B1"
mkdir -p "$T/run"
PF=$T/run/fg.pid

runbg svc1 run --pidfile "$PF"
wait_for 20 test -s "$PF"
expect "--pidfile holds the daemon's pid" "$(cat "$PF" 2>/dev/null)" \
    "$DAEMON_PID"
wait_for 30 has_lines "$T/svc1.jsonl" 2

runcap 30 svc2 run --pidfile "$PF"
expect "a second daemon on the same pidfile exits 2" "$RC" 2
expect_grep "... naming the first one" "$T/err" \
    "pidfile $PF: locked by another mssql-capture (pid $DAEMON_PID)"
expect "... and the pidfile is left alone" "$(cat "$PF")" "$DAEMON_PID"

kill -TERM "$DAEMON_PID"
waitbg 30
expect "SIGTERM: the daemon exits 0" "$RC" 0
expect "... and removes its pidfile" "$(ls "$PF" 2>/dev/null)" ""

echo 999999999 >"$PF"
runcap 60 svc2 run --once --pidfile "$PF"
expect "a stale pidfile is replaced: run --once exits 0" "$RC" 0
expect_grep "... saying so" "$T/err" "replacing a stale one (pid 999999999"
expect "... and removed at the end" "$(ls "$PF" 2>/dev/null)" ""

runcap 30 svc2 run --pidfile ''
expect "an empty --pidfile: exit 2" "$RC" 2
runcap 30 svc2 verify --daemonize
expect "--daemonize on another command than run: exit 2" "$RC" 2
expect_grep "... saying it belongs to run" "$T/err" 'options of run only'

# --daemonize that cannot start: the caller gets the status and reason.
printf '{"address": "x", "bogus": 1}\n' >"$T/svcbad.json"
runcap 30 svcbad run --daemonize --pidfile "$T/run/bad.pid"
expect "--daemonize, bad configuration: exit 2" "$RC" 2
expect_grep "... the problem on stderr" "$T/err" '/bogus: unknown key'
expect "... no pidfile" "$(ls "$T/run/bad.pid" 2>/dev/null)" ""

sed 's|"output": {"path": "[^"]*"}|"output": {"path": "-"}|' \
    "$T/svc1.json" >"$T/svcstdout.json"
runcap 30 svcstdout run --daemonize
expect "--daemonize with output \"-\": exit 2" "$RC" 2
expect_grep "... says why" "$T/err" 'set output.path to a file'

: >"$T/svc2.state.db-lock"
flock "$T/svc2.state.db-lock" sleep 20 &
LOCKER=$!
sleep 0.3
runcap 30 svc2 run --daemonize --pidfile "$T/run/locked.pid"
kill "$LOCKER" 2>/dev/null
wait "$LOCKER" 2>/dev/null
expect "--daemonize, state in use: the daemon's exit 2 comes back" "$RC" 2
expect_grep "... with its message on stderr" "$T/err" \
    'in use by another mssql-capture process'
expect "... and its pidfile is removed" \
    "$(ls "$T/run/locked.pid" 2>/dev/null)" ""

# --daemonize that starts.
DPF=$T/run/daemon.pid
runcap 30 svc1 run --daemonize --pidfile "$DPF"
expect "--daemonize: exit 0 once running" "$RC" 0
DPID=$(cat "$DPF" 2>/dev/null)
check "... the pidfile names a live daemon" \
    sh -c "test -n '$DPID' && test -d /proc/$DPID"
expect "... which leads its own session" \
    "$(ps -o sid= -p "$DPID" 2>/dev/null | tr -d ' ')" "$DPID"
expect "... with its standard streams on /dev/null" \
    "$(readlink "/proc/$DPID/fd/0") $(readlink "/proc/$DPID/fd/1") $(readlink "/proc/$DPID/fd/2")" \
    "/dev/null /dev/null /dev/null"
wait_for 20 sh -c "test -n \"\$(ps -o pid= --ppid $DPID)\""
WPID=$(ps -o pid= --ppid "$DPID" | head -n 1 | tr -d ' ')
expect "... and so has its worker" "$(readlink "/proc/$WPID/fd/2" 2>/dev/null)" \
    /dev/null
n=$(lines "$T/svc1.jsonl")
sq "INSERT INTO t1 VALUES (3, 'c')" >/dev/null
check "... and it captures" wait_for 30 has_lines "$T/svc1.jsonl" $((n + 1))
kill -TERM "$DPID"
check "SIGTERM: the daemon exits" wait_for 30 gone "$DPID"
expect "... and removes its pidfile" "$(ls "$DPF" 2>/dev/null)" ""

# --- the init script ------------------------------------------------------

# Run the init script on private paths: initd NAME ACTION; status in RC.
initd()
{
	RC=0
	CONFIG=$T/$1.json PIDFILE=$T/run/$1.pid STATEDIR=$T/$1.statedir \
	    DAEMON=$MSSQL_CAPTURE MSSQL_CAPTURE_DEFAULTS=/nonexistent \
	    ENVFILE=/nonexistent START_STOP_DAEMON=$SSD \
	    INIT_FUNCTIONS=$INITF run_with_timeout 90 sh "$INITD" "$2" \
	    >"$T/out" 2>"$T/err" || RC=$?
}

# The init script's life cycle, variant $1 (start-stop-daemon or sh).
initd_cycle()
{
	v=$1
	name=svc$v
	mkcfg "$name" "$B1"
	pf=$T/run/$name.pid

	initd "$name" status
	expect "init.d ($v): status before start is 3" "$RC" 3
	initd "$name" start
	expect "init.d ($v): start exits 0" "$RC" 0
	pid=$(cat "$pf" 2>/dev/null)
	check "init.d ($v): the pidfile holds the live daemon" \
	    sh -c "test -n '$pid' && test -d /proc/$pid"
	check "init.d ($v): STATEDIR is created" test -d "$T/$name.statedir"
	initd "$name" status
	expect "init.d ($v): status while running is 0" "$RC" 0
	expect_grep "init.d ($v): status names the pid" "$T/out" "$pid"
	check "init.d ($v): the daemon captures" \
	    wait_for 30 has_lines "$T/$name.jsonl" 3
	initd "$name" start
	expect "init.d ($v): start while running exits 0" "$RC" 0
	expect "init.d ($v): ... and starts nothing" "$(cat "$pf")" "$pid"

	mkcfg "$name" "$B2"
	initd "$name" reload
	expect "init.d ($v): reload exits 0" "$RC" 0
	check "init.d ($v): the binding added by reload captures" \
	    wait_for 30 has_lines "$T/$name.jsonl" 6
	expect "init.d ($v): ... in the same daemon" "$(cat "$pf")" "$pid"

	initd "$name" stop
	expect "init.d ($v): stop exits 0" "$RC" 0
	check "init.d ($v): stop leaves no process" \
	    no_live_procs "$T/$name.json"
	expect "init.d ($v): ... and no pidfile" "$(ls "$pf" 2>/dev/null)" ""
	initd "$name" status
	expect "init.d ($v): status after stop is 3" "$RC" 3
	initd "$name" stop
	expect "init.d ($v): stop when stopped exits 0" "$RC" 0
	initd "$name" reload
	expect "init.d ($v): reload when stopped exits 7" "$RC" 7

	initd "$name" restart
	expect "init.d ($v): restart from stopped exits 0" "$RC" 0
	pid=$(cat "$pf" 2>/dev/null)
	kill -9 "$pid"
	wait_for 10 gone "$pid"
	initd "$name" status
	expect "init.d ($v): killed, status is 1 (pidfile left)" "$RC" 1
	check "init.d ($v): its workers exit with it" \
	    wait_for 20 no_live_procs "$T/$name.json"
	initd "$name" start
	expect "init.d ($v): start over a stale pidfile exits 0" "$RC" 0
	check "init.d ($v): ... with a new daemon" \
	    sh -c "test \"\$(cat '$pf')\" != '$pid'"
	initd "$name" stop
	expect "init.d ($v): stop again exits 0" "$RC" 0
	check "init.d ($v): ... no process left" \
	    no_live_procs "$T/$name.json"

	printf '{"address": "x", "nope": 1}\n' >"$T/$name.json"
	initd "$name" start
	check "init.d ($v): start on a bad configuration fails" \
	    test "$RC" -ne 0
	expect_grep "init.d ($v): ... with the daemon's message" "$T/err" \
	    '/nope: unknown key'
	initd "$name" status
	expect "init.d ($v): ... and nothing runs" "$RC" 3
}

if command -v start-stop-daemon >/dev/null 2>&1; then
	SSD=start-stop-daemon
	INITF=/lib/lsb/init-functions
	SYSTEMCTL_SKIP_REDIRECT=1
	export SYSTEMCTL_SKIP_REDIRECT
	initd_cycle ssd
else
	echo "note: start-stop-daemon is not installed: only the plain sh" \
	    "variant of the init script is tested"
fi
SSD=
INITF=
initd_cycle sh

# --- make install ---------------------------------------------------------

D=$T/dest
RC=0
(cd "$top_builddir" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL timeout -k 5 300 \
    make install DESTDIR="$D") >"$T/out" 2>"$T/err" ||
	RC=$?
expect "make install DESTDIR=... succeeds" "$RC" 0

# The one installed file whose path ends in $1.
installed()
{
	find "$D" -type f -o -type l | grep -- "$1\$" | head -n 1
}
for f in /sbin/mssql-capture /man8/mssql-capture.8 \
    /man5/mssql-capture.conf.5 /man7/mssql-capture.7 \
    /init.d/mssql-capture /systemd/system/mssql-capture.service \
    /etc/mssql-capture/mssql-capture.json \
    /examples/mssql-capture.json; do
	check "make install: $f" test -n "$(installed "$f")"
done
check "make install: the init script is executable" \
    test -x "$(installed /init.d/mssql-capture)"
SBIN=$(installed /sbin/mssql-capture)
SBIN=${SBIN#"$D"}
check "make install: the unit runs the installed binary" \
    grep -q "^ExecStart=$SBIN -c " "$(installed /mssql-capture.service)"
check "make install: so does the init script" \
    grep -q "DAEMON:=$SBIN}" "$(installed /init.d/mssql-capture)"
CONF=$(installed /etc/mssql-capture/mssql-capture.json)
check "make install: the configuration's paths are absolute" \
    sh -c "! grep -q '\"path\": \"[^/]' '$CONF'"
run -c "$CONF" -n
expect "make install: the installed configuration is valid" "$RC" 0

echo '// edited' >>"$CONF"
(cd "$top_builddir" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL timeout -k 5 300 \
    make install DESTDIR="$D") >"$T/out" 2>&1
expect "make install again keeps an edited configuration" \
    "$(tail -n 1 "$CONF")" "// edited"
RC=0
(cd "$top_builddir" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL timeout -k 5 300 \
    make uninstall DESTDIR="$D") >"$T/out" 2>"$T/err" ||
	RC=$?
expect "make uninstall succeeds" "$RC" 0
expect "make uninstall leaves only the edited configuration" \
    "$(find "$D" -type f | sed "s|^$D||")" "${CONF#"$D"}"

finish
