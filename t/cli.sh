#!/bin/sh
#
# The command line as an operator meets it before any server is
# involved: --version, --help, an unknown command, and the
# configuration test (-n) on the shipped example and on a bad file,
# which must exit 2 and list every problem at once, not the first only.
# The effective configuration printed by -n must be valid JSON with the
# password masked, and MSSQL_CAPTURE_PASSWORD must override the file.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"

EXAMPLE=$top_srcdir/etc/mssql-capture.json
unset MSSQL_CAPTURE_PASSWORD

run --version
check "--version prints the version" \
    test "$RC" -eq 0 -a "$(cat "$T/out")" = "mssql-capture 0.1.0"

run -V
check "-V prints the version" \
    test "$RC" -eq 0 -a "$(cat "$T/out")" = "mssql-capture 0.1.0"

run --help
check "--help exits 0 with a usage message" \
    sh -c "test $RC -eq 0 && grep -q '^usage: mssql-capture' '$T/out' &&
	grep -q 'config-test' '$T/out'"

run frobnicate
check "an unknown command exits 2 and says so" \
    sh -c "test $RC -eq 2 &&
	grep -q \"unknown command 'frobnicate'\" '$T/err' &&
	grep -q '^usage:' '$T/err'"

run --no-such-option
check "an unknown option exits 2" test "$RC" -eq 2

run -n
check "-n without -c exits 2 and asks for -c" \
    sh -c "test $RC -eq 2 && grep -q -- '-c FILE' '$T/err'"

run -c "$EXAMPLE" -n
check "the example configuration passes -n" test "$RC" -eq 0
check "-n prints valid JSON" is_json_file "$T/out"
check "-n masks the password" \
    sh -c "grep -q '\"password\": \"\*\*\*\*\*\*\*\*\"' '$T/out' &&
	! grep -q 'change-me' '$T/out'"
check "-n shows defaults applied" \
    sh -c "grep -q '\"backfill_chunk_size\": 50000' '$T/out' &&
	grep -q '\"password_source\": \"password\"' '$T/out'"
check "-n reports success on stderr" grep -q 'test is successful' "$T/err"

run -c "$EXAMPLE" config-test
check "config-test is the same as -n" \
    sh -c "test $RC -eq 0 && grep -q '\"database\": \"shop\"' '$T/out'"

MSSQL_CAPTURE_PASSWORD=from-env run -c "$EXAMPLE" -n
check "MSSQL_CAPTURE_PASSWORD overrides the file" \
    sh -c "test $RC -eq 0 &&
	grep -q '\"password_source\": \"MSSQL_CAPTURE_PASSWORD\"' '$T/out' &&
	! grep -q 'from-env' '$T/out'"

cat >"$T/bad.json" <<'JSON'
// three problems, all reported
{
	"address": "db:0",
	"user": "u",
	"password": "p",
	"advanced": { "backfil_chunk_size": 10 }
}
JSON
run -c "$T/bad.json" -n
check "a bad configuration exits 2" test "$RC" -eq 2
check "a bad configuration prints nothing on stdout" test ! -s "$T/out"
check "every problem is reported" \
    sh -c "grep -q '^config: /address: expected host or host:port' '$T/err' &&
	grep -q '^config: /advanced/backfil_chunk_size: unknown key (did you mean \"backfill_chunk_size\"?)' '$T/err' &&
	grep -q '^config: /database: required key is missing' '$T/err' &&
	grep -q '(3 problems)' '$T/err'"

printf '{ "address": "db",\n  "database": }\n' >"$T/syntax.json"
run -c "$T/syntax.json" -n
check "a syntax error names file, line and column" \
    sh -c "test $RC -eq 2 && grep -q '^config: $T/syntax.json:2:[0-9]*: ' '$T/err'"

run -c "$T/missing.json" -n
check "a missing file is named with the reason" \
    sh -c "test $RC -eq 2 &&
	grep -q '^config: $T/missing.json: No such file or directory' '$T/err'"

finish
