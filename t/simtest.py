# t/simtest.py: what the python3-tds tests of mssqlsim share (sim_pytds.py,
# sim_ct.py, sim_cdc.py): counting checks and printing "N passed, N
# failed", a private temporary directory and every simulator started,
# cleaned up on exit or after a hard time limit, starting mssqlsim on a
# free port (or using the real server of MSSQL_TEST_ADDRESS,
# MSSQL_TEST_USER, MSSQL_TEST_PASSWORD) and connecting to it.

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

try:
    import pytds
except ImportError:
    print("%s: python3-tds is not installed" %
          os.path.basename(sys.argv[0]), file=sys.stderr)
    sys.exit(77)

NAME = os.path.splitext(os.path.basename(sys.argv[0]))[0]
PASSED = 0
FAILED = 0
TMP = None
PROCS = []
HOST = PORT = USER = PASSWORD = None
REAL = False
SIM_PASSWORD = None
SIM_TIMEOUT = 300


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    if TMP is not None:
        shutil.rmtree(TMP, ignore_errors=True)


def setup(sim_password, limit=300):
    """Make the temporary directory; give up after limit seconds."""
    global TMP, SIM_PASSWORD, SIM_TIMEOUT
    TMP = tempfile.mkdtemp(prefix=NAME + ".")
    SIM_PASSWORD = sim_password
    SIM_TIMEOUT = limit
    atexit.register(cleanup)
    signal.signal(signal.SIGALRM, lambda *a: (print(NAME + ": timeout"),
                                              cleanup(), os._exit(1)))
    signal.alarm(limit)


def check(name, ok, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print("ok: " + name)
    else:
        FAILED += 1
        print("FAIL: " + name)
        if detail:
            print("    " + str(detail)[:600])


def expect(name, got, want):
    check(name, got == want, "expected %r, got %r" % (want, got))


def run(name, fn):
    """Run one group of checks; an exception fails it.  With ONLY set
    in the environment, only the groups whose name contains it run."""
    only = os.environ.get("ONLY")
    if only and only not in name:
        return
    try:
        fn()
    except Exception as e:
        check(name, False, "%s: %s" % (type(e).__name__, str(e)[:600]))
        traceback.print_exc(file=sys.stdout, limit=5)


def start_sim(*args):
    """Start a private mssqlsim with a fresh data directory; its port."""
    top = os.environ.get("top_builddir",
                         os.path.join(os.path.dirname(__file__), ".."))
    sim = os.environ.get("MSSQLSIM",
                         os.path.join(top, "t", "mssqlsim", "mssqlsim"))
    data = tempfile.mkdtemp(dir=TMP)
    # Under timeout(1), so that it dies even if we are killed.
    p = subprocess.Popen(["timeout", "-k", "5", str(SIM_TIMEOUT), sim,
                          "--listen", "127.0.0.1:0", "--data", data,
                          "--sa-password", SIM_PASSWORD] + list(args),
                         stdout=subprocess.PIPE)
    PROCS.append(p)
    line = p.stdout.readline().decode()
    if not line.startswith("port "):
        print(NAME + ": mssqlsim did not start", file=sys.stderr)
        sys.exit(99)
    return int(line.split()[1])


def server(*sim_args):
    """The server under test: MSSQL_TEST_ADDRESS, or a private
    mssqlsim started with sim_args.  Sets and returns HOST, PORT, USER,
    PASSWORD, REAL."""
    global HOST, PORT, USER, PASSWORD, REAL
    if os.environ.get("MSSQL_TEST_ADDRESS"):
        HOST, port = os.environ["MSSQL_TEST_ADDRESS"].rsplit(":", 1)
        PORT = int(port)
        USER = os.environ["MSSQL_TEST_USER"]
        PASSWORD = os.environ["MSSQL_TEST_PASSWORD"]
        REAL = True
    else:
        HOST, USER, PASSWORD, REAL = "127.0.0.1", "sa", SIM_PASSWORD, False
        PORT = start_sim(*sim_args)
    return HOST, PORT, USER, PASSWORD, REAL


def connect(port=None, **kw):
    """A pytds connection to the server (autocommit unless kw says)."""
    args = dict(server=HOST, port=port or PORT, user=USER,
                password=PASSWORD, autocommit=True, login_timeout=10,
                timeout=60)
    args.update(kw)
    return pytds.connect(**args)


def finish():
    """Print the closing line and exit: 0 only if something passed and
    nothing failed."""
    print("%d passed, %d failed" % (PASSED, FAILED))
    sys.exit(0 if FAILED == 0 and PASSED > 0 else 1)
