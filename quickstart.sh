#!/bin/sh
# quickstart.sh: install what mssql-capture needs on Debian, build it,
# and show a capture against the bundled SQL Server simulator
# (t/demo.sh).
#
#   ./quickstart.sh            install packages, build, demo
#   ./quickstart.sh --no-deps  build and demo (packages already installed)
#
# Package installation uses sudo when not run as root.
set -eu

# mandoc lints the man pages (t/man.sh); systemd brings systemd-analyze,
# which verifies the unit (t/service.sh); nothing is started.
PACKAGES="autoconf automake pkg-config make gcc libc6-dev \
	freetds-dev freetds-bin libevent-dev libmsgpack-dev libsqlite3-dev \
	sqlite3 libssl-dev openssl check libjansson-dev python3 python3-tds \
	mandoc clang-format systemd"

cd "$(dirname "$0")"

if [ "${1:-}" != "--no-deps" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "quickstart: installing Debian packages (apt-get)"
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $PACKAGES
fi

echo "quickstart: building"
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure --enable-debug
make -j"$(nproc 2>/dev/null || echo 2)"

echo "quickstart: checking the example configuration"
./mssql-capture -c etc/mssql-capture.json -n

echo "quickstart: a capture against the bundled simulator (t/demo.sh)"
t/demo.sh .

echo "quickstart: done.  Run the tests with: make check"
