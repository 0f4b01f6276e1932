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


def test_output():
    """The OUTPUT clause ("OUTPUT clause (Transact-SQL)", learn.microsoft
    .com): INSERTED holds a row as written (identity, DEFAULT and
    computed values filled in), DELETED as it was; the rows come back
    as a result set with the columns' types, nullability and aliases,
    and the statement's row count is the rows it affected.  DELETED
    does not exist in an INSERT nor INSERTED in a DELETE (4104), and a
    bare column name does not reach them (207)."""
    D = decimal.Decimal
    with connect() as c:
        cur = c.cursor()
        cur.execute("create table #o (id int identity(10, 5) primary key, "
                    "s varchar(10) not null default 'dflt', "
                    "d decimal(10, 2), n nvarchar(20), twice as d * 2)")
        cur.execute("insert into #o (d, n) output inserted.id, inserted.* "
                    "values (1.5, N'\u00e9'), (null, null)")
        expect("INSERT OUTPUT INSERTED.id, INSERTED.*: identity, DEFAULT "
               "and computed values", cur.fetchall(),
               [(10, 10, "dflt", D("1.50"), "\u00e9", D("3.00")),
                (15, 15, "dflt", None, None, None)])
        expect("... names in table order",
               [d[0] for d in cur.description],
               ["id", "id", "s", "d", "n", "twice"])
        expect("... nullability of the columns",
               [bool(d[6]) for d in cur.description],
               [False, False, False, True, True, True])
        expect("... row count is the rows inserted", cur.rowcount, 2)
        cur.execute("insert into #o (s, d) output inserted.id as new_id, "
                    "inserted.d * 10 as tenfold select 'x', 2")
        expect("INSERT OUTPUT ... SELECT with aliases and an expression",
               ([d[0] for d in cur.description], cur.fetchall()),
               (["new_id", "tenfold"], [(20, D("20.00"))]))
        cur.execute("insert into #o (d) output inserted.id values (%s)",
                    (D("7.25"),))
        expect("INSERT OUTPUT through sp_executesql", cur.fetchall(),
               [(25,)])
        cur.execute("update #o set d = d + 1, s = 'new' output deleted.d, "
                    "inserted.d, deleted.s as old_s, inserted.twice "
                    "where id in (10, 20)")
        expect("UPDATE OUTPUT DELETED (old) and INSERTED (new) values",
               sorted(cur.fetchall()),
               [(D("1.50"), D("2.50"), "dflt", D("5.00")),
                (D("2.00"), D("3.00"), "x", D("6.00"))])
        expect("... row count is the rows updated", cur.rowcount, 2)
        cur.execute("delete from #o output deleted.* where id = 15")
        expect("DELETE OUTPUT DELETED.*", cur.fetchall(),
               [(15, "dflt", None, None, None)])
        cur.execute("delete from #o output deleted.id where id = 99")
        expect("DELETE OUTPUT of no row: an empty result, count 0",
               (cur.fetchall(), cur.rowcount), ([], 0))
        for sql, no in [
                ("insert into #o (d) output deleted.id values (1)", 4104),
                ("delete from #o output inserted.id where id = 10", 4104),
                ("update #o set d = 1 output id", 207)]:
            try:
                cur.execute(sql)
                check("error %d: %s" % (no, sql), False)
            except pytds.Error as e:
                expect("error %d: %s" % (no, sql),
                       getattr(e, "msg_no", None), no)
        expect("... and none of them ran",
               q1(cur, "select count(*), sum(d) from #o"), (3, D("12.75")))


def fk_err(cur, sql):
    """(number, message) of the error sql raises, or None."""
    try:
        cur.execute(sql)
    except pytds.Error as e:
        return (getattr(e, "msg_no", None), str(e).split("\n")[0])
    return None


def test_foreign_keys():
    """FOREIGN KEY constraints ("Primary and foreign key constraints",
    "CREATE TABLE", "ALTER TABLE table_constraint", sys.foreign_keys,
    learn.microsoft.com): column and table constraints, composite keys;
    the referenced columns must be a PRIMARY KEY or UNIQUE key (1776,
    then 1750); a referencing row needs its referenced row unless one
    of its key columns is NULL (547 "... FOREIGN KEY constraint"); a
    referenced row with referencing rows can not go with NO ACTION (547
    "... REFERENCE constraint"), CASCADE / SET NULL / SET DEFAULT act on
    the referencing rows; the failing statement is rolled back and the
    batch goes on; DROP TABLE (3726) and TRUNCATE TABLE (4712) of a
    referenced table fail."""
    with connect() as c:
        cur = c.cursor()
        db = q1(cur, "select db_name()")[0]
        cur.execute("create table fp (id int primary key, code char(2) "
                    "not null unique, a int, b int, unique (a, b))")
        cur.execute("insert into fp values (1, 'aa', 1, 1), "
                    "(2, 'bb', 1, 2), (3, 'cc', 2, 1)")
        cur.execute("create table fc (id int primary key, "
                    "pid int foreign key references fp(id), "
                    "code char(2) constraint fc_code references fp (code) "
                    "on update cascade, x int, y int, "
                    "constraint fc_ab foreign key (x, y) references fp (a, b)"
                    " on delete set null)")
        cur.execute("insert into fc values (10, 1, 'aa', 1, 2), "
                    "(11, null, null, null, 9)")
        expect("NULL in a key column skips the check",
               q1(cur, "select count(*) from fc"), (2,))
        expect("547 INSERT of a row without its referenced row",
               fk_err(cur, "insert into fc values (12, 7, 'aa', 1, 1)"),
               (547, 'The INSERT statement conflicted with the FOREIGN KEY '
                'constraint "%s". The conflict occurred in database "%s", '
                'table "dbo.fp", column \'id\'.' % (q1(
                    cur, "select name from sys.foreign_keys where "
                    "parent_object_id = object_id('fc') and name like "
                    "'FK__fc__pid%'")[0], db)))
        expect("547 of a composite key names no column",
               fk_err(cur, "update fc set y = 3 where id = 10"),
               (547, 'The UPDATE statement conflicted with the FOREIGN KEY '
                'constraint "fc_ab". The conflict occurred in database '
                '"%s", table "dbo.fp".' % db))
        expect("547 DELETE of a referenced row (NO ACTION)",
               fk_err(cur, "delete from fp where id = 1"),
               (547, 'The DELETE statement conflicted with the REFERENCE '
                'constraint "%s". The conflict occurred in database "%s", '
                'table "dbo.fc", column \'pid\'.' % (q1(
                    cur, "select name from sys.foreign_keys where name "
                    "like 'FK__fc__pid%'")[0], db)))
        fk_err(cur, "delete from fp where id in (1, 3); insert into fp "
               "values (9, 'zy', 9, 9)")
        expect("... statement rolled back, batch goes on",
               cur.execute("select id from fp order by id").fetchall(),
               [(1,), (2,), (3,), (9,)])
        cur.execute("update fp set code = 'zz' where id = 1")
        expect("ON UPDATE CASCADE sets the new key",
               q1(cur, "select code from fc where id = 10"), ("zz",))
        cur.execute("delete from fp where id = 2")
        expect("ON DELETE SET NULL",
               q1(cur, "select x, y, pid from fc where id = 10"),
               (None, None, 1))
        e = fk_err(cur, "create table fbad (a int references fp(a))")
        check("1776 then 1750: referenced columns not a key",
              e[0] == 1750 and e[1].startswith(
                  "There are no primary or candidate keys in the "
                  "referenced table 'dbo.fp' that match the referencing "
                  "column list in the foreign key 'FK__fbad__a__") and
              e[1].endswith("Could not create constraint or index. See "
                            "previous errors."), e)
        expect("... and the table was not created",
               q1(cur, "select object_id('fbad')"), (None,))
        expect("3726 DROP TABLE of a referenced table",
               fk_err(cur, "drop table fp"),
               (3726, "Could not drop object 'dbo.fp' because it is "
                "referenced by a FOREIGN KEY constraint."))
        expect("4712 TRUNCATE TABLE of a referenced table",
               fk_err(cur, "truncate table fp"),
               (4712, "Cannot truncate table 'dbo.fp' because it is being "
                "referenced by a FOREIGN KEY constraint."))
        expect("sys.foreign_keys",
               sorted(cur.execute(
                   "select name, type, type_desc, object_name("
                   "referenced_object_id), delete_referential_action_desc,"
                   " update_referential_action, is_disabled, "
                   "is_not_trusted, key_index_id from sys.foreign_keys "
                   "where name not like 'FK__%'").fetchall()),
               [("fc_ab", "F ", "FOREIGN_KEY_CONSTRAINT", "fp", "SET_NULL",
                 0, False, False, 3),
                ("fc_code", "F ", "FOREIGN_KEY_CONSTRAINT", "fp",
                 "NO_ACTION", 1, False, False, 2)])
        expect("sys.foreign_key_columns of fc_ab",
               cur.execute(
                   "select constraint_column_id, parent_column_id, "
                   "referenced_column_id from sys.foreign_key_columns "
                   "where constraint_object_id = object_id('fc_ab') "
                   "order by 1").fetchall(), [(1, 4, 3), (2, 5, 4)])
        expect("INFORMATION_SCHEMA.REFERENTIAL_CONSTRAINTS",
               q1(cur, "select unique_constraint_name like 'PK__fp%', "
                  "update_rule, delete_rule from information_schema."
                  "referential_constraints where constraint_name = "
                  "'fc_ab'")[1:], ("NO ACTION", "SET NULL"))
        expect("INFORMATION_SCHEMA.TABLE_CONSTRAINTS and sys.objects",
               q1(cur, "select c.constraint_type, o.type, "
                  "object_name(o.parent_object_id) from information_schema."
                  "table_constraints c join sys.objects o on o.name = "
                  "c.constraint_name where c.constraint_name = 'fc_ab'"),
               ("FOREIGN KEY", "F ", "fc"))
        pk = q1(cur, "select name from sys.key_constraints where "
                "parent_object_id = object_id('fp') and type = 'PK'")[0]
        e = fk_err(cur, "alter table fp drop constraint " + pk)
        check("3725 then 3727: dropping a referenced PRIMARY KEY",
              e[0] == 3727 and e[1].startswith(
                  "The constraint '%s' is being referenced by table 'fc', "
                  "foreign key constraint 'FK__fc__pid__" % pk), e)
        cur.execute("alter table fc drop constraint fc_ab")
        cur.execute("create table fg (id int primary key, cid int not null,"
                    " constraint fg_c foreign key (cid) references fc "
                    "on delete cascade)")
        cur.execute("alter table fc add constraint fc_p2 foreign key (pid) "
                    "references fp on delete cascade")
        cur.execute("insert into fg values (100, 10), (101, 11)")
        expect("547 ALTER TABLE ADD WITH CHECK over a violating row",
               fk_err(cur, "alter table fg add constraint fg_bad foreign "
                      "key (id) references fp(id)")[0], 547)
        cur.execute("alter table fg with nocheck add constraint fg_bad "
                    "foreign key (id) references fp(id)")
        expect("WITH NOCHECK: not trusted",
               q1(cur, "select is_not_trusted from sys.foreign_keys where "
                  "name = 'fg_bad'"), (True,))
        cur.execute("alter table fg nocheck constraint fg_bad")
        expect("NOCHECK CONSTRAINT: disabled, not checked",
               q1(cur, "select is_disabled from sys.foreign_keys where "
                  "name = 'fg_bad'"), (True,))
        cur.execute("alter table fc drop constraint %s" % q1(
            cur, "select name from sys.foreign_keys where name like "
            "'FK__fc__pid%'")[0])
        cur.execute("alter table fc drop constraint fc_code")
        cur.execute("delete from fp where id = 1")
        expect("CASCADE through two levels",
               cur.execute("select 'fc', id from fc union all select "
                           "'fg', id from fg order by 1, 2").fetchall(),
               [("fc", 11), ("fg", 101)])
        cur.execute("create table fd (id int primary key, pid int default 3 "
                    "constraint fd_p references fp(id) on delete set "
                    "default)")
        cur.execute("insert into fd values (1, 9); delete from fp where "
                    "id = 9")
        expect("ON DELETE SET DEFAULT", q1(cur, "select pid from fd"), (3,))
        cur.execute("create table ft (id int primary key, up int "
                    "constraint ft_up references ft)")
        cur.execute("insert into ft values (1, null), (2, 1)")
        e = fk_err(cur, "insert into ft values (3, 7)")
        check("547 of a self-reference: FOREIGN KEY SAME TABLE",
              e[1].startswith("The INSERT statement conflicted with the "
                              "FOREIGN KEY SAME TABLE constraint \"ft_up\""),
              e)
        e = fk_err(cur, "delete from ft where id = 1")
        check("... and SAME TABLE REFERENCE",
              e[1].startswith("The DELETE statement conflicted with the "
                              "SAME TABLE REFERENCE constraint \"ft_up\""), e)
        cur.execute("delete from ft")
        expect("a statement deleting parent and child together",
               q1(cur, "select count(*) from ft"), (0,))
        e = fk_err(cur, "alter table ft add constraint ft_c foreign key "
                   "(up) references ft on delete cascade")
        check("1785 then 1750: a cascade cycle",
              e[0] == 1750 and e[1].startswith(
                  "Introducing FOREIGN KEY constraint 'ft_c' on table 'ft' "
                  "may cause cycles or multiple cascade paths."), e)
        expect("4922 DROP COLUMN of a foreign key column",
               fk_err(cur, "alter table ft drop column up")[0], 4922)


def test_fk_ct_cdc():
    """Cascaded changes are changes of the referencing table in the same
    transaction (SQLSERVER.md 1.2: FK cascades share the statement's
    version), for Change Tracking and CDC alike."""
    with connect() as c:
        cur = c.cursor()
        cur.execute("create database fkct")
        cur.execute("use fkct")
        cur.execute("alter database fkct set change_tracking = on")
        cur.execute("exec sys.sp_cdc_enable_db")
        cur.execute("create table p (id int primary key)")
        cur.execute("create table ch (id int primary key, pid int "
                    "references p on delete cascade)")
        cur.execute("alter table ch enable change_tracking")
        cur.execute("exec sys.sp_cdc_enable_table @source_schema = N'dbo',"
                    " @source_name = N'ch', @role_name = NULL")
        cur.execute("insert into p values (1), (2)")
        cur.execute("insert into ch values (10, 1), (11, 1), (12, 2)")
        v = q1(cur, "select change_tracking_current_version()")[0]
        cur.execute("delete from p where id = 1")
        expect("CT: the cascaded deletes at the next version",
               cur.execute("select id, sys_change_operation, "
                           "sys_change_version from changetable(changes "
                           "ch, %d) as c order by id" % v).fetchall(),
               [(10, "D", v + 1), (11, "D", v + 1)])
        cur.execute("exec sys.sp_cdc_scan")
        got = cur.execute(
            "select __$operation, id, pid, __$start_lsn from cdc.dbo_ch_CT "
            "order by __$start_lsn, __$seqval").fetchall()
        expect("CDC: the cascaded deletes (operation 1, old values)",
               [g[:3] for g in got if g[0] == 1], [(1, 10, 1), (1, 11, 1)])
        check("... in one transaction (one LSN)",
              len(set(g[3] for g in got if g[0] == 1)) == 1, got)
        cur.execute("use master")
        cur.execute("drop database fkct")


def test_views():
    """Views ("CREATE VIEW (Transact-SQL)", learn.microsoft.com): a view
    reads like a table (joins, WHERE, ORDER BY, sp_executesql) with its
    columns named by the SELECT or the column list; CREATE OR ALTER and
    ALTER replace it; the catalog lists it in sys.objects (type 'V '),
    sys.views, sys.sql_modules, INFORMATION_SCHEMA.VIEWS and .TABLES
    (TABLE_TYPE 'VIEW'), never in sys.tables; the definition is the
    batch as written, ALTER stored as CREATE and CREATE OR ALTER without
    OR ALTER (sqlquantumleap.com, "Stored Procedure / Function / View /
    Trigger Definitions Can Be Wrong").  Errors: ORDER BY without
    TOP (1033), not first in the batch (111, nothing runs), unnamed
    (4511) and duplicate (4506) columns, a column list too long (4502)
    or too short (8158), a #temp table (4508), DROP of the wrong kind
    (3705), a missing view
    (3701); writes through a view are refused (4406)."""
    with connect() as c:
        cur = c.cursor()
        cur.execute("create table vt (id int identity primary key, "
                    "a varchar(10) not null, b int)")
        cur.execute("create table vu (id int primary key, tid int, "
                    "x nvarchar(5))")
        cur.execute("insert into vt (a, b) values ('one', 1), ('two', 2), "
                    "('three', null)")
        cur.execute("insert into vu values (1, 1, N'x1'), (2, 2, N'x2')")
        cur.execute("create table #vtemp (id int)")
        cur.execute("create view vv as select id, a, b * 10 as b10, "
                    "'lit' as l from vt where id < 3")
        cur.execute("select * from vv order by id desc")
        expect("SELECT from a view", cur.fetchall(),
               [(2, "two", 20, "lit"), (1, "one", 10, "lit")])
        expect("... its columns: names and nullability",
               [(d[0], bool(d[6])) for d in cur.description],
               [("id", False), ("a", False), ("b10", True), ("l", True)])
        cur.execute("select vv.a, vu.x from vv join vu on vu.tid = vv.id "
                    "where vv.b10 > 10")
        expect("a view joined with a table", cur.fetchall(), [("two", "x2")])
        expect("a view through sp_executesql",
               q1(cur, "select a from vv where id = %s", (1,)), ("one",))
        cur.execute("/* two */ create view dbo.vv2 (k, name) as select "
                    "top (2) id, a from vt order by id desc")
        cur.execute("select * from vv2 order by k")
        expect("column list, TOP ... ORDER BY",
               ([d[0] for d in cur.description], cur.fetchall()),
               (["k", "name"], [(2, "two"), (3, "three")]))
        cur.execute("create or alter view vv as select id, a from vt")
        expect("CREATE OR ALTER VIEW replaces it",
               q1(cur, "select count(*) from vv"), (3,))
        expect("... its definition loses OR ALTER",
               q1(cur, "select definition from sys.sql_modules where "
                  "object_id = object_id('vv')"),
               ("create   view vv as select id, a from vt",))
        oid = q1(cur, "select object_id('vv')")[0]
        cur.execute("alter view vv as select a from vt where id = 2")
        expect("ALTER VIEW replaces it, keeping the object_id",
               (q1(cur, "select * from vv"),
                q1(cur, "select object_id('vv')")[0]), (("two",), oid))
        cur.execute("select name, type, type_desc from sys.objects where "
                    "name in ('vv', 'vv2', 'vt') order by name")
        expect("sys.objects: type 'V ', VIEW", cur.fetchall(),
               [("vt", "U ", "USER_TABLE"), ("vv", "V ", "VIEW"),
                ("vv2", "V ", "VIEW")])
        cur.execute("select name from sys.views order by name")
        expect("sys.views", cur.fetchall(), [("vv",), ("vv2",)])
        cur.execute("select name from sys.tables where name like 'v%' "
                    "order by name")
        expect("sys.tables has no views", cur.fetchall(),
               [("vt",), ("vu",)])
        expect("sys.sql_modules.definition: ALTER stored as CREATE",
               q1(cur, "select definition from sys.sql_modules where "
                  "object_id = object_id('vv')"),
               ("CREATE view vv as select a from vt where id = 2",))
        expect("... CREATE as written, comments included",
               q1(cur, "select definition from sys.sql_modules where "
                  "object_id = object_id('vv2')"),
               ("/* two */ create view dbo.vv2 (k, name) as select top (2) "
                "id, a from vt order by id desc",))
        cur.execute("select TABLE_NAME, TABLE_TYPE from "
                    "INFORMATION_SCHEMA.TABLES where TABLE_NAME like 'v%' "
                    "order by 1")
        expect("INFORMATION_SCHEMA.TABLES: TABLE_TYPE VIEW", cur.fetchall(),
               [("vt", "BASE TABLE"), ("vu", "BASE TABLE"), ("vv", "VIEW"),
                ("vv2", "VIEW")])
        expect("INFORMATION_SCHEMA.VIEWS",
               q1(cur, "select TABLE_SCHEMA, TABLE_NAME, CHECK_OPTION, "
                  "IS_UPDATABLE from INFORMATION_SCHEMA.VIEWS where "
                  "TABLE_NAME = 'vv2'"), ("dbo", "vv2", "NONE", "NO"))
        for sql, no in [
                ("create view vx as select id from vt order by id", 1033),
                ("create view vx as select id, id from vt", 4506),
                ("create view vx as select id + 1 from vt", 4511),
                ("create view vx (a, b) as select id from vt", 4502),
                ("create view vx (a) as select id, a from vt", 8158),
                ("create view vx as select id from #vtemp", 4508),
                ("create view vv as select 1 as one", 2714),
                ("insert into vt (a) values ('no'); "
                 "create view vx as select 1 as one", 111),
                ("insert into vv2 (name) values ('x')", 4406),
                ("update vv2 set name = 'x'", 4406),
                ("delete from vv2", 4406),
                ("drop table vv2", 3705),
                ("drop view vt", 3705),
                ("drop view vx", 3701)]:
            try:
                cur.execute(sql)
                check("error %d: %s" % (no, sql), False)
            except pytds.Error as e:
                expect("error %d: %s" % (no, sql),
                       getattr(e, "msg_no", None), no)
        expect("... and none of them ran",
               q1(cur, "select count(*), object_id('vx') from vt"),
               (3, None))
        cur.execute("drop view vv, vv2")
        cur.execute("drop view if exists vv")
        expect("DROP VIEW [IF EXISTS]",
               q1(cur, "select count(*) from sys.views"), (0,))


def sets(cur):
    """Every result set of the batch cur ran (statements without one
    are skipped)."""
    out = []
    while True:
        if cur.description is not None:
            out.append(cur.fetchall())
        if not cur.nextset():
            return out


def test_table_variables():
    """Table variables ("table (Transact-SQL)", "DECLARE @local_variable",
    "OUTPUT clause (Transact-SQL)", learn.microsoft.com): DECLARE @t
    TABLE (...) takes the column definitions and constraints of CREATE
    TABLE; @t is read and written like a table (with an alias, in
    joins) for the rest of the batch, wherever its DECLARE stands (a
    loop does not empty it, a branch not taken still declares it), and
    is gone after it (1087, a compile error: nothing of the batch
    runs).  A ROLLBACK does not
    touch it ("table variables aren't affected by a ROLLBACK"), while a
    failing statement still undoes itself (2627 as in a table).  It is
    not in the database's catalog views (it lives in tempdb) nor in
    Change Tracking.  OUTPUT ... INTO @t [(cols)] puts the rows there
    and sends no result set.  A second DECLARE of the name is 134."""
    with connect() as c:
        c.autocommit = True
        cur = c.cursor()
        cur.execute("create table tvr (id int primary key, v varchar(5))")
        cur.execute("insert tvr values (1, 'a'), (2, 'b'), (3, 'c')")
        cur.execute(
            "declare @t table (id int not null primary key, "
            "s varchar(10) null default 'dflt', n int identity(10, 10), "
            "w int unique); "
            "insert into @t (id, w) values (1, 100), (2, 200); "
            "insert @t (id, s, w) select id + 2, v, id * 1000 from tvr "
            "where id < 3; "
            "update @t set s = 'upd' where id = 2; "
            "delete from @t where id = 4; "
            "select * from @t order by id; "
            "select x.id, r.v from @t as x join tvr r on r.id = x.id "
            "where x.w < 1000 order by x.id desc; "
            "select count(*) from @t x where x.s is not null")
        expect("DECLARE @t TABLE: INSERT VALUES/SELECT, DEFAULT, identity, "
               "UPDATE, DELETE, SELECT with an alias and a join",
               sets(cur),
               [[(1, "dflt", 10, 100), (2, "upd", 20, 200),
                 (3, "a", 30, 1000)],
                [(2, "b"), (1, "a")], [(3,)]])
        cur.execute("declare @T table (a int); insert @t values (%s); "
                    "select a from @T", (7,))
        expect("... through sp_executesql, names case-insensitive",
               sets(cur), [[(7,)]])
        expect("... gone after the batch: 1087",
               fk_err(cur, "select * from @t"),
               (1087, 'Must declare the table variable "@t".'))
        expect("1087 is a compile error: nothing of the batch ran",
               (fk_err(cur, "insert tvr values (9, 'z'); "
                       "update @nope set a = 1"),
                q1(cur, "select count(*) from tvr where id = 9")),
               ((1087, 'Must declare the table variable "@nope".'), (0,)))
        cur.execute("declare @i int = 0; while @i < 3 begin "
                    "declare @t table (a int); insert @t values (@i); "
                    "set @i += 1 end; select count(*) from @t")
        expect("a DECLARE run again in a loop keeps the rows (the "
               "variable is the batch's)", sets(cur), [[(3,)]])
        cur.execute("if 1 = 0 begin declare @t table (a int) end; "
                    "insert @t values (1); select a from @t")
        expect("... and one in a branch not taken exists all the same",
               sets(cur), [[(1,)]])
        expect("134: declared twice",
               fk_err(cur, "declare @t table (a int); "
                      "declare @t table (b int)")[0], 134)
        expect("137: a table variable is not a scalar",
               fk_err(cur, "declare @t table (a int); select @t")[0], 137)
        cur.execute(
            "declare @t table (id int primary key); "
            "insert @t values (1); "
            "begin try insert @t values (2), (1) end try "
            "begin catch select error_number() end catch; "
            "select id from @t")
        expect("2627 in a table variable; the statement inserts nothing",
               sets(cur), [[(2627,)], [(1,)]])
        cur.execute(
            "declare @t table (a int check (a > 0), b as a * 2); "
            "insert @t (a) values (3); "
            "begin try insert @t (a) values (-1) end try "
            "begin catch select error_number() end catch; "
            "select a, b from @t")
        expect("CHECK (547) and computed columns as in a table",
               sets(cur), [[(547,)], [(3, 6)]])
        cur.execute(
            "declare @log table (msg varchar(30)); "
            "begin tran; "
            "insert @log values ('in tran'); "
            "insert tvr values (10, 'x'); "
            "rollback; "
            "select msg from @log; "
            "select count(*) from tvr where id = 10")
        expect("ROLLBACK leaves the table variable's rows, undoes the "
               "table's", sets(cur), [[("in tran",)], [(0,)]])
        cur.execute(
            "begin tran; "
            "declare @t table (id int identity, a int); "
            "insert @t (a) values (5); "
            "rollback; "
            "insert @t (a) values (6); "
            "select id, a from @t")
        expect("... even a DECLARE inside the rolled back transaction",
               sets(cur), [[(1, 5), (2, 6)]])
        cur.execute("begin tran; declare @t table (a int); "
                    "insert @t values (1)")
        cur.execute("rollback")
        cur.execute("declare @t table (b varchar(5)); "
                    "insert @t values ('new'); select * from @t")
        expect("a new batch's @t after a rolled back batch's",
               sets(cur), [[("new",)]])
        cur.execute(
            "declare @o table (id int, old varchar(5), new varchar(5)); "
            "update tvr set v = 'z' "
            "output inserted.id, deleted.v, inserted.v into @o "
            "where id = 2; "
            "insert tvr output inserted.id, null, inserted.v into @o "
            "values (4, 'd'); "
            "delete tvr output deleted.id, deleted.v into @o (id, old) "
            "where id = 4; "
            "select * from @o order by id, old")
        expect("OUTPUT ... INTO @t [(cols)]: rows there, no result set",
               sets(cur),
               [[(2, "b", "z"), (4, None, "d"), (4, "d", None)]])
        cur.execute("declare @o table (n int identity(100, 1), id int); "
                    "update tvr set v = v output inserted.id into @o "
                    "where id < 3; select n, id from @o order by n")
        expect("... identity columns skipped without a column list",
               sets(cur), [[(100, 1), (101, 2)]])
        expect("... 213 when the counts differ",
               fk_err(cur, "declare @o table (a int, b int); "
                      "delete tvr output deleted.id into @o")[0], 213)
        expect("not in sys.tables, sys.objects, INFORMATION_SCHEMA",
               q1(cur, "declare @t table (a int primary key); "
                  "select (select count(*) from sys.tables "
                  "where name like '%@%') + (select count(*) from "
                  "sys.objects where name like '%@%') + (select count(*) "
                  "from information_schema.tables where table_name "
                  "like '%@%')"), (0,))
        cur.execute("create database tvct")
        cur.execute("use tvct")
        cur.execute("alter database tvct set change_tracking = on")
        cur.execute("create table u (id int primary key)")
        cur.execute("alter table u enable change_tracking")
        cur.execute("insert u values (1)")
        v = q1(cur, "select change_tracking_current_version()")[0]
        cur.execute("declare @t table (id int primary key); "
                    "insert @t values (1), (2); "
                    "update @t set id = id + 10; delete @t")
        expect("writes of a table variable draw no CT version",
               q1(cur, "select change_tracking_current_version()"), (v,))
        cur.execute("use master")
        cur.execute("drop database tvct")
        cur.execute("drop table tvr")


def test_declare_in_loop():
    """DECLARE is resolved at compile time ("DECLARE @local_variable",
    learn.microsoft.com): run again in a WHILE loop it is the same
    variable, which keeps its value (only an initializer assigns it
    again); a second DECLARE of the name in the batch is 134 and nothing
    of the batch runs."""
    with connect() as c:
        c.autocommit = True
        cur = c.cursor()
        expect("DECLARE in a loop keeps the value",
               q1(cur, "declare @i int = 0; while @i < 3 begin "
                  "declare @x int; set @x = isnull(@x, 0) + 10; "
                  "set @i = @i + 1; end; select @x, @i"), (30, 3))
        expect("DECLARE with an initializer in a loop assigns again",
               q1(cur, "declare @i int = 0; while @i < 3 begin "
                  "declare @y int = 5; set @y = @y + 1; "
                  "set @i = @i + 1; end; select @y"), (6,))
        cur.execute("create table dl (id int)")
        try:
            cur.execute("insert dl values (1); declare @a int; "
                        "declare @a int")
            check("two DECLAREs of one name refused", False)
        except pytds.Error as e:
            expect("two DECLAREs of one name: 134",
                   getattr(e, "msg_no", None), 134)
        expect("two DECLAREs of one name: nothing ran",
               q1(cur, "select count(*) from dl"), (0,))
        cur.execute("drop table dl")


run("logins", test_logins)
run("parameters", test_params)
run("transactions", test_transactions)
run("cancel", test_cancel)
run("threads", test_threads)
run("types", test_types)
run("tls", test_tls)
run("output", test_output)
run("views", test_views)
run("foreign keys", test_foreign_keys)
run("foreign keys: CT and CDC", test_fk_ct_cdc)
run("table variables", test_table_variables)
run("declare in a loop", test_declare_in_loop)
simtest.finish()
