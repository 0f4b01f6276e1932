# t/lib.sh: shared helpers for the shell integration tests.
#
# A test sources this file, runs checks with "check" or "fail"/"pass",
# and ends with "finish", which prints "N passed, N failed" as its last
# line and exits non-zero if anything failed.  Every test gets a private
# directory, $T, under ${TMPDIR:-/tmp}, removed on exit by a trap, and
# every process it starts should run under run_with_timeout so that a
# hung daemon fails the test instead of hanging "make check".
#
# make check sets $MSSQL_CAPTURE (the binary under test) and $top_srcdir
# (AM_TESTS_ENVIRONMENT); run by hand, both default to this checkout.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${MSSQL_CAPTURE:=$top_builddir/mssql-capture}"
: "${PYTHON3:=/usr/bin/python3}"
export top_srcdir top_builddir MSSQL_CAPTURE

T_NAME=$(basename "$0" .sh)
T_PASSED=0
T_FAILED=0
T=$(mktemp -d "${TMPDIR:-/tmp}/mssql-capture-$T_NAME.XXXXXX") ||
	{ echo "$T_NAME: cannot make a temporary directory" >&2; exit 99; }
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP

if [ ! -x "$MSSQL_CAPTURE" ]; then
	echo "$T_NAME: $MSSQL_CAPTURE is not executable" >&2
	exit 99
fi

# Record a failure: fail DESCRIPTION [DETAIL...].
fail()
{
	T_FAILED=$((T_FAILED + 1))
	echo "FAIL: $1"
	shift
	for line in "$@"; do
		printf '    %s\n' "$line"
	done
}

# Record a success: pass DESCRIPTION.
pass()
{
	T_PASSED=$((T_PASSED + 1))
	echo "ok: $1"
}

# Skip the whole test (automake counts exit 77 as SKIP): skip REASON.
skip()
{
	echo "SKIP: $1"
	exit 77
}

# Run a command with a hard time limit: run_with_timeout SECS CMD [ARG...].
# Exits with the command's status, or 124 if it had to be killed.
run_with_timeout()
{
	_secs=$1
	shift
	timeout -k 5 "$_secs" "$@"
}

# Run the binary under a 30 s limit, its output in $T/out and $T/err
# and its exit status in $RC: run [ARG...].
run()
{
	RC=0
	run_with_timeout 30 "$MSSQL_CAPTURE" "$@" >"$T/out" 2>"$T/err" || RC=$?
}

# check DESCRIPTION COMMAND...: pass if the command succeeds, else fail
# and show what the last run printed.
check()
{
	_what=$1
	shift
	if "$@"; then
		pass "$_what"
	else
		fail "$_what" "exit status: ${RC:-?}" \
		    "stdout: $(head -c 2000 "$T/out" 2>/dev/null)" \
		    "stderr: $(head -c 2000 "$T/err" 2>/dev/null)"
	fi
}

# Does FILE hold one valid JSON document?  is_json_file FILE
is_json_file()
{
	"$PYTHON3" -c 'import json,sys; json.load(sys.stdin)' <"$1"
}

# Print the totals and exit: 0 if nothing failed, 1 otherwise.
finish()
{
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ] || exit 1
	[ "$T_PASSED" -gt 0 ] || exit 1
	exit 0
}
