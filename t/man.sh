#!/bin/sh
#
# The manual pages render without warnings (issue 7): every page in
# man/ goes through "mandoc -T lint -W warning", so a broken macro, a
# bad argument or a misplaced list fails "make check" instead of
# showing up garbled on an operator's terminal, and through "groff -ww"
# when groff is there (man-db renders with groff).  Notes of level
# STYLE, such as "referenced manual not found" for our own pages that
# are not installed on the build machine, are not warnings.  Every
# page named in Makefile.am's dist_man_MANS must exist, so a page
# cannot be forgotten.  Skipped without mandoc.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"

command -v mandoc >/dev/null 2>&1 ||
	skip "mandoc is not installed (apt-get install mandoc)"

for f in "$top_srcdir"/man/*.[1-9]; do
	name=$(basename "$f")
	if out=$(mandoc -T lint -W warning "$f" 2>&1); then
		pass "$name: mandoc -T lint finds nothing"
	else
		fail "$name: mandoc -T lint" "$out"
	fi
	if command -v groff >/dev/null 2>&1; then
		out=$(groff -mdoc -ww -z -Tutf8 "$f" 2>&1)
		if [ -z "$out" ]; then
			pass "$name: groff -ww is silent"
		else
			fail "$name: groff -ww" "$out"
		fi
	fi
done

pages=$(sed -n '/^dist_man_MANS *=/,/[^\\]$/p' "$top_srcdir/Makefile.am" |
    tr -d '\\' | sed 's/^dist_man_MANS *=//')
for p in $pages; do
	if [ -f "$top_srcdir/$p" ]; then
		pass "$p (dist_man_MANS) exists"
	else
		fail "$p is in dist_man_MANS but not in the tree"
	fi
done
case " $(echo $pages) " in
*" man/mssql-capture.7 "*) pass "mssql-capture(7) is installed" ;;
*) fail "man/mssql-capture.7 is not in dist_man_MANS" ;;
esac

finish
