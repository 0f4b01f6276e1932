#!/usr/bin/python3
#
# mssqlsim through python3-tds (pytds), a TDS client written from the
# [MS-TDS] spec independently of FreeTDS: logins and their error
# numbers, RPC parameters (pytds sends every parameterised query as
# sp_executesql), transactions (pytds with autocommit=False drives them
# with Transaction Manager requests, not T-SQL), Attention (cancel),
# threads with a connection each, TLS (full and login-only, with the
# certificate checked), and every type at its edges as the wire carries
# it.  Runs against MSSQL_TEST_ADDRESS (host:port) with
# MSSQL_TEST_USER/MSSQL_TEST_PASSWORD when set (and MSSQL_TEST_CAFILE
# for its TLS check), else a private mssqlsim.  Needs /usr/bin/python3
# (the Debian python3-tds).

import datetime
import decimal
import os
import subprocess
import sys
import threading
import uuid

sys.dont_write_bytecode = True  # the source tree may be read-only
import simtest  # noqa: E402 (exits 77 without python3-tds)
import pytds  # noqa: E402
from simtest import check, connect, expect, run, start_sim  # noqa: E402

simtest.setup("Sim_pytds1!", 300)
TMP = simtest.TMP
HOST, PORT, USER, PASSWORD, REAL = simtest.server()


def q1(cur, sql, params=None):
    cur.execute(sql, params)
    return cur.fetchone()


def test_logins():
    with connect() as c:
        expect("login and select 1", q1(c.cursor(), "select 1"), (1,))
    try:
        connect(password="not the password")
        check("bad password refused", False)
    except pytds.Error as e:
        expect("bad password: error 18456", getattr(e, "msg_no", None),
               18456)
    try:
        connect(database="no_such_db")
        check("unknown database refused", False)
    except pytds.Error as e:
        check("unknown database: 4060 text, then 18456",
              getattr(e, "msg_no", None) == 18456 and
              "Cannot open database" in str(e), str(e))


def test_params():
    with connect() as c:
        cur = c.cursor()
        expect("sp_executesql int, str, None",
               q1(cur, "select %s, %s, %s", (42, "h\u00e9llo", None)),
               (42, "h\u00e9llo", None))
        expect("sp_executesql bigint and float",
               q1(cur, "select %s, %s", (2 ** 62, 0.5)), (2 ** 62, 0.5))
        blob = os.urandom(1 << 20)
        expect("1 MiB varbinary(max) parameter comes back",
               q1(cur, "select %s", (pytds.Binary(blob),))[0] == blob, True)
        s = "\U0001F600 \U0001D11E"
        expect("non-BMP nvarchar parameter", q1(cur, "select %s", (s,)),
               (s,))
        big = "x" * 5000
        expect("long nvarchar parameter", q1(cur, "select len(%s)", (big,)),
               (5000,))


def test_transactions():
    with connect() as c:
        cur = c.cursor()
        cur.execute("if object_id('sim_pytds_tx') is not null "
                    "drop table sim_pytds_tx")
        cur.execute("create table sim_pytds_tx (i int primary key)")
    c = connect(autocommit=False)
    cur = c.cursor()
    cur.execute("insert into sim_pytds_tx values (1)")
    c.rollback()
    expect("rollback undoes the insert",
           q1(cur, "select count(*) from sim_pytds_tx"), (0,))
    cur.execute("insert into sim_pytds_tx values (2)")
    c.commit()
    with connect() as other:
        expect("commit is visible to another session",
               q1(other.cursor(), "select i from sim_pytds_tx"), (2,))
    expect("@@trancount inside the implicit transaction",
           q1(cur, "select @@trancount"), (1,))
    c.commit()
    cur.execute("drop table sim_pytds_tx")
    c.commit()
    c.close()


def test_cancel():
    with connect() as c:
        cur = c.cursor()
        cur.execute("create table #big (i int primary key, s varchar(100))")
        cur.execute("insert into #big values (1, '%s')" % ("x" * 90))
        for k in range(18):
            cur.execute("insert into #big select i + %d, s from #big"
                        % (1 << k))
        cur.execute("select * from #big")
        expect("first row of a large result", cur.fetchone()[0] > 0, True)
        cur.cancel()
        expect("cancel leaves the connection usable",
               q1(cur, "select count(*) from #big"), (262144,))
        cur.execute("select 1")
        cur.fetchall()
        cur.cancel()
        expect("cancel after a complete result is harmless",
               q1(cur, "select 2"), (2,))


def test_threads():
    errors = []

    def worker(n):
        try:
            with connect() as c:
                cur = c.cursor()
                for k in range(20):
                    r = q1(cur, "select %s * 10 + %s", (n, k))
                    if r != (n * 10 + k,):
                        errors.append((n, k, r))
        except Exception as e:
            errors.append((n, repr(e)))

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    expect("16 threads, 20 queries each", errors, [])


def test_types():
    D = decimal.Decimal
    with connect() as c:
        cur = c.cursor()
        cases = [
            ("int edges", "select cast(-2147483648 as int), "
             "cast(2147483647 as int)", (-2147483648, 2147483647)),
            ("bigint edges", "select cast(-9223372036854775808 as bigint), "
             "cast(9223372036854775807 as bigint)",
             (-9223372036854775808, 9223372036854775807)),
            ("tinyint, smallint, bit", "select cast(255 as tinyint), "
             "cast(-32768 as smallint), cast(1 as bit)", (255, -32768, True)),
            ("decimal(38,0) max",
             "select cast('99999999999999999999999999999999999999' "
             "as decimal(38,0))",
             (D("99999999999999999999999999999999999999"),)),
            ("decimal(38,38)",
             "select cast('-0.99999999999999999999999999999999999999' "
             "as decimal(38,38))",
             (D("-0.99999999999999999999999999999999999999"),)),
            ("decimal(18,4) keeps its scale", "select cast(1.5 as "
             "decimal(18,4))", (D("1.5000"),)),
            ("money edges", "select cast('922337203685477.5807' as money), "
             "cast('-214748.3648' as smallmoney)",
             (D("922337203685477.5807"), D("-214748.3648"))),
            ("float and real", "select cast(1.7976931348623157e308 as float),"
             " cast(0.5 as real)", (1.7976931348623157e308, 0.5)),
            ("datetime rounds to 1/300 s",
             "select cast('2000-01-01 00:00:00.001' as datetime), "
             "cast('2000-01-01 00:00:00.005' as datetime), "
             "cast('1999-12-31 23:59:59.999' as datetime)",
             (datetime.datetime(2000, 1, 1, 0, 0, 0, 0),
              datetime.datetime(2000, 1, 1, 0, 0, 0, 7000),
              datetime.datetime(2000, 1, 1))),
            ("smalldatetime", "select cast('2079-06-06 23:59' as "
             "smalldatetime)", (datetime.datetime(2079, 6, 6, 23, 59),)),
            ("datetime2(7)", "select cast('9999-12-31 23:59:59.9999999' as "
             "datetime2(7)), cast('0001-01-01' as datetime2(7))",
             (datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
              datetime.datetime(1, 1, 1))),
            ("date edges", "select cast('0001-01-01' as date), "
             "cast('9999-12-31' as date)",
             (datetime.date(1, 1, 1), datetime.date(9999, 12, 31))),
            ("time(7)", "select cast('23:59:59.1234567' as time(7))",
             (datetime.time(23, 59, 59, 123456),)),
            ("uniqueidentifier", "select cast('6F9619FF-8B86-D011-B42D-"
             "00C04FC964FF' as uniqueidentifier)",
             (uuid.UUID("6F9619FF-8B86-D011-B42D-00C04FC964FF"),)),
            ("empty string vs NULL", "select '', cast(null as varchar(10)), "
             "N'', cast(null as nvarchar(5))", ("", None, "", None)),
            ("non-BMP nvarchar literal", "select N'\U0001F600'",
             ("\U0001F600",)),
            ("varbinary and empty varbinary", "select 0x00FF10, 0x",
             (b"\x00\xff\x10", b"")),
        ]
        for name, sql, want in cases:
            try:
                expect(name, q1(cur, sql), want)
            except Exception as e:
                check(name, False, "%s: %s" % (type(e).__name__, str(e)[:300]))
        for name, sql, off in [
                ("datetimeoffset +05:30",
                 "select cast('2024-01-01 10:00:00.1234567 +05:30' as "
                 "datetimeoffset(7))", 330),
                ("datetimeoffset -14:00",
                 "select cast('2024-01-01 10:00:00 -14:00' as "
                 "datetimeoffset)", -840)]:
            try:
                v = q1(cur, sql)[0]
                check(name, v.hour == 10 and
                      v.utcoffset() == datetime.timedelta(minutes=off) and
                      v.microsecond in (0, 123456), repr(v))
            except Exception as e:
                check(name, False, "%s: %s" % (type(e).__name__, str(e)[:300]))
        try:
            cur.execute("create table #g (g uniqueidentifier)")
            gs = ["00000000-0000-0000-0000-000000000001",
                  "00000000-0000-0000-0001-000000000000",
                  "00000000-0000-0001-0000-000000000000",
                  "00000001-0000-0000-0000-000000000000",
                  "00000000-0000-0000-0000-010000000000"]
            for g in gs:
                cur.execute("insert into #g values (%s)", (uuid.UUID(g),))
            cur.execute("select g from #g order by g")
            got = [str(r[0]).upper() for r in cur.fetchall()]
            want = [gs[3], gs[2], gs[1], gs[0], gs[4]]
            expect("uniqueidentifier sorts as SQL Server does", got,
                   [w.upper() for w in want])
        except Exception as e:
            check("uniqueidentifier order", False, repr(e)[:300])
        try:
            cur.execute("create table #b (v varbinary(max), n nvarchar(max))")
            blob = bytes(range(256)) * 4096
            text = "\u00e9\U0001F600" * 100000
            cur.execute("insert into #b values (%s, %s)",
                        (pytds.Binary(blob), text))
            v, n = q1(cur, "select v, n from #b")
            check("1 MiB varbinary(max) column round trip", v == blob,
                  "%d bytes" % len(v or b""))
            check("nvarchar(max) of 600 KB with surrogates", n == text,
                  "%d chars" % len(n or ""))
        except Exception as e:
            check("(max) columns", False, repr(e)[:300])


def test_tls():
    if REAL:
        # pytds needs the server's CA to speak TLS at all.
        if os.environ.get("MSSQL_TEST_CAFILE"):
            with connect(cafile=os.environ["MSSQL_TEST_CAFILE"],
                         validate_host=False) as c:
                expect("full TLS", q1(c.cursor(), "select 1"), (1,))
        return
    cert = os.path.join(TMP, "cert.pem")
    key = os.path.join(TMP, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-keyout", key, "-out", cert], capture_output=True)
    if r.returncode != 0:
        check("openssl makes a certificate", False, r.stderr)
        return
    port = start_sim("--tls-cert", cert, "--tls-key", key)
    for login_only in (False, True):
        what = "login-only" if login_only else "full"
        c = pytds.connect(server="localhost", port=port, user="sa",
                          password="Sim_pytds1!", cafile=cert,
                          validate_host=True, enc_login_only=login_only,
                          autocommit=True, login_timeout=10)
        cur = c.cursor()
        expect("%s TLS: select" % what, q1(cur, "select %s", ("tls",)),
               ("tls",))
        t = "#tls_%d" % login_only
        cur.execute("create table %s (i int, s varchar(200))" % t)
        cur.execute("insert into %s values (1, '%s')" % (t, "z" * 200))
        for k in range(8):
            cur.execute("insert into %s select i + %d, s from %s"
                        % (t, 1 << k, t))
        cur.execute("select * from %s" % t)
        expect("%s TLS: 256 rows of 200 bytes" % what, len(cur.fetchall()),
               256)
        for k in range(8, 15):
            cur.execute("insert into %s select i + %d, s from %s"
                        % (t, 1 << k, t))
        cur.execute("select * from %s" % t)
        cur.fetchone()
        cur.cancel()
        expect("%s TLS: cancel in the middle of 6 MB" % what,
               q1(cur, "select count(*) from %s" % t), (32768,))
        c.close()
    other = os.path.join(TMP, "other.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", os.path.join(TMP, "okey.pem"), "-out",
                    other], capture_output=True)
    try:
        pytds.connect(server="localhost", port=port, user="sa",
                      password="Sim_pytds1!", cafile=other,
                      login_timeout=10)
        check("TLS with an untrusted certificate fails", False)
    except Exception:
        check("TLS with an untrusted certificate fails", True)


run("logins", test_logins)
run("parameters", test_params)
run("transactions", test_transactions)
run("cancel", test_cancel)
run("threads", test_threads)
run("types", test_types)
run("tls", test_tls)
simtest.finish()
