#!/bin/sh
#
# mssqlsim's TDS layer as FreeTDS's own tools see it: tsql for logins,
# errors and result sets, freebcp for bulk copy out and in (character
# and native mode, two packet sizes) and several clients at once (the
# db-lib checks, cancel among them, are t/mssqlsim/sim_dblib).
# mssql-capture talks to SQL Server through FreeTDS, so these are the
# tools whose opinion matters: what they accept, a real server must
# also produce.
#
# With MSSQL_TEST_ADDRESS=host:port, MSSQL_TEST_USER and
# MSSQL_TEST_PASSWORD set the same checks run against that server.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"

SIM=${MSSQLSIM:-$top_builddir/t/mssqlsim/mssqlsim}
SIM_PID=

# Stop the simulator we started.
sim_stop()
{
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
		SIM_PID=
	fi
}
trap 'sim_stop; [ -n "$KEEP" ] || rm -rf "$T"' EXIT

# Start mssqlsim on a free port (or use MSSQL_TEST_ADDRESS) and write
# a freetds.conf naming it "sim".
sim_start()
{
	if [ -n "$MSSQL_TEST_ADDRESS" ]; then
		HOST=${MSSQL_TEST_ADDRESS%:*}
		PORT=${MSSQL_TEST_ADDRESS##*:}
		U=$MSSQL_TEST_USER
		PW=$MSSQL_TEST_PASSWORD
	else
		if [ ! -x "$SIM" ]; then
			echo "sim_wire: $SIM is not built" >&2
			exit 99
		fi
		mkdir -p "$T/data"
		HOST=127.0.0.1
		U=sa
		PW='Sim_wire1!'
		# timeout(1) itself, not a function in a subshell, so that
		# $! is the process that forwards our SIGTERM to mssqlsim.
		timeout -k 5 300 "$SIM" --listen 127.0.0.1:0 \
		    --data "$T/data" --sa-password "$PW" \
		    >"$T/sim.out" 2>"$T/sim.err" &
		SIM_PID=$!
		for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			grep -q '^port ' "$T/sim.out" 2>/dev/null && break
			sleep 0.1
		done
		PORT=$(sed -n 's/^port //p' "$T/sim.out")
		if [ -z "$PORT" ]; then
			echo "sim_wire: mssqlsim did not start" >&2
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
}

# Run a batch through tsql; rows (no headers) on stdout, messages too.
sq()
{
	printf '%s\ngo\n' "$1" |
	    run_with_timeout 60 tsql -S sim -U "$U" -P "$PW" -o qh 2>&1
}

# bcp: freebcp TABLE in|out FILE [options...], output in $T/bcp.log.
bcp()
{
	run_with_timeout 120 freebcp "$@" -S sim -U "$U" -P "$PW" \
	    >"$T/bcp.log" 2>&1
}

# expect DESCRIPTION ACTUAL EXPECTED
expect()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: $3" "got: $2"
	fi
}

# expect_grep DESCRIPTION TEXT PATTERN
expect_grep()
{
	if printf '%s\n' "$2" | grep -q -- "$3"; then
		pass "$1"
	else
		fail "$1" "expected to match: $3" "got: $2"
	fi
}

sim_start

# Logins and plain values.
expect "select 1" "$(sq 'select 1')" "1"
word=$(printf 'h\303\251llo \360\237\230\200')
expect "nvarchar literal survives UCS-2" "$(sq "select N'$word'")" "$word"
expect "NULL prints as NULL" "$(sq 'select cast(null as int)')" "NULL"
expect "two statements, two results" "$(sq 'select 10 select 20')" \
    "$(printf '10\n20')"
expect_grep "division by zero is error 8134" "$(sq 'select 1/0')" \
    "^Msg 8134"
out=$(printf 'select 1\ngo\n' |
    run_with_timeout 30 tsql -S sim -U "$U" -P 'not the password' 2>&1)
expect_grep "bad password is error 18456" "$out" "^Msg 18456"
out=$(printf 'select 1\ngo\n' |
    run_with_timeout 30 tsql -S sim -U "$U" -P "$PW" -D no_such_db 2>&1)
expect_grep "unknown database is error 4060" "$out" "^Msg 4060"
expect_grep "... followed by 18456" "$out" "^Msg 18456"

# Several clients at once.
pids=
for i in 1 2 3 4 5 6 7 8; do
	sq "select $i * 1000" >"$T/par.$i" &
	pids="$pids $!"
done
wait $pids
ok=1
for i in 1 2 3 4 5 6 7 8; do
	[ "$(cat "$T/par.$i")" = "$((i * 1000))" ] || ok=0
done
expect "8 concurrent tsql sessions" "$ok" 1

# Bulk copy in and out, character mode: what goes in comes out.
sq "if object_id('sim_wire_t') is not null drop table sim_wire_t
if object_id('sim_wire_u') is not null drop table sim_wire_u" >/dev/null
sq "create table sim_wire_t (id int not null primary key, b bigint null,
	d decimal(18,4) null, s varchar(50) null, n nvarchar(50) null)" \
    >"$T/create.log"
awk 'BEGIN {
	for (i = 1; i <= 20000; i++) {
		b = (i % 7 == 0) ? "" : sprintf("%.0f", i * 1000003);
		s = (i % 5 == 0) ? "" : "row " i;
		printf "%d\t%s\t%d.%04d\t%s\tn\303\251 %d\n", i, b, i, i % 10000,
		    s, i;
	}
}' >"$T/in.txt"
if bcp sim_wire_t in "$T/in.txt" -c; then
	pass "freebcp in -c"
else
	fail "freebcp in -c" "$(head -20 "$T/bcp.log")"
fi
expect "rows loaded" "$(sq 'select count(*), sum(cast(id as bigint)) from sim_wire_t')" \
    "$(printf '20000\t200010000')"
expect "NULLs loaded from empty fields" \
    "$(sq 'select count(*) from sim_wire_t where b is null')" "2857"
expect "a loaded row" \
    "$(sq 'select id, b, d, s, n from sim_wire_t where id = 12346')" \
    "$(printf '12346\t12346037038\t12346.2346\trow 12346\tn\303\251 12346')"
if bcp sim_wire_t out "$T/out.txt" -c; then
	pass "freebcp out -c"
else
	fail "freebcp out -c" "$(head -20 "$T/bcp.log")"
fi
sort -n "$T/out.txt" >"$T/out.sorted"
if cmp -s "$T/in.txt" "$T/out.sorted"; then
	pass "freebcp out -c gives back what went in"
else
	fail "freebcp out -c gives back what went in" \
	    "$(diff "$T/in.txt" "$T/out.sorted" | head -5)"
fi
if bcp sim_wire_t out "$T/out8k.txt" -c -A 8192 &&
    sort -n "$T/out8k.txt" | cmp -s - "$T/in.txt"; then
	pass "freebcp out -c with 8192-byte packets"
else
	fail "freebcp out -c with 8192-byte packets" "$(head -20 "$T/bcp.log")"
fi

# Native mode: out, in to a twin table, out again: identical files.
# FreeTDS 1.3's native files do not round-trip NULLs (prefix 0 is read
# back as an empty value, or breaks fixed-width columns), nvarchar (out
# in the client charset, in as UCS-2) or date (a 16-byte internal
# struct), whatever the server; the table avoids those.
cols="(id int not null primary key, b bigint not null,
	d decimal(18,4) not null, f float not null, s varchar(50) not null,
	t datetime2 not null, x bit not null, v varbinary(16) not null,
	g uniqueidentifier not null, m money not null)"
sq "if object_id('sim_wire_n') is not null drop table sim_wire_n
create table sim_wire_n $cols
insert into sim_wire_n select id, isnull(b, -1), d, id / 4.0,
	isnull(s, 'none'), '2024-02-29 23:59:59.1234567', id % 2, 0x00ff10,
	'6F9619FF-8B86-D011-B42D-00C04FC964FF', -214748.3648
	from sim_wire_t
create table sim_wire_u $cols" >"$T/create2.log"
if bcp sim_wire_n out "$T/t.native" -n &&
    bcp sim_wire_u in "$T/t.native" -n &&
    bcp sim_wire_u out "$T/u.native" -n; then
	pass "freebcp native out, in, out"
else
	fail "freebcp native out, in, out" "$(head -20 "$T/bcp.log")"
fi
expect "native copy has every row" \
    "$(sq 'select count(*) from sim_wire_u u join sim_wire_n t on t.id = u.id
	where t.b = u.b and t.d = u.d and t.f = u.f and t.s = u.s
	and t.t = u.t and t.x = u.x and t.v = u.v and t.g = u.g and t.m = u.m')" \
    "20000"
if cmp -s "$T/t.native" "$T/u.native"; then
	pass "native files identical"
else
	fail "native files identical"
fi
sq "drop table sim_wire_t drop table sim_wire_u drop table sim_wire_n" \
    >/dev/null

# The simulator stops cleanly on SIGTERM (sent to mssqlsim itself, not
# to the timeout(1) wrapping it, whose status then is mssqlsim's).
if [ -n "$SIM_PID" ]; then
	child=$(pgrep -P "$SIM_PID")
	sq "select 1" >/dev/null
	kill -TERM $child
	rc=0
	wait "$SIM_PID" || rc=$?
	expect "SIGTERM stops mssqlsim with status 0" "$rc" 0
	SIM_PID=
fi

finish
