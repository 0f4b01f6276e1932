#!/usr/bin/python3
#
# Change Tracking through python3-tds (pytds), one check per behaviour
# that ../shared/SQLSERVER.md section 1 documents for SQL Server: the
# settings and their errors, one version per committing transaction
# (rollbacks, failed and 0-row statements draw none; writers in
# threads get consecutive versions in their commit order), every row
# of the net-change folding table of 1.4, SYS_CHANGE_COLUMNS bytes and
# CHANGE_TRACKING_IS_COLUMN_IN_MASK, CHANGE_TRACKING_CONTEXT,
# CHANGETABLE(VERSION), TRUNCATE, retention on the simulator clock,
# the VIEW CHANGE TRACKING permission, the snapshot read pattern of
# 1.7 and the query shapes connectors send.  Runs against
# MSSQL_TEST_ADDRESS (host:port) with MSSQL_TEST_USER and
# MSSQL_TEST_PASSWORD when set (a real SQL Server: the checks that need
# the simulator's clock are skipped), else a private mssqlsim.  Needs
# /usr/bin/python3 (the Debian python3-tds).

import os
import shutil
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # the source tree may be read-only
import simtest  # noqa: E402 (exits 77 without python3-tds)
import pytds  # noqa: E402
from simtest import check, connect, expect, run, start_sim  # noqa: E402

simtest.setup("Sim_ct_1!", 300)
TMP = simtest.TMP
DBN = [0]
MADE = []
HOST, PORT, USER, PASSWORD, REAL = simtest.server()


def q1(cur, sql, params=None):
    cur.execute(sql, params)
    return cur.fetchone()


def qall(cur, sql, params=None):
    cur.execute(sql, params)
    return cur.fetchall()


def err_of(cur, sql, params=None):
    """The error number a statement fails with (None if it runs)."""
    try:
        cur.execute(sql, params)
        while True:
            if cur.description:
                cur.fetchall()
            if not cur.nextset():
                break
        return None
    except pytds.Error as e:
        return getattr(e, "msg_no", None)


def errs_of(cur, sql):
    """Every error number of a failing batch, from the messages too."""
    try:
        cur.execute(sql)
        return []
    except pytds.Error as e:
        nums = [getattr(m[1], "msg_no", None) for m in cur.messages or []]
        if getattr(e, "msg_no", None) not in nums:
            nums.append(getattr(e, "msg_no", None))
        return nums


def new_db(cur, ct=True, opts=""):
    """A fresh database (CT on) as the connection's current one."""
    DBN[0] += 1
    name = "sim_ct_%d_%d" % (os.getpid() % 10000, DBN[0])
    MADE.append(name)
    cur.execute("use master")
    cur.execute("if db_id('%s') is not null drop database %s"
                % (name, name))
    cur.execute("create database %s" % name)
    if ct:
        cur.execute("alter database %s set change_tracking = on %s"
                    % (name, opts))
    cur.execute("use %s" % name)
    return name


def rows_db(cur, track=False):
    """Fresh database, table t with rows 1, 2, 3 inserted at version 1."""
    name = new_db(cur)
    cur.execute("create table t (id int primary key, a int, b int, c int)")
    cur.execute("alter table t enable change_tracking with "
                "(track_columns_updated = %s)" % ("on" if track else "off"))
    cur.execute("insert into t values (1, 1, 1, 1), (2, 2, 2, 2), "
                "(3, 3, 3, 3)")
    return name


def changes(cur, base, table="t"):
    """CHANGETABLE rows as SQLSERVER.md 1.4 writes them: 1I2/1 ..."""
    rows = qall(cur, "select id, sys_change_operation, sys_change_version, "
                "sys_change_creation_version from changetable(changes %s, "
                "%s) as ct order by id" % (table, base))
    return " ".join("%d%s%d/%s" % (r[0], r[1], r[2],
                                   "" if r[3] is None else r[3])
                    for r in rows)


def cur_version(cur):
    return q1(cur, "select change_tracking_current_version()")[0]


# ---- 1.1 enabling ----

def test_enable():
    c = connect()
    cur = c.cursor()
    name = new_db(cur, ct=False)
    expect("DATABASEPROPERTYEX IsChangeTrackingEnabled off",
           q1(cur, "select databasepropertyex(db_name(), "
              "'IsChangeTrackingEnabled')")[0], 0)
    expect("CHANGE_TRACKING_CURRENT_VERSION() is NULL with CT off",
           cur_version(cur), None)
    cur.execute("alter database %s set change_tracking = on" % name)
    expect("fresh ON: 2 DAYS, AUTO_CLEANUP ON",
           q1(cur, "select is_auto_cleanup_on, retention_period, "
              "retention_period_units, retention_period_units_desc from "
              "sys.change_tracking_databases where database_id = db_id()"),
           (True, 2, 3, "DAYS"))
    expect("DATABASEPROPERTYEX IsChangeTrackingEnabled on",
           q1(cur, "select databasepropertyex(db_name(), "
              "'IsChangeTrackingEnabled')")[0], 1)
    expect("fresh database starts at version 0", cur_version(cur), 0)
    cur.execute("alter database %s set change_tracking (change_retention "
                "= 90 minutes, auto_cleanup = off)" % name)
    expect("SET CHANGE_TRACKING (...) edits the options",
           q1(cur, "select is_auto_cleanup_on, retention_period, "
              "retention_period_units_desc from "
              "sys.change_tracking_databases where database_id = db_id()"),
           (False, 90, "MINUTES"))
    cur.execute("create table t (id int primary key, v int)")
    cur.execute("alter table t enable change_tracking")
    expect("table enable: TRACK_COLUMNS_UPDATED defaults to OFF",
           q1(cur, "select is_track_columns_updated_on, begin_version, "
              "min_valid_version from sys.change_tracking_tables where "
              "object_id = object_id('t')"), (False, 0, 0))
    cur.execute("begin tran")
    cur.execute("alter table t disable change_tracking")
    cur.execute("rollback")
    expect("table disable rolls back with the transaction",
           q1(cur, "select count(*) from sys.change_tracking_tables")[0], 1)
    cur.execute("insert into t values (1, 1)")
    cur.execute("alter table t disable change_tracking")
    cur.execute("alter database %s set change_tracking = off" % name)
    expect("CT OFF: sys.change_tracking_databases row gone",
           q1(cur, "select count(*) from sys.change_tracking_databases "
              "where database_id = db_id()")[0], 0)
    cur.execute("alter database %s set change_tracking = on" % name)
    expect("version counter survives DB OFF/ON", cur_version(cur), 1)
    cur.execute("alter table t enable change_tracking")
    expect("re-enable starts empty history at the current version",
           (changes(cur, "NULL"), q1(cur, "select change_tracking_min_"
                                     "valid_version(object_id('t'))")[0]),
           ("", 1))
    c.close()


# ---- 1.8 errors ----

def test_errors():
    c = connect()
    cur = c.cursor()
    name = new_db(cur)
    cur.execute("create table t (id int primary key, v int)")
    cur.execute("create table u (id int primary key, v int)")
    cur.execute("create table nokey (id int, v int)")
    cur.execute("alter table t enable change_tracking")
    expect("22114 CT option combined with another",
           22114 in errs_of(cur, "alter database %s set change_tracking = "
                            "on, allow_snapshot_isolation on" % name), True)
    expect("5088 DB CT already on",
           5088 in errs_of(cur, "alter database %s set change_tracking = on"
                           % name), True)
    expect("22115 DB OFF while a table is tracked",
           22115 in errs_of(cur, "alter database %s set change_tracking = "
                            "off" % name), True)
    expect("4996 table already tracked",
           err_of(cur, "alter table t enable change_tracking"), 4996)
    expect("4997 table without a primary key",
           err_of(cur, "alter table nokey enable change_tracking"), 4997)
    expect("4998 DISABLE on an untracked table",
           err_of(cur, "alter table u disable change_tracking"), 4998)
    expect("3735 dropping the primary key of a tracked table",
           3735 in errs_of(cur, "declare @k sysname = (select name from "
                           "sys.key_constraints where parent_object_id = "
                           "object_id('t')); exec('alter table t drop "
                           "constraint ' + @k)"), True)
    try:
        cur.execute("select 1 as a; if 1 = 0 select * from changetable("
                    "changes dbo.u, 0) as c")
        check("22105 at compile time fails the whole batch", False)
    except pytds.Error as e:
        check("22105 at compile time fails the whole batch (even an "
              "untaken branch), name as written",
              getattr(e, "msg_no", None) == 22105 and "'dbo.u'" in str(e),
              str(e))
    expect("22104 CHANGETABLE without an alias",
           err_of(cur, "select * from changetable(changes t, 0)"), 22104)
    expect("22107 CHANGETABLE over a catalog view",
           err_of(cur, "select * from changetable(changes sys.tables, 0) "
                  "as c"), 22107)
    cur.execute("create table #tmp (id int primary key)")
    expect("22107 CHANGETABLE over a #temp table",
           err_of(cur, "select * from changetable(changes #tmp, 0) as c"),
           22107)
    expect("22106 CHANGETABLE over a four-part (remote) name",
           err_of(cur, "select * from changetable(changes srv.db.dbo.t, "
                  "0) as c"), 22106)
    expect("208 CHANGETABLE over a missing table",
           err_of(cur, "select * from changetable(changes nosuch, 0) as c"),
           208)
    expect("102 last_sync_version given as an expression",
           err_of(cur, "declare @v bigint = 0; select * from changetable("
                  "changes t, @v + 1) as c"), 102)
    expect("257 datetime last_sync_version",
           err_of(cur, "declare @d datetime = getdate(); select * from "
                  "changetable(changes t, @d) as c"), 257)
    expect("8114 varchar last_sync_version that is no number",
           err_of(cur, "declare @s varchar(10) = 'x'; select * from "
                  "changetable(changes t, @s) as c"), 8114)
    expect("varchar last_sync_version converted",
           q1(cur, "declare @s varchar(10) = '0'; select count(*) from "
              "changetable(changes t, @s) as c")[0], 0)
    expect("22101 mask shorter than 8 bytes",
           err_of(cur, "select change_tracking_is_column_in_mask(1, "
                  "0x0000)"), 22101)
    expect("8116 non-int column id",
           err_of(cur, "select change_tracking_is_column_in_mask('a', "
                  "0x000000000100000000)"), 8116)
    expect("22111 VERSION column not in the key",
           err_of(cur, "select * from changetable(version t, (v), (1)) "
                  "as c"), 22111)
    cur.execute("create table t2 (a int, b int, v int, primary key (a, b))")
    cur.execute("alter table t2 enable change_tracking")
    expect("22110 VERSION column count differs from the key",
           err_of(cur, "select * from changetable(version t2, (a), (1)) "
                  "as c"), 22110)
    expect("22112 VERSION column twice",
           err_of(cur, "select * from changetable(version t2, (a, a), "
                  "(1, 1)) as c"), 22112)
    expect("22103 VERSION value count differs",
           err_of(cur, "select * from changetable(version t2, (a, b), "
                  "(1)) as c"), 22103)
    expect("22108 CHANGE_TRACKING_CONTEXT on a SELECT",
           err_of(cur, "declare @c varbinary(128) = 0x01; with "
                  "change_tracking_context (@c) select 1"), 22108)
    cur.execute("insert into u values (1, 1)")
    expect("22109 CHANGE_TRACKING_CONTEXT of another type",
           err_of(cur, "declare @c varchar(10) = 'x'; with "
                  "change_tracking_context (@c) update u set v = 2"), 22109)
    expect("22109: the UPDATE did not run",
           q1(cur, "select v from u")[0], 1)
    cur.execute("declare @c varbinary(10) = 0x01; if 1 = 0 with "
                "change_tracking_context (@c) update u set v = 3")
    expect("WITH CHANGE_TRACKING_CONTEXT in an untaken branch: skipped",
           q1(cur, "select v from u")[0], 1)
    expect("5091 option given twice",
           err_of(cur, "alter database %s set change_tracking (auto_cleanup"
                  " = on, auto_cleanup = off)" % name), 5091)
    expect("5092 CHANGE_RETENTION of 0",
           err_of(cur, "alter database %s set change_tracking "
                  "(change_retention = 0 days)" % name), 5092)
    expect("155 CHANGE_RETENTION unit spelled DAY",
           err_of(cur, "alter database %s set change_tracking "
                  "(change_retention = 1 day)" % name), 155)
    expect("226 ALTER DATABASE inside a transaction",
           err_of(cur, "begin tran; alter database %s set change_tracking "
                  "(auto_cleanup = off)" % name), 226)
    cur.execute("if @@trancount > 0 rollback")
    expect("5090 CT on a system database",
           5090 in errs_of(cur, "alter database master set "
                           "change_tracking = on"), True)
    cur.execute("alter table t disable change_tracking")
    cur.execute("alter table t2 disable change_tracking")
    cur.execute("alter database %s set change_tracking = off" % name)
    expect("5089 DB CT already off",
           5089 in errs_of(cur, "alter database %s set change_tracking = "
                           "off" % name), True)
    expect("5089 options while DB CT off",
           5089 in errs_of(cur, "alter database %s set change_tracking "
                           "(auto_cleanup = off)" % name), True)
    expect("1718 table enable while DB CT off",
           err_of(cur, "alter table t enable change_tracking"), 1718)
    expect("22105 CHANGETABLE with DB CT off",
           err_of(cur, "select * from changetable(changes t, 0) as c"),
           22105)
    c.close()


# ---- 1.2 versions ----

def test_versions():
    c = connect()
    cur = c.cursor()
    new_db(cur)
    cur.execute("create table t (id int primary key, v int)")
    cur.execute("create table plain (id int primary key)")
    cur.execute("alter table t enable change_tracking")
    cur.execute("insert into t values (1, 1)")
    expect("an autocommit write draws version 1", cur_version(cur), 1)
    cur.execute("begin tran; insert into t values (2, 2); update t set "
                "v = 5; delete from t where id = 1; commit")
    expect("an explicit transaction draws one version", cur_version(cur), 2)
    cur.execute("begin tran; insert into t values (3, 3); rollback")
    expect("a rollback draws none", cur_version(cur), 2)
    err_of(cur, "insert into t values (2, 9)")
    expect("a failed statement draws none", cur_version(cur), 2)
    cur.execute("update t set v = 1 where id = 99")
    expect("a 0-row statement draws none", cur_version(cur), 2)
    cur.execute("insert into plain values (1)")
    expect("an untracked-only write draws none", cur_version(cur), 2)
    cur.execute("begin tran")
    cur.execute("insert into t values (4, 4)")
    expect("inside the open transaction the counter does not move",
           cur_version(cur), 2)
    expect("inside the open transaction CHANGETABLE shows only committed "
           "changes", changes(cur, 2), "")
    with connect() as o:
        oc = o.cursor()
        oc.execute("use %s" % q1(cur, "select db_name()")[0])
        expect("another session sees the committed version only",
               cur_version(oc), 2)
    cur.execute("commit")
    expect("the commit draws the next version", cur_version(cur), 3)
    c.close()


# ---- 1.4 net-change folding, one check per row ----

FOLD = [
    ("no writes, baseline 0", [], 0, "1I1/1 2I1/1 3I1/1"),
    ("update 1: insert+update is I at the latest version",
     ["update t set a = 9 where id = 1"], 0, "1I2/1 2I1/1 3I1/1"),
    ("update 1, baseline 1", ["update t set a = 9 where id = 1"], 1,
     "1U2/"),
    ("delete 2, baseline 0", ["delete from t where id = 2"], 0,
     "1I1/1 2D2/1 3I1/1"),
    ("delete 2, baseline 1", ["delete from t where id = 2"], 1, "2D2/"),
    ("insert 4, delete 4: still D",
     ["insert into t values (4, 4, 4, 4)", "delete from t where id = 4"],
     1, "4D3/2"),
    ("delete 1, re-insert 1: U",
     ["delete from t where id = 1", "insert into t values (1, 1, 1, 1)"],
     1, "1U3/3"),
    ("key change: delete + insert",
     ["update t set id = id + 10 where id < 3"], 1, "1D2/ 2D2/ 11I2/2 12I2/2"),
    ("set id = id + 1", ["update t set id = id + 1"], 1,
     "1D2/ 2U2/2 3U2/2 4I2/2"),
    ("set id = id (key SET to itself)",
     ["update t set id = id where id = 1"], 1, "1U2/2"),
    ("0-row update", ["update t set a = 1 where id = 99"], 1, ""),
    ("baseline NULL: everything", [], "NULL", "1I1/1 2I1/1 3I1/1"),
    ("baseline -1: empty", [], -1, ""),
    ("baseline above current: empty", [], 99, ""),
    ("insert+delete in one transaction: D",
     ["begin tran; insert into t values (5, 5, 5, 5); delete from t where "
      "id = 5; commit"], 1, "5D2/2"),
]


def test_folding():
    c = connect()
    cur = c.cursor()
    for name, writes, base, want in FOLD:
        try:
            rows_db(cur)
            for w in writes:
                cur.execute(w)
            expect("1.4: " + name, changes(cur, base), want)
        except pytds.Error as e:
            check("1.4: " + name, False, str(e))
    c.close()


def test_folding_more():
    c = connect()
    cur = c.cursor()
    rows_db(cur)
    cur.execute("delete from t where id = 3")
    expect("D rows keep their creation version in range",
           changes(cur, 0), "1I1/1 2I1/1 3D2/1")
    rows_db(cur)
    cur.execute("update t set id = 4 - id")
    expect("a key swap in one statement: every key U, created again",
           (changes(cur, 1), qall(cur, "select id, a from t order by id")),
           ("1U2/2 2U2/2 3U2/2", [(1, 3), (2, 2), (3, 1)]))
    name = new_db(cur)
    cur.execute("create table k (a int, b varchar(10), v int, "
                "primary key (b, a))")
    cur.execute("alter table k enable change_tracking")
    cur.execute("insert into k values (2, 'x', 1), (1, 'y', 1), (1, 'x', 1)")
    cur.execute("select * from changetable(changes k, 0) as c")
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    expect("columns: SYS_ ones then the key in key order",
           cols, ["SYS_CHANGE_VERSION", "SYS_CHANGE_CREATION_VERSION",
                  "SYS_CHANGE_OPERATION", "SYS_CHANGE_COLUMNS",
                  "SYS_CHANGE_CONTEXT", "b", "a"])
    expect("rows in primary key order",
           [(r[5], r[6]) for r in rows], [("x", 1), ("x", 2), ("y", 1)])
    expect("SYS_CHANGE_OPERATION is nchar(1): 2 bytes",
           q1(cur, "select top 1 datalength(c.sys_change_operation) from "
              "changetable(changes k, 0) as c")[0], 2)
    expect("column aliases rename the columns",
           q1(cur, "select top 1 vv, oo from changetable(changes k, 0) as "
              "c (vv, cv, oo, cc, cx, kb, ka) order by kb, ka"),
           (1, "I"))
    expect("string keys match case-insensitively",
           q1(cur, "select count(*) from changetable(changes k, 0) as c "
              "where c.b = 'X'")[0], 2)
    c.close()


# ---- 1.5 SYS_CHANGE_COLUMNS ----

def test_columns():
    c = connect()
    cur = c.cursor()
    rows_db(cur, track=True)
    cur.execute("update t set c = 5, a = 3 where id = 1")
    mask = q1(cur, "select sys_change_columns from changetable(changes t, "
              "1) as ct where id = 1")[0]
    expect("update t set c=5, a=3 => 0x000000000400000002000000",
           bytes(mask).hex(), "000000000400000002000000")
    expect("COLUMNPROPERTY ColumnId of c",
           q1(cur, "select columnproperty(object_id('t'), 'c', "
              "'ColumnId')")[0], 4)
    expect("IS_COLUMN_IN_MASK: a yes, b no",
           q1(cur, "select change_tracking_is_column_in_mask(2, "
              "sys_change_columns), change_tracking_is_column_in_mask(3, "
              "sys_change_columns) from changetable(changes t, 1) as ct "
              "where id = 1"), (True, False))
    expect("IS_COLUMN_IN_MASK of a NULL mask is 1",
           q1(cur, "select change_tracking_is_column_in_mask(3, NULL)")[0],
           True)
    cur.execute("update t set b = 1 where id = 1")
    expect("a later update in range appends its columns",
           bytes(q1(cur, "select sys_change_columns from changetable("
                    "changes t, 1) as ct where id = 1")[0]).hex(),
           "00000000040000000200000003000000")
    expect("the range from before the insert: NULL (I)",
           q1(cur, "select sys_change_columns from changetable(changes t, "
              "0) as ct where id = 1")[0], None)
    cur.execute("update t set a = 1, b = 1, c = 1 where id = 2")
    expect("every non-key column updated: NULL",
           q1(cur, "select sys_change_columns from changetable(changes t, "
              "3) as ct where id = 2")[0], None)
    cur.execute("update t set id = id, a = 2 where id = 3")
    expect("a key column SET: NULL",
           q1(cur, "select sys_change_columns from changetable(changes t, "
              "4) as ct where id = 3")[0], None)
    rows_db(cur, track=False)
    cur.execute("update t set a = 3 where id = 1")
    expect("column tracking off: NULL",
           q1(cur, "select sys_change_columns from changetable(changes t, "
              "1) as ct")[0], None)
    c.close()


# ---- 1.3 col 5, 1.6 ----

def test_context_version():
    c = connect()
    cur = c.cursor()
    rows_db(cur)
    cur.execute("declare @c varbinary(128) = 0x0A0B; with "
                "change_tracking_context (@c) update t set a = 7 where "
                "id = 2")
    expect("WITH CHANGE_TRACKING_CONTEXT reaches SYS_CHANGE_CONTEXT",
           bytes(q1(cur, "select sys_change_context from changetable("
                    "changes t, 1) as ct")[0]).hex(), "0a0b")
    cur.execute("update t set a = 8 where id = 2")
    expect("CONTEXT is the last change's",
           q1(cur, "select sys_change_context from changetable(changes t, "
              "1) as ct")[0], None)
    cur.execute("select * from changetable(version t, (id), (2)) as v")
    expect("VERSION columns",
           [d[0] for d in cur.description],
           ["SYS_CHANGE_VERSION", "SYS_CHANGE_CONTEXT", "id"])
    expect("VERSION of a changed row", cur.fetchall(), [(3, None, 2)])
    expect("VERSION of a missing key: empty",
           qall(cur, "select * from changetable(version t, (id), (42)) "
                "as v"), [])
    cur.execute("create table n (id int primary key)")
    cur.execute("insert into n values (1)")
    cur.execute("alter table n enable change_tracking")
    expect("VERSION of a row unchanged since enable: NULL",
           qall(cur, "select sys_change_version from changetable(version "
                "n, (id), (1)) as v"), [(None,)])
    cur.execute("begin tran")
    cur.execute("update t set a = 9 where id = 3")
    expect("VERSION of a row the open transaction changed: NULLs",
           qall(cur, "select sys_change_version, sys_change_context, id "
                "from changetable(version t, (id), (3)) as v"),
           [(None, None, 3)])
    expect("VERSION of another row inside the transaction",
           qall(cur, "select sys_change_version from changetable(version "
                "t, (id), (2)) as v"), [(3,)])
    cur.execute("rollback")
    cur.execute("drop table t")
    expect("DROP TABLE ends the table's tracking",
           q1(cur, "select count(*) from sys.change_tracking_tables where "
              "object_id = object_id('n')")[0] == 1 and
           q1(cur, "select count(*) from sys.change_tracking_tables")[0],
           1)
    c.close()


# ---- 1.2 TRUNCATE, 1.7 min valid, retention ----

def test_truncate():
    c = connect()
    cur = c.cursor()
    rows_db(cur)
    cur.execute("update t set a = 5 where id = 1")
    cur.execute("truncate table t")
    expect("TRUNCATE draws no version", cur_version(cur), 2)
    expect("TRUNCATE moves min valid to the current version",
           q1(cur, "select change_tracking_min_valid_version("
              "object_id('t'))")[0], 2)
    expect("TRUNCATE resets the history (baseline below min valid is no "
           "error)", changes(cur, 0), "")
    cur.execute("insert into t values (9, 9, 9, 9)")
    expect("after TRUNCATE new changes are tracked", changes(cur, 0),
           "9I3/3")
    expect("MIN_VALID_VERSION of a bad object id is NULL",
           q1(cur, "select change_tracking_min_valid_version(12345)")[0],
           None)
    c.close()


def wait_for(fn, want, secs=6.0):
    end = time.time() + secs
    got = fn()
    while got != want and time.time() < end:
        time.sleep(0.2)
        got = fn()
    return got


def test_retention():
    if REAL:
        return
    c = connect()
    cur = c.cursor()
    new_db(cur, opts="(change_retention = 1 minutes, auto_cleanup = off)")
    cur.execute("create table t (id int primary key, v int)")
    cur.execute("alter table t enable change_tracking")
    cur.execute("insert into t values (1, 1)")
    cur.execute("update t set v = 2")
    cur.execute("exec sim.advance_clock @seconds = 120")
    cur.execute("insert into t values (2, 2)")
    expect("AUTO_CLEANUP OFF: nothing purged",
           q1(cur, "select change_tracking_min_valid_version("
              "object_id('t'))")[0], 0)
    cur.execute("exec sys.sp_flush_CT_internal_table_on_demand")
    expect("manual cleanup raises min valid to the retention cut",
           q1(cur, "select change_tracking_min_valid_version("
              "object_id('t')), cleanup_version from "
              "sys.change_tracking_tables"), (2, 2))
    expect("manual cleanup purged the expired history",
           changes(cur, 0), "2I3/3")
    name = new_db(cur, opts="(change_retention = 1 minutes)")
    cur.execute("create table t (id int primary key, v int)")
    cur.execute("alter table t enable change_tracking")
    cur.execute("insert into t values (1, 1)")
    cur.execute("exec sim.advance_clock @seconds = 120")
    got = wait_for(lambda: q1(cur, "select change_tracking_min_valid_"
                              "version(object_id('t'))")[0], 1)
    expect("auto cleanup (background) moves min valid after retention",
           got, 1)
    expect("auto cleanup purged the history", changes(cur, 0), "")
    expect("advance_clock moves GETDATE()",
           q1(cur, "select case when datediff(second, sysutcdatetime(), "
              "getutcdate()) >= 0 then 1 else 0 end")[0], 1)
    c.close()


# ---- 1.9 permissions ----

def test_permissions():
    c = connect()
    cur = c.cursor()
    name = new_db(cur)
    cur.execute("create table t (id int primary key, v int)")
    cur.execute("create table u (id int primary key, v int)")
    cur.execute("alter table t enable change_tracking")
    cur.execute("alter table u enable change_tracking")
    cur.execute("insert into t values (1, 1)")
    cur.execute("use master")
    cur.execute("if exists (select 1 from sys.server_principals where "
                "name = 'ct_reader') drop login ct_reader")
    cur.execute("create login ct_reader with password = 'Ct_reader_1!'")
    cur.execute("use %s" % name)
    cur.execute("create user ct_reader for login ct_reader")
    cur.execute("grant select on schema::dbo to ct_reader")
    r = connect(user="ct_reader", password="Ct_reader_1!", database=name)
    rc = r.cursor()
    try:
        rc.execute("select * from changetable(changes t, 0) as c")
        check("229 without VIEW CHANGE TRACKING", False)
    except pytds.Error as e:
        check("229 without VIEW CHANGE TRACKING, SQL Server's text",
              getattr(e, "msg_no", None) == 229 and
              "The VIEW CHANGE TRACKING permission was denied on the "
              "object 't', database '%s', schema 'dbo'." % name in str(e),
              str(e))
    expect("MIN_VALID_VERSION without permission is NULL",
           q1(rc, "select change_tracking_min_valid_version("
              "object_id('t'))")[0], None)
    cur.execute("grant view change tracking on object::t to ct_reader")
    expect("GRANT VIEW CHANGE TRACKING ON OBJECT::t",
           q1(rc, "select count(*) from changetable(changes t, 0) as c")[0],
           1)
    expect("the object grant does not cover u",
           err_of(rc, "select * from changetable(changes u, 0) as c"), 229)
    cur.execute("grant view change tracking on schema::dbo to ct_reader")
    expect("GRANT VIEW CHANGE TRACKING ON SCHEMA::dbo",
           q1(rc, "select count(*) from changetable(changes u, 0) as c")[0],
           0)
    r.close()
    c.close()


# ---- 1.7 snapshot read pattern ----

def test_snapshot():
    c = connect()
    cur = c.cursor()
    name = rows_db(cur)
    cur.execute("alter database %s set allow_snapshot_isolation on" % name)
    w = connect(database=name)
    wc = w.cursor()
    cur.execute("set transaction isolation level snapshot")
    cur.execute("begin tran")
    nxt = cur_version(cur)
    ok = q1(cur, "select case when change_tracking_min_valid_version("
            "object_id('t')) <= 0 then 1 else 0 end")[0]
    wc.execute("update t set a = 42 where id = 1")
    wc.execute("insert into t values (8, 8, 8, 8)")
    expect("snapshot: min valid checked, @next fixed", (ok, nxt), (1, 1))
    expect("snapshot: the current version stays at the snapshot's",
           cur_version(cur), 1)
    expect("snapshot: CHANGETABLE hides changes newer than the snapshot",
           changes(cur, 0), "1I1/1 2I1/1 3I1/1")
    expect("snapshot: the joined row is the snapshot's",
           q1(cur, "select t.a from changetable(changes t, 0) as ct join "
              "t on t.id = ct.id where ct.id = 1")[0], 1)
    cur.execute("commit")
    cur.execute("set transaction isolation level read committed")
    expect("after COMMIT the new changes appear", changes(cur, 1),
           "1U2/ 8I3/3")
    w.close()
    c.close()


# ---- connectors' query shapes (SQLSERVER.md 2.10 and their sources) ----

def test_connector_shapes():
    c = connect()
    cur = c.cursor()
    rows_db(cur)
    cur.execute("update t set a = 10 where id = 1")
    cur.execute("delete from t where id = 2")
    nxt = cur_version(cur)
    rows = qall(cur, "SELECT ct.SYS_CHANGE_VERSION, ct.SYS_CHANGE_OPERATION,"
                " ct.id, t.* FROM CHANGETABLE(CHANGES dbo.t, %s) AS ct "
                "LEFT JOIN dbo.t AS t ON ct.id = t.id WHERE "
                "ct.SYS_CHANGE_VERSION <= %s ORDER BY ct.SYS_CHANGE_VERSION, "
                "ct.id", (1, nxt))
    expect("Estuary/Debezium shape: LEFT JOIN, parameters, ORDER BY",
           rows, [(2, "U", 1, 1, 10, 1, 1),
                  (3, "D", 2, None, None, None, None)])
    expect("TOP over CHANGETABLE",
           qall(cur, "select top 1 ct.id from changetable(changes t, 0) "
                "as ct order by ct.sys_change_version desc, ct.id"), [(2,)])
    expect("WHERE on the operation",
           qall(cur, "select ct.id from changetable(changes t, 0) as ct "
                "where ct.sys_change_operation = N'D'"), [(2,)])
    expect("sp_executesql bigint baseline",
           q1(cur, "select count(*) from changetable(changes t, %s) as ct",
              (2 ** 40,))[0], 0)
    c.close()


# ---- concurrent writers ----

def test_threads():
    c = connect()
    cur = c.cursor()
    name = new_db(cur)
    cur.execute("create table t (id int primary key, th int, n int)")
    cur.execute("alter table t enable change_tracking")
    base = cur_version(cur)
    nth, per = 6, 25
    seen = {}
    errors = []

    def worker(k):
        try:
            w = connect(database=name)
            wc = w.cursor()
            for i in range(per):
                if i % 3 == 0:
                    wc.execute("begin tran; insert into t values (%d, %d, "
                               "%d); update t set n = n + 1 where id = %d; "
                               "commit" % (k * 1000 + i, k, i,
                                           k * 1000 + i))
                else:
                    wc.execute("insert into t values (%d, %d, %d)"
                               % (k * 1000 + i, k, i))
            w.close()
        except Exception as e:
            errors.append(e)

    ths = [threading.Thread(target=worker, args=(k,)) for k in range(nth)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    expect("concurrent writers: no errors", errors, [])
    rows = qall(cur, "select ct.sys_change_version, t.th, t.n from "
                "changetable(changes t, %d) as ct join t on t.id = ct.id"
                % base)
    vers = sorted(r[0] for r in rows)
    expect("every committed transaction exactly one version, no gaps",
           vers, list(range(base + 1, base + 1 + nth * per)))
    mono = True
    for k in range(nth):
        mine = [r[0] for r in sorted((r for r in rows if r[1] == k),
                                     key=lambda r: r[2] % 1000)]
        mono &= mine == sorted(mine) and len(set(mine)) == len(mine)
    expect("versions strictly increase in each writer's commit order",
           mono, True)
    expect("current version = last commit", cur_version(cur),
           base + nth * per)
    c.close()


def tsql(sql, db):
    """Run a batch with FreeTDS tsql (db-lib's wire code, not pytds)."""
    conf = os.path.join(TMP, "freetds.conf")
    with open(conf, "w") as f:
        f.write("[sim]\n\thost = %s\n\tport = %d\n\ttds version = 7.4\n"
                % (HOST, PORT))
    env = dict(os.environ, FREETDSCONF=conf)
    r = subprocess.run(["tsql", "-S", "sim", "-U", USER, "-P", PASSWORD,
                        "-D", db, "-o", "q"], input=sql + "\ngo\n",
                       capture_output=True, text=True, env=env, timeout=60)
    return r.stdout + r.stderr


def test_tsql():
    if shutil.which("tsql") is None:
        return
    c = connect()
    cur = c.cursor()
    name = rows_db(cur, track=True)
    cur.execute("update t set c = 5, a = 3 where id = 1")
    cur.execute("create table u (id int primary key)")
    c.close()
    out = tsql("select id, sys_change_operation, sys_change_columns from "
               "changetable(changes t, 1) as ct", name)
    check("tsql: CHANGETABLE row with its column mask",
          "1\tU\t000000000400000002000000" in out.replace("0x", ""), out)
    out = tsql("select 1 as a\nif 1 = 0 select * from changetable("
               "changes dbo.u, 0) as c", name)
    check("tsql: 22105 fails the batch before anything runs",
          "Msg 22105" in out and "'dbo.u'" in out and
          "\n1\n" not in out, out)


run("enable", test_enable)
run("errors", test_errors)
run("versions", test_versions)
run("folding", test_folding)
run("folding more", test_folding_more)
run("columns", test_columns)
run("context and version", test_context_version)
run("truncate", test_truncate)
run("retention", test_retention)
run("permissions", test_permissions)
run("snapshot", test_snapshot)
run("connector shapes", test_connector_shapes)
run("threads", test_threads)
run("tsql", test_tsql)


def drop_all():
    """On a real server, drop what the checks created."""
    if not REAL:
        return
    with connect() as c:
        cur = c.cursor()
        for name in MADE:
            err_of(cur, "if db_id('%s') is not null begin alter database "
                   "%s set single_user with rollback immediate; drop "
                   "database %s end" % (name, name, name))
        err_of(cur, "if exists (select 1 from sys.server_principals where "
               "name = 'ct_reader') drop login ct_reader")


drop_all()
simtest.finish()
