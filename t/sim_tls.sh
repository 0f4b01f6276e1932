#!/bin/sh
#
# TLS as SQL Server does it: the handshake wrapped in PRELOGIN packets,
# then TLS records under the TDS packets, either for the whole session
# (client asks ENCRYPT_ON: FreeTDS "encryption = require") or for the
# LOGIN7 packet only (client says ENCRYPT_OFF: FreeTDS's default
# "request").  mssql-capture's FreeTDS uses one or the other depending
# on its configuration; both must work, and a server without a
# certificate must answer ENCRYPT_NOT_SUP so that "request" clients
# carry on in plain text while "require" clients refuse.
#
# FreeTDS's TDSDUMP log shows what happened on the client side.  The
# pytds side of TLS is in sim_pytds.py.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"

SIM=${MSSQLSIM:-$top_builddir/t/mssqlsim/mssqlsim}
SIM_PID=

sim_stop()
{
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
		SIM_PID=
	fi
}
trap 'sim_stop; [ -n "$KEEP" ] || rm -rf "$T"' EXIT

# sim_start [mssqlsim options...]: start on a free port, set PORT.
sim_start()
{
	rm -rf "$T/data" "$T/sim.out"
	mkdir -p "$T/data"
	# timeout(1) itself, not a function in a subshell, so that $! is
	# the process that forwards our SIGTERM to mssqlsim.
	timeout -k 5 120 "$SIM" --listen 127.0.0.1:0 --data "$T/data" \
	    --sa-password "$PW" "$@" >"$T/sim.out" 2>"$T/sim.err" &
	SIM_PID=$!
	for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		grep -q '^port ' "$T/sim.out" 2>/dev/null && break
		sleep 0.1
	done
	PORT=$(sed -n 's/^port //p' "$T/sim.out")
	if [ -z "$PORT" ]; then
		echo "sim_tls: mssqlsim did not start" >&2
		cat "$T/sim.err" >&2
		exit 99
	fi
}

# tsql_enc MODE SQL: run SQL with FreeTDS "encryption = MODE"; output
# in $T/tsql.out, TDSDUMP log in $T/dump.
tsql_enc()
{
	cat >"$T/freetds.conf" <<EOF
[sim]
	host = $HOST
	port = $PORT
	tds version = 7.4
	encryption = $1
EOF
	rm -f "$T/dump"
	printf '%s\ngo\n' "$2" | FREETDSCONF=$T/freetds.conf \
	    TDSDUMP=$T/dump run_with_timeout 30 tsql -S sim -U "$U" \
	    -P "$PW" -o qh >"$T/tsql.out" 2>&1
}

expect()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: $3" "got: $2"
	fi
}

if [ -n "$MSSQL_TEST_ADDRESS" ]; then
	HOST=${MSSQL_TEST_ADDRESS%:*}
	PORT=${MSSQL_TEST_ADDRESS##*:}
	U=$MSSQL_TEST_USER
	PW=$MSSQL_TEST_PASSWORD
	tsql_enc require "select 42"
	expect "full TLS (encryption = require)" "$(cat "$T/tsql.out")" 42
	tsql_enc request "select 43"
	expect "login-only TLS (encryption = request)" \
	    "$(cat "$T/tsql.out")" 43
	finish
fi

HOST=127.0.0.1
U=sa
PW='Sim_tls1!'
if [ ! -x "$SIM" ]; then
	echo "sim_tls: $SIM is not built" >&2
	exit 99
fi
if ! openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1; then
	echo "sim_tls: cannot make a certificate" >&2
	exit 99
fi

# Without a certificate: NOT_SUP.
sim_start
tsql_enc request "select 1"
expect "no certificate: 'request' logs in in plain text" \
    "$(cat "$T/tsql.out")" 1
if grep -q 'handshake succeeded' "$T/dump"; then
	fail "no certificate: no TLS handshake"
else
	pass "no certificate: no TLS handshake"
fi
tsql_enc require "select 1"
if grep -qx 1 "$T/tsql.out"; then
	fail "no certificate: 'require' is refused" "$(cat "$T/tsql.out")"
else
	pass "no certificate: 'require' is refused"
fi
sim_stop

# With a certificate.
sim_start --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
tsql_enc request "select 2"
expect "login-only TLS: query answered" "$(cat "$T/tsql.out")" 2
if grep -q 'handshake succeeded' "$T/dump"; then
	pass "login-only TLS: handshake done"
else
	fail "login-only TLS: handshake done"
fi
word=$(printf '\303\251t\303\251')
tsql_enc require "select N'$word', 3"
expect "full TLS: query answered" "$(cat "$T/tsql.out")" \
    "$(printf '%s\t3' "$word")"
if grep -q 'handshake succeeded' "$T/dump"; then
	pass "full TLS: handshake done"
else
	fail "full TLS: handshake done"
fi
a100=$(printf 'a%.0s' $(seq 100))
tsql_enc require "create table sim_tls_t (i int primary key, s varchar(100))
insert into sim_tls_t values (1, '$a100')
insert into sim_tls_t select i + 1, s from sim_tls_t
insert into sim_tls_t select i + 2, s from sim_tls_t
insert into sim_tls_t select i + 4, s from sim_tls_t
insert into sim_tls_t select i + 8, s from sim_tls_t
insert into sim_tls_t select i + 16, s from sim_tls_t
insert into sim_tls_t select i + 32, s from sim_tls_t
insert into sim_tls_t select i + 64, s from sim_tls_t
insert into sim_tls_t select i + 128, s from sim_tls_t
insert into sim_tls_t select i + 256, s from sim_tls_t
insert into sim_tls_t select i + 512, s from sim_tls_t
select count(*), sum(len(s)) from sim_tls_t
select * from sim_tls_t"
expect "full TLS: 1024 rows of 100 bytes over many packets" \
    "$(grep -c "$(printf '\t')a*$" "$T/tsql.out")" 1024
tsql_enc off "select 4"
expect "encryption = off against a TLS server" "$(cat "$T/tsql.out")" 4
tsql_enc request "select 1/0"
if grep -q '^Msg 8134' "$T/tsql.out"; then
	pass "login-only TLS: errors after login in plain text"
else
	fail "login-only TLS: errors after login in plain text" \
	    "$(cat "$T/tsql.out")"
fi
sim_stop
finish
