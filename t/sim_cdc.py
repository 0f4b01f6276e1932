#!/usr/bin/python3
#
# Change Data Capture in mssqlsim, through python3-tds (pytds), one
# check per behaviour that ../shared/SQLSERVER.md §2 documents: the
# sys.sp_cdc_* procedures and each of their errors, the change table's
# shape, the update mask's bit order beyond 8 columns, update rows
# sharing one __$seqval, one commit LSN per transaction, every
# collapsing rule of fn_cdc_get_net_changes, error 313 exactly as SQL
# Server words it, 229 through the gating role, the LSN functions, the
# asynchronous capture job (a change is invisible until a scan),
# retention moving the minimum LSN, two capture instances side by side
# after ALTER TABLE ADD COLUMN, Debezium's and Estuary's queries, and
# concurrent writers.  A tool that gets any of these wrong against SQL
# Server must fail here too.
#
# Runs against MSSQL_TEST_ADDRESS (host:port) with MSSQL_TEST_USER and
# MSSQL_TEST_PASSWORD when set (simulator-only checks are skipped), else
# against private mssqlsim instances.  Needs /usr/bin/python3 with the
# Debian python3-tds.

import datetime
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # the source tree may be read-only
import simtest  # noqa: E402 (exits 77 without python3-tds)
import pytds  # noqa: E402
from simtest import check, connect, expect, run, start_sim  # noqa: E402

simtest.setup("Sim_cdc1!", 600)
TMP = simtest.TMP
POLL_MS = 200
HOST, PORT, USER, PASSWORD, REAL = simtest.server(
    "--cdc-polling-interval-ms", str(POLL_MS))
if REAL:
    SLOW_PORT = PORT
    POLL_MS = 5000
else:
    # A capture job that (almost) never runs by itself.
    SLOW_PORT = start_sim("--cdc-polling-interval-ms", "600000")

DBN = [0]


def binparams(params):
    """bytes as varbinary parameters (pytds sends bare bytes as text)."""
    if params is None or isinstance(params, dict):
        return params
    return tuple(pytds.Binary(p) if isinstance(p, bytes) else p
                 for p in params)


def rows(cur, sql, params=None):
    cur.execute(sql, binparams(params))
    return cur.fetchall()


def q1(cur, sql, params=None):
    cur.execute(sql, binparams(params))
    return cur.fetchone()


def err(fn):
    """Run fn; return the pytds error (msg_no, text) or None."""
    try:
        fn()
    except pytds.Error as e:
        return (getattr(e, "msg_no", None), str(e))
    return None


def errno_of(cur, sql, params=None):
    """The error number of a statement (errors may follow the metadata)."""
    def go():
        cur.execute(sql, binparams(params))
        while cur.description is not None:
            cur.fetchall()
            if not cur.nextset():
                break
    e = err(go)
    return e[0] if e else None


def fresh_db(cur, enable=True):
    """A new database with CDC enabled, made current."""
    DBN[0] += 1
    name = "cdc%d_%d" % (os.getpid(), DBN[0])
    cur.execute("CREATE DATABASE " + name)
    cur.execute("USE " + name)
    if enable:
        cur.execute("EXEC sys.sp_cdc_enable_db")
    return name


def enable_table(cur, table, schema="dbo", **kw):
    args = ["@source_schema = N'%s'" % schema,
            "@source_name = N'%s'" % table, "@role_name = NULL"]
    for k, v in kw.items():
        if v is None:
            args.append("@%s = NULL" % k)
        elif isinstance(v, int):
            args.append("@%s = %d" % (k, v))
        else:
            args.append("@%s = N'%s'" % (k, v))
    cur.execute("EXEC sys.sp_cdc_enable_table " + ", ".join(args))


def scan(cur):
    """Make the capture job catch up: sp_cdc_scan, or wait on a server."""
    if not REAL:
        cur.execute("EXEC sys.sp_cdc_scan")
        return
    time.sleep(POLL_MS / 1000.0 * 2 + 1)


def max_lsn(cur):
    return q1(cur, "SELECT sys.fn_cdc_get_max_lsn()")[0]


def min_lsn(cur, ci):
    return q1(cur, "SELECT sys.fn_cdc_get_min_lsn(%s)", (ci,))[0]


def inc(cur, lsn):
    return q1(cur, "SELECT sys.fn_cdc_increment_lsn(%s)", (lsn,))[0]


def all_changes(cur, ci, frm, to, opt="all"):
    return rows(cur, "SELECT * FROM cdc.fn_cdc_get_all_changes_%s(%%s, "
                "%%s, N'%s')" % (ci, opt), (frm, to))


def net_changes(cur, ci, frm, to, opt="all"):
    return rows(cur, "SELECT * FROM cdc.fn_cdc_get_net_changes_%s(%%s, "
                "%%s, N'%s')" % (ci, opt), (frm, to))


def msg_numbers(cur):
    out = []
    for _, ex in cur.messages or []:
        out.append(getattr(ex, "msg_no", None))
    return out


# 2.1 sp_cdc_enable_db


def test_enable_db():
    with connect() as c:
        cur = c.cursor()
        db = fresh_db(cur, enable=False)
        expect("is_cdc_enabled 0 before sp_cdc_enable_db",
               q1(cur, "SELECT is_cdc_enabled FROM sys.databases WHERE "
                  "name = %s", (db,))[0], False)
        cur.execute("EXEC sys.sp_cdc_enable_db")
        expect("is_cdc_enabled 1 after sp_cdc_enable_db",
               q1(cur, "SELECT is_cdc_enabled FROM sys.databases WHERE "
                  "name = %s", (db,))[0], True)
        expect("schema cdc created",
               q1(cur, "SELECT count(*) FROM sys.schemas WHERE name = "
                  "'cdc'")[0], 1)
        expect("user cdc created",
               q1(cur, "SELECT count(*) FROM sys.database_principals "
                  "WHERE name = 'cdc'")[0], 1)
        expect("cdc objects are is_ms_shipped",
               rows(cur, "SELECT DISTINCT is_ms_shipped FROM sys.tables t "
                    "JOIN sys.schemas s ON s.schema_id = t.schema_id WHERE "
                    "s.name = 'cdc' OR t.name = 'systranschemas'"), [(True,)])
        for t in ("change_tables", "captured_columns", "index_columns",
                  "ddl_history", "lsn_time_mapping"):
            expect("metadata table cdc.%s exists" % t,
                   errno_of(cur, "SELECT count(*) FROM cdc." + t), None)
        e = err(lambda: cur.execute("EXEC sys.sp_cdc_enable_db"))
        check("second sp_cdc_enable_db is not an error", e is None, e)
        check("second sp_cdc_enable_db: message 22905 (severity 10)",
              22905 in msg_numbers(cur), msg_numbers(cur))
        cur.execute("USE master")
        expect("sp_cdc_enable_db in master: 22989",
               errno_of(cur, "EXEC sys.sp_cdc_enable_db"), 22989)
        fresh_db(cur, enable=False)
        cur.execute("CREATE SCHEMA cdc")
        expect("existing cdc schema: 22906",
               errno_of(cur, "EXEC sys.sp_cdc_enable_db"), 22906)
        expect("sp_cdc_help_change_data_capture, DB not enabled: 22901",
               errno_of(cur, "EXEC sys.sp_cdc_help_change_data_capture"),
               22901)
        e = err(lambda: rows(cur, "SELECT sys.fn_cdc_get_max_lsn()"))
        check("fn_cdc_get_max_lsn, DB not enabled: 208 on "
              "cdc.lsn_time_mapping",
              e is not None and e[0] == 208 and
              "cdc.lsn_time_mapping" in e[1], e)


# 2.1 sp_cdc_enable_table and its errors


def test_enable_table_errors():
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.t (id int PRIMARY KEY, a int NULL, "
                    "b int NULL)")
        cur.execute("CREATE TABLE dbo.heap (a int, b int)")
        cur.execute("CREATE TABLE dbo.dollar (id int PRIMARY KEY, "
                    "[__$x] int)")
        cur.execute("CREATE TABLE dbo.u (id int PRIMARY KEY, k int NOT "
                    "NULL, n int NULL)")
        cur.execute("CREATE UNIQUE INDEX ux_k ON dbo.u (k)")
        cur.execute("CREATE UNIQUE INDEX ux_n ON dbo.u (n)")
        cur.execute("CREATE INDEX ix_plain ON dbo.u (n)")

        def en(**kw):
            return errno_of(cur, "EXEC sys.sp_cdc_enable_table " +
                            ", ".join("@%s = %s" % kv for kv in kw.items()))
        expect("missing table: 22931",
               en(source_schema="N'dbo'", source_name="N'nope'",
                  role_name="NULL"), 22931)
        expect("cdc schema table: 22974",
               en(source_schema="N'cdc'", source_name="N'change_tables'",
                  role_name="NULL"), 22974)
        expect("@role_name = '': 22907",
               en(source_schema="N'dbo'", source_name="N't'",
                  role_name="N''"), 22907)
        expect("@source_name NULL: 22963",
               en(source_schema="N'dbo'", source_name="NULL",
                  role_name="NULL"), 22963)
        expect("@role_name not supplied: 201",
               en(source_schema="N'dbo'", source_name="N't'"), 201)
        expect("capture instance over 100 chars: 22927",
               en(source_schema="N'dbo'", source_name="N't'",
                  role_name="NULL", capture_instance="N'%s'" % ("x" * 101)),
               22927)
        expect("net changes without a key: 22939",
               en(source_schema="N'dbo'", source_name="N'heap'",
                  role_name="NULL", supports_net_changes="1"), 22939)
        expect("unknown @index_name: 22928",
               en(source_schema="N'dbo'", source_name="N'u'",
                  role_name="NULL", index_name="N'nope'"), 22928)
        expect("non-unique @index_name: 22929",
               en(source_schema="N'dbo'", source_name="N'u'",
                  role_name="NULL", index_name="N'ix_plain'"), 22929)
        expect("@index_name on a nullable column: 22838",
               en(source_schema="N'dbo'", source_name="N'u'",
                  role_name="NULL", index_name="N'ux_n'"), 22838)
        expect("captured list without the key: 22943",
               en(source_schema="N'dbo'", source_name="N't'",
                  role_name="NULL", captured_column_list="N'a, b'"), 22943)
        expect("reserved __$ column: 22975",
               en(source_schema="N'dbo'", source_name="N'dollar'",
                  role_name="NULL"), 22975)
        expect("bad filegroup: 22973",
               en(source_schema="N'dbo'", source_name="N't'",
                  role_name="NULL", filegroup_name="N'NOFG'"), 22973)
        expect("quoted captured list [id], \"a\" accepted",
               en(source_schema="N'dbo'", source_name="N't'",
                  role_name="NULL", capture_instance="N'quoted'",
                  captured_column_list="N'[id], \"a\"'"), None)
        expect("quoted list captures id and a",
               [r[0] for r in rows(cur, "SELECT column_name FROM "
                                   "cdc.captured_columns cc JOIN "
                                   "cdc.change_tables ct ON ct.object_id "
                                   "= cc.object_id WHERE capture_instance "
                                   "= 'quoted' ORDER BY column_ordinal")],
               ["id", "a"])
        expect("second instance of dbo.t accepted",
               en(source_schema="N'dbo'", source_name="N't'",
                  role_name="NULL"), None)
        expect("default capture instance dbo_t",
               q1(cur, "SELECT count(*) FROM cdc.change_tables WHERE "
                  "capture_instance = 'dbo_t'")[0], 1)
        expect("duplicate capture instance: 22926",
               en(source_schema="N'dbo'", source_name="N'u'",
                  role_name="NULL", capture_instance="N'dbo_t'"), 22926)
        e = err(lambda: cur.execute(
            "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', "
            "@source_name = N't', @role_name = NULL, @capture_instance = "
            "N'third'"))
        check("third instance: 22962 with its text",
              e is not None and e[0] == 22962 and
              "Two capture instances already exist for source table "
              "'dbo.t'" in e[1], e)
        expect("@index_name = unique NOT NULL index accepted",
               en(source_schema="N'dbo'", source_name="N'u'",
                  role_name="NULL", index_name="N'ux_k'"), None)
        expect("index_columns follow @index_name",
               rows(cur, "SELECT ic.column_name FROM cdc.index_columns ic "
                    "JOIN cdc.change_tables ct ON ct.object_id = "
                    "ic.object_id WHERE ct.capture_instance = 'dbo_u'"),
               [("k",)])


def test_enable_table():
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.t (id int PRIMARY KEY, a int)")
        cur.execute("CREATE TABLE dbo.h (a int, b int)")
        enable_table(cur, "t")
        check("first table: 'SQLServerAgent is not currently running' "
              "message (22022)", 22022 in msg_numbers(cur) or REAL,
              msg_numbers(cur))
        expect("sys.tables.is_tracked_by_cdc",
               rows(cur, "SELECT name, is_tracked_by_cdc FROM sys.tables "
                    "WHERE name IN ('t', 'h') ORDER BY name"),
               [("h", False), ("t", True)])
        enable_table(cur, "h")
        expect("supports_net_changes defaults: 1 with a PK, 0 without",
               rows(cur, "SELECT capture_instance, supports_net_changes "
                    "FROM cdc.change_tables ORDER BY capture_instance"),
               [("dbo_h", False), ("dbo_t", True)])
        e = err(lambda: cur.execute(
            "SELECT * FROM cdc.fn_cdc_get_net_changes_dbo_h(NULL, NULL, "
            "N'all')"))
        check("net function without net support: Invalid object name",
              e is not None and e[0] == 208, e)
        expect("all-changes function of dbo_h exists",
               errno_of(cur, "SELECT * FROM cdc.fn_cdc_get_all_changes_"
                        "dbo_h(sys.fn_cdc_get_min_lsn('dbo_h'), "
                        "sys.fn_cdc_get_max_lsn(), N'all')") in (None, 313),
               True)
        h = rows(cur, "EXEC sys.sp_cdc_help_change_data_capture "
                 "@source_schema = N'dbo', @source_name = N't'")
        expect("help_change_data_capture: one row", len(h), 1)
        cols = [d[0] for d in cur.description]
        expect("help_change_data_capture columns", cols,
               ["source_schema", "source_table", "capture_instance",
                "object_id", "source_object_id", "start_lsn", "end_lsn",
                "supports_net_changes", "has_drop_pending", "role_name",
                "index_name", "filegroup_name", "create_date",
                "index_column_list", "captured_column_list"])
        expect("help_change_data_capture lists",
               (h[0][0], h[0][1], h[0][2], h[0][13], h[0][14]),
               ("dbo", "t", "dbo_t", "[id]", "[id], [a]"))
        expect("help: one of schema/name only: 22972",
               errno_of(cur, "EXEC sys.sp_cdc_help_change_data_capture "
                        "@source_schema = N'dbo'"), 22972)
        j = rows(cur, "EXEC sys.sp_cdc_help_jobs")
        expect("sp_cdc_help_jobs: capture and cleanup",
               sorted(r[1] for r in j), ["capture", "cleanup"])
        expect("cleanup retention 4320 minutes",
               [r[7] for r in j if r[1] == "cleanup"], [4320])
        expect("capture maxtrans 500",
               [r[3] for r in j if r[1] == "capture"], [500])
        dbid = q1(cur, "SELECT db_id()")[0]
        expect("msdb.dbo.cdc_jobs lists the database's two jobs",
               rows(cur, "SELECT job_type, retention FROM msdb.dbo.cdc_jobs "
                    "WHERE database_id = %d ORDER BY job_type" % dbid),
               [("capture", 0), ("cleanup", 4320)])
        # RPC by name with named parameters (python-tds callproc).
        cur.execute("CREATE TABLE dbo.r (id int PRIMARY KEY, v int)")
        cur.callproc("sys.sp_cdc_enable_table",
                     {"@source_schema": "dbo", "@source_name": "r",
                      "@role_name": None, "@capture_instance": "r_rpc"})
        expect("RPC sp_cdc_enable_table with named parameters",
               q1(cur, "SELECT count(*) FROM cdc.change_tables WHERE "
                  "capture_instance = 'r_rpc'")[0], 1)
        cur.callproc("sys.sp_cdc_disable_table",
                     {"@source_schema": "dbo", "@source_name": "r",
                      "@capture_instance": "all"})
        expect("sp_cdc_disable_table 'all' drops the change table",
               errno_of(cur, "SELECT * FROM cdc.r_rpc_CT"), 208)
        expect("sp_cdc_disable_table: metadata rows gone",
               q1(cur, "SELECT count(*) FROM cdc.change_tables WHERE "
                  "capture_instance = 'r_rpc'")[0], 0)
        expect("sp_cdc_disable_table of an unknown instance: 22960",
               errno_of(cur, "EXEC sys.sp_cdc_disable_table "
                        "@source_schema = N'dbo', @source_name = N't', "
                        "@capture_instance = N'nope'"), 22960)
        cur.execute("EXEC sys.sp_cdc_disable_table @source_schema = "
                    "N'dbo', @source_name = N'h', @capture_instance = "
                    "N'dbo_h'")
        expect("disable one instance: is_tracked_by_cdc back to 0",
               q1(cur, "SELECT is_tracked_by_cdc FROM sys.tables WHERE "
                  "name = 'h'")[0], False)
        db = q1(cur, "SELECT db_name()")[0]
        cur.execute("EXEC sys.sp_cdc_disable_db")
        expect("sp_cdc_disable_db: is_cdc_enabled 0",
               q1(cur, "SELECT is_cdc_enabled FROM sys.databases WHERE "
                  "name = %s", (db,))[0], False)
        expect("sp_cdc_disable_db: cdc schema gone",
               q1(cur, "SELECT count(*) FROM sys.schemas WHERE name = "
                  "'cdc'")[0], 0)
        expect("sp_cdc_disable_db: its msdb.dbo.cdc_jobs rows gone",
               errno_of(cur, "SELECT * FROM msdb.dbo.cdc_jobs WHERE "
                        "database_id = %d AND 1 = 0" % dbid) in (None, 208)
               and (err(lambda: rows(cur, "SELECT count(*) FROM "
                                     "msdb.dbo.cdc_jobs WHERE database_id "
                                     "= %d" % dbid)) is not None or
                    q1(cur, "SELECT count(*) FROM msdb.dbo.cdc_jobs WHERE "
                       "database_id = %d" % dbid)[0] == 0), True)


# 2.2 change table shape


def test_change_table_shape():
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.s (id int IDENTITY PRIMARY KEY, "
                    "name nvarchar(30) NOT NULL, ts timestamp, "
                    "twice AS (id * 2), big bigint NOT NULL)")
        enable_table(cur, "s")
        got = rows(cur, "SELECT c.name, t.name, c.max_length, "
                   "c.is_nullable FROM sys.columns c JOIN sys.types t ON "
                   "t.user_type_id = c.user_type_id WHERE c.object_id = "
                   "OBJECT_ID('cdc.dbo_s_CT') ORDER BY c.column_id")
        expect("cdc.dbo_s_CT columns, types and nullability", got,
               [("__$start_lsn", "binary", 10, False),
                ("__$end_lsn", "binary", 10, True),
                ("__$seqval", "binary", 10, False),
                ("__$operation", "int", 4, False),
                ("__$update_mask", "varbinary", 128, True),
                ("id", "int", 4, True),
                ("name", "nvarchar", 60, True),
                ("ts", "binary", 8, True),
                ("twice", "int", 4, True),
                ("big", "bigint", 8, True),
                ("__$command_id", "int", 4, True)])
        cur.execute("INSERT INTO dbo.s (name, big) VALUES (N'x', 5)")
        scan(cur)
        r = rows(cur, "SELECT __$end_lsn, __$operation, id, name, ts, "
                 "twice, big FROM cdc.dbo_s_CT")
        check("end_lsn NULL, computed column NULL, timestamp as 8 bytes",
              len(r) == 1 and r[0][0] is None and r[0][1] == 2 and
              r[0][5] is None and isinstance(r[0][4], bytes) and
              len(r[0][4]) == 8 and r[0][6] == 5, r)


# 2.2 / 2.3 change rows, masks, seqvals, LSNs


def test_rows_and_masks():
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        cols = ", ".join("c%d int NULL" % i for i in range(2, 11))
        cur.execute("CREATE TABLE dbo.w (c1 int PRIMARY KEY, %s)" % cols)
        enable_table(cur, "w")
        cur.execute("INSERT INTO dbo.w (c1, c2, c3, c9) VALUES (1, 2, 3, 9)")
        cur.execute("UPDATE dbo.w SET c3 = 30 WHERE c1 = 1")
        cur.execute("UPDATE dbo.w SET c9 = 90 WHERE c1 = 1")
        cur.execute("UPDATE dbo.w SET c10 = 100, c2 = 20 WHERE c1 = 1")
        cur.execute("DELETE FROM dbo.w WHERE c1 = 1")
        scan(cur)
        lo, hi = min_lsn(cur, "dbo_w"), max_lsn(cur)
        r = all_changes(cur, "dbo_w", lo, hi, "all update old")
        ops = [x[2] for x in r]
        expect("all update old: ops in order", ops,
               [2, 3, 4, 3, 4, 3, 4, 1])
        masks = [x[3] for x in r]
        expect("insert mask: all 10 bits (ordinal 1 = lowest bit of the "
               "last byte)", masks[0], b"\x03\xff")
        expect("update of ordinal 3: 0x0004", masks[2], b"\x00\x04")
        expect("update of ordinal 9: 0x0100", masks[4], b"\x01\x00")
        expect("update of ordinals 2 and 10: 0x0202", masks[6],
               b"\x02\x02")
        expect("delete mask: all bits", masks[7], b"\x03\xff")
        check("update before/after rows share __$seqval and __$start_lsn",
              all(r[i][0] == r[i + 1][0] and r[i][1] == r[i + 1][1]
                  for i in (1, 3, 5)), r)
        expect("op 3 holds the old value, op 4 the new",
               (r[1][6], r[2][6]), (3, 30))
        expect("delete row holds the last values", (r[7][4], r[7][5]),
               (1, 20))
        expect("fn_cdc_is_bit_set(9, 0x0100) = 1",
               q1(cur, "SELECT sys.fn_cdc_is_bit_set(9, %s), "
                  "sys.fn_cdc_is_bit_set(1, %s)", (masks[4], masks[4])),
               (True, False))
        expect("fn_cdc_has_column_changed",
               q1(cur, "SELECT sys.fn_cdc_has_column_changed('dbo_w', 'c9', "
                  "%s), sys.fn_cdc_has_column_changed('dbo_w', 'c3', %s)",
                  (masks[4], masks[4])), (True, False))
        expect("fn_cdc_get_column_ordinal",
               q1(cur, "SELECT sys.fn_cdc_get_column_ordinal('dbo_w', "
                  "'c9')")[0], 9)
        r2 = all_changes(cur, "dbo_w", lo, hi, "all")
        expect("all: updates once, as op 4", [x[2] for x in r2],
               [2, 4, 4, 4, 1])
        expect("all: result columns",
               [d[0] for d in cur.description][:5],
               ["__$start_lsn", "__$seqval", "__$operation",
                "__$update_mask", "c1"])
        # One commit LSN per transaction, distinct seqvals, command ids.
        cur.execute("BEGIN TRANSACTION")
        cur.execute("INSERT INTO dbo.w (c1) VALUES (10)")
        cur.execute("INSERT INTO dbo.w (c1) VALUES (11), (12)")
        cur.execute("UPDATE dbo.w SET c2 = 1 WHERE c1 >= 11")
        cur.execute("COMMIT")
        scan(cur)
        r = rows(cur, "SELECT __$start_lsn, __$seqval, __$operation, "
                 "__$command_id FROM cdc.dbo_w_CT WHERE __$start_lsn > %s "
                 "ORDER BY __$start_lsn, __$command_id, __$seqval, "
                 "__$operation", (hi,))
        expect("one transaction: one __$start_lsn", len({x[0] for x in r}),
               1)
        expect("one transaction: five seqvals (updates share one)",
               len({x[1] for x in r}), 5)
        check("seqval order follows operation order",
              [x[1] for x in r] == sorted(x[1] for x in r), r)
        check("__$command_id increases within the transaction",
              [x[3] for x in r] == sorted(x[3] for x in r) and
              r[0][3] < r[-1][3], r)
        check("seqvals below the commit LSN", all(x[1] < x[0] for x in r),
              r)
        expect("lsn_time_mapping: one row per transaction, tran_id set",
               q1(cur, "SELECT count(*) FROM cdc.lsn_time_mapping WHERE "
                  "start_lsn = %s AND tran_id <> 0x00", (r[0][0],))[0], 1)
        cur.execute("BEGIN TRANSACTION")
        cur.execute("INSERT INTO dbo.w (c1) VALUES (50)")
        cur.execute("ROLLBACK")
        cur.execute("UPDATE dbo.w SET c2 = 2 WHERE c1 = 999")
        scan(cur)
        expect("rolled back and 0-row statements capture nothing",
               q1(cur, "SELECT count(*) FROM cdc.dbo_w_CT WHERE "
                  "__$start_lsn > %s", (r[0][0],))[0], 0)


def test_lobs():
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.l (id int PRIMARY KEY, t text, "
                    "m varchar(max), n varchar(max), v int)")
        enable_table(cur, "l")
        cur.execute("INSERT INTO dbo.l VALUES (1, 'tt', 'mm', 'nn', 1)")
        cur.execute("UPDATE dbo.l SET m = 'm2', v = 2 WHERE id = 1")
        cur.execute("DELETE FROM dbo.l WHERE id = 1")
        scan(cur)
        r = rows(cur, "SELECT __$operation, t, m, n FROM cdc.dbo_l_CT "
                 "ORDER BY __$start_lsn, __$seqval, __$operation")
        expect("text NULL in ops 1 and 3; (max) NULL in op 3 unless "
               "changed", r,
               [(2, "tt", "mm", "nn"), (3, None, "mm", None),
                (4, "tt", "m2", "nn"), (1, None, "m2", "nn")])


# 2.3 net changes: every collapsing rule


def test_net_changes():
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.n (id int PRIMARY KEY, v int, "
                    "w int)")
        enable_table(cur, "n")
        # Rows existing before the window: 10..15.
        for i in range(10, 16):
            cur.execute("INSERT INTO dbo.n VALUES (%d, %d, 0)" % (i, i))
        scan(cur)
        lo = inc(cur, max_lsn(cur))
        cur.execute("INSERT INTO dbo.n VALUES (1, 1, 0)")      # insert
        cur.execute("INSERT INTO dbo.n VALUES (2, 2, 0)")      # ins+upd
        cur.execute("UPDATE dbo.n SET v = 22 WHERE id = 2")
        cur.execute("INSERT INTO dbo.n VALUES (3, 3, 0)")      # ins+del
        cur.execute("DELETE FROM dbo.n WHERE id = 3")
        cur.execute("BEGIN TRANSACTION")                     # same tx
        cur.execute("INSERT INTO dbo.n VALUES (4, 4, 0)")
        cur.execute("DELETE FROM dbo.n WHERE id = 4")
        cur.execute("COMMIT")
        cur.execute("UPDATE dbo.n SET v = 100 WHERE id = 10")  # upd
        cur.execute("UPDATE dbo.n SET w = 1 WHERE id = 10")
        cur.execute("DELETE FROM dbo.n WHERE id = 11")         # del
        cur.execute("DELETE FROM dbo.n WHERE id = 12")         # del+ins
        cur.execute("INSERT INTO dbo.n VALUES (12, 120, 0)")
        cur.execute("UPDATE dbo.n SET v = 130 WHERE id = 13")  # upd+del
        cur.execute("DELETE FROM dbo.n WHERE id = 13")
        cur.execute("INSERT INTO dbo.n VALUES (5, 5, 0)")      # i,d,i
        cur.execute("DELETE FROM dbo.n WHERE id = 5")
        cur.execute("INSERT INTO dbo.n VALUES (5, 55, 0)")
        cur.execute("UPDATE dbo.n SET id = 16 WHERE id = 14")  # key upd
        scan(cur)
        hi = max_lsn(cur)
        r = net_changes(cur, "dbo_n", lo, hi)
        expect("net: result columns", [d[0] for d in cur.description],
               ["__$start_lsn", "__$operation", "__$update_mask", "id",
                "v", "w"])
        got = {x[3]: (x[1], x[4]) for x in r}
        expect("net: insert -> 2", got.get(1), (2, 1))
        expect("net: insert+update -> 2 with final values", got.get(2),
               (2, 22))
        expect("net: insert+delete (separate transactions) -> absent",
               got.get(3), None)
        expect("net: insert+delete (same transaction) -> absent",
               got.get(4), None)
        expect("net: update of an existing row -> 4", got.get(10),
               (4, 100))
        expect("net: delete of an existing row -> 1 with last values",
               got.get(11), (1, 11))
        expect("net: delete+reinsert -> 4", got.get(12), (4, 120))
        expect("net: update+delete -> 1", got.get(13), (1, 130))
        expect("net: insert, delete, insert -> 2", got.get(5), (2, 55))
        expect("net: key update -> delete old key, insert new key",
               (got.get(14), got.get(16)), ((1, 14), (2, 14)))
        expect("net: untouched row absent", got.get(15), None)
        check("net 'all': masks NULL", all(x[2] is None for x in r), r)
        last = rows(cur, "SELECT max(__$start_lsn) FROM cdc.dbo_n_CT WHERE "
                    "id = 10")[0][0]
        expect("net: __$start_lsn of the last change", [x[0] for x in r
                                                          if x[3] == 10],
               [last])
        m = {x[3]: (x[1], x[2]) for x in
             net_changes(cur, "dbo_n", lo, hi, "all with merge")}
        expect("net 'all with merge': 5 for inserts and updates, 1 for "
               "deletes", (m[1][0], m[10][0], m[12][0], m[11][0]),
               (5, 5, 5, 1))
        k = {x[3]: x[2] for x in
             net_changes(cur, "dbo_n", lo, hi, "all with mask")}
        expect("net 'all with mask': op 4 mask ORs its updates "
               "(ordinals 2 and 3)", k[10], b"\x06")
        expect("net 'all with mask': op 2 mask NULL", k[1], None)
        # Window boundaries are inclusive and span transactions.
        one = rows(cur, "SELECT __$start_lsn FROM cdc.dbo_n_CT WHERE id "
                   "= 2 AND __$operation = 4")[0][0]
        r = net_changes(cur, "dbo_n", one, one)
        expect("net: a one-LSN window sees only that transaction",
               [(x[1], x[3]) for x in r], [(4, 2)])


# 2.2 key updates: split into delete + insert (issue 5)


def key_changes(cur, ci, frm):
    """(seqval, operation, id, v) of the changes after frm, in order."""
    return [(x[1], x[2], x[4], x[5]) for x in
            all_changes(cur, ci, inc(cur, frm), max_lsn(cur),
                        "all update old")]


def test_key_updates():
    """An UPDATE that changes the primary key (the clustered key) is
    logged as a delete of the old row and an insert of the new one, each
    with its own seqval: KB 238254 ("If any column that is part of a
    unique constraint is updated, then SQL Server implements the update
    as a pair of DELETE/INSERT operations"), Estuary's TestPrimaryKeyUpdate
    snapshot on a real server (SET id = 6 WHERE id = 1: delete 1, create
    6).  A delete and an insert of one statement on the same key collapse
    into an update pair, as CHANGETABLE shows (SQLSERVER.md 1.4)."""
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.k (id int PRIMARY KEY, v int, "
                    "w int)")
        enable_table(cur, "k")
        cur.execute("INSERT INTO dbo.k VALUES (1, 1, 0), (2, 2, 0), "
                    "(3, 3, 0), (4, 4, 0), (5, 5, 0), (6, 6, 0)")
        scan(cur)
        lo = max_lsn(cur)
        cur.execute("UPDATE dbo.k SET id = id + 1000 WHERE id <= 2")
        scan(cur)
        r = key_changes(cur, "dbo_k", lo)
        expect("multi-row key update: delete 1, delete 2, insert 1001, "
               "insert 1002", sorted((x[1], x[2], x[3]) for x in r),
               [(1, 1, 1), (1, 2, 2), (2, 1001, 1), (2, 1002, 2)])
        expect("multi-row key update: deletes before inserts",
               [x[1] for x in r], [1, 1, 2, 2])
        expect("split rows: one seqval each", len({x[0] for x in r}), 4)
        m = all_changes(cur, "dbo_k", inc(cur, lo), max_lsn(cur))
        expect("split rows: one commit LSN", len({x[0] for x in m}), 1)
        expect("split rows: every mask bit set",
               {x[3] for x in m}, {b"\x07"})
        lo = max_lsn(cur)
        cur.execute("UPDATE dbo.k SET id = 7, v = 70 WHERE id = 3")
        scan(cur)
        expect("singleton key update: delete old row, insert new row",
               [(x[1], x[2], x[3]) for x in key_changes(cur, "dbo_k", lo)],
               [(1, 3, 3), (2, 7, 70)])
        lo = max_lsn(cur)
        cur.execute("UPDATE dbo.k SET id = id - 1 WHERE id IN (4, 5, 6)")
        scan(cur)
        r = key_changes(cur, "dbo_k", lo)
        expect("SET id = id - 1 over 4..6: insert 3, update 4 and 5 "
               "(before: the old row of that key), delete 6",
               sorted((x[2], x[1], x[3]) for x in r),
               [(3, 2, 4), (4, 3, 4), (4, 4, 5), (5, 3, 5), (5, 4, 6),
                (6, 1, 6)])
        check("update pairs share a seqval",
              all(a[0] == b[0] for a, b in zip(r, r[1:])
                  if a[1] == 3 and b[1] == 4), r)
        lo = max_lsn(cur)
        cur.execute("UPDATE dbo.k SET id = id, w = 1 WHERE id = 1001")
        cur.execute("UPDATE dbo.k SET v = 9 WHERE id = 1001")
        scan(cur)
        expect("key SET to itself, non-key update: update pairs",
               [(x[1], x[2], x[3]) for x in key_changes(cur, "dbo_k", lo)],
               [(3, 1001, 1), (4, 1001, 1), (3, 1001, 1), (4, 1001, 9)])
        cur.execute("CREATE TABLE dbo.kh (id int PRIMARY KEY NONCLUSTERED, "
                    "v int, w int)")
        enable_table(cur, "kh")
        cur.execute("INSERT INTO dbo.kh VALUES (1, 1, 0), (2, 2, 0)")
        scan(cur)
        lo = max_lsn(cur)
        cur.execute("UPDATE dbo.kh SET id = id + 10")
        scan(cur)
        expect("heap, nonclustered primary key: delete + insert",
               sorted((x[1], x[2]) for x in key_changes(cur, "dbo_kh", lo)),
               [(1, 1), (1, 2), (2, 11), (2, 12)])
        # The row stays where it is when the clustered key does not
        # change: an update pair, as measured for a singleton UPDATE of
        # a UNIQUE non-key column (Hugo Kornelis, pastebin.com/ipvimFvE),
        # whose keys differ when the primary key is nonclustered.
        cur.execute("CREATE TABLE dbo.kc (id int NOT NULL, c int NOT NULL, "
                    "u int UNIQUE, CONSTRAINT kc_c UNIQUE CLUSTERED (c))")
        cur.execute("ALTER TABLE dbo.kc ADD CONSTRAINT kc_pk PRIMARY KEY "
                    "NONCLUSTERED (id)")
        enable_table(cur, "kc")
        cur.execute("INSERT INTO dbo.kc VALUES (1, 10, 100)")
        scan(cur)
        lo2 = max_lsn(cur)
        cur.execute("UPDATE dbo.kc SET u = 101 WHERE id = 1")
        cur.execute("UPDATE dbo.kc SET id = 2 WHERE id = 1")
        scan(cur)
        expect("clustered key unchanged: update pairs, the second one's "
               "primary key changing", [(x[1], x[2], x[3]) for x in
                                        key_changes(cur, "dbo_kc", lo2)],
               [(3, 1, 10), (4, 1, 10), (3, 1, 10), (4, 2, 10)])
        expect("net changes of a key update: 1 for the old key, 2 for "
               "the new", sorted((x[3], x[1]) for x in net_changes(
                   cur, "dbo_kh", inc(cur, lo), max_lsn(cur))),
               [(1, 1), (2, 1), (11, 2), (12, 2)])


# 2.5 error 313, 229


def test_errors_313_229():
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.e (id int PRIMARY KEY, v int)")
        enable_table(cur, "e")
        cur.execute("INSERT INTO dbo.e VALUES (1, 1)")
        scan(cur)
        lo, hi = min_lsn(cur, "dbo_e"), max_lsn(cur)
        text = ("An insufficient number of arguments were supplied for "
                "the procedure or function cdc.fn_cdc_get_all_changes_ "
                "... .")
        for name, a, b, o in (
                ("NULL low end", None, hi, "all"),
                ("NULL high end", lo, None, "all"),
                ("low end below the instance's start_lsn",
                 q1(cur, "SELECT sys.fn_cdc_decrement_lsn(%s)", (lo,))[0],
                 hi, "all"),
                ("high end above max LSN", lo, inc(cur, hi), "all"),
                ("bad row filter", lo, hi, "everything")):
            try:
                all_changes(cur, "dbo_e", a, b, o)
                check("313 for " + name, False, "no error")
            except pytds.Error as e:
                check("313 for " + name + ", exact text, state 3",
                      e.msg_no == 313 and str(e) == text and
                      getattr(e, "state", 3) == 3 and
                      getattr(e, "severity", 16) == 16,
                      (e.msg_no, str(e)))
        try:
            net_changes(cur, "dbo_e", None, hi)
            check("313 for net changes", False, "no error")
        except pytds.Error as e:
            expect("313 for net changes: net text", str(e),
                   text.replace("get_all_", "get_net_"))
        r = rows(cur, "SELECT * FROM cdc.dbo_e_CT")
        expect("direct reads of the change table do not validate", len(r),
               1)
        expect("empty in-range window: no rows, no error",
               all_changes(cur, "dbo_e", hi, hi, "all update old")[-1:][0][2]
               if all_changes(cur, "dbo_e", hi, hi) else None, 2)
        if REAL:
            return
        db = q1(cur, "SELECT db_name()")[0]
        cur.execute("CREATE TABLE dbo.g (id int PRIMARY KEY)")
        cur.execute("EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', "
                    "@source_name = N'g', @role_name = N'cdc_reader'")
        cur.execute("INSERT INTO dbo.g VALUES (1)")
        scan(cur)
        cur.execute("CREATE LOGIN cdc_u%d WITH PASSWORD = 'Pw_cdc_u1!'" %
                    os.getpid())
        cur.execute("CREATE USER cdc_u FOR LOGIN cdc_u%d" % os.getpid())
        cur.execute("GRANT SELECT TO cdc_u")
        with connect(user="cdc_u%d" % os.getpid(), password="Pw_cdc_u1!",
                     database=db) as c2:
            cur2 = c2.cursor()
            try:
                rows(cur2, "SELECT * FROM cdc.fn_cdc_get_all_changes_dbo_g("
                     "sys.fn_cdc_get_min_lsn('dbo_g'), "
                     "sys.fn_cdc_get_max_lsn(), N'all')")
                check("229 outside the gating role", False, "no error")
            except pytds.Error as e:
                expect("229 outside the gating role, exact text",
                       (e.msg_no, str(e)),
                       (229, "The SELECT permission was denied on the "
                        "object 'fn_cdc_get_all_changes_...', database "
                        "'%s', schema 'cdc'." % db))
            expect("fn_cdc_get_min_lsn outside the gating role: zeros",
                   q1(cur2, "SELECT sys.fn_cdc_get_min_lsn('dbo_g')")[0],
                   b"\x00" * 10)
            expect("sp_cdc_enable_table by a non-owner: 22904",
                   errno_of(cur2, "EXEC sys.sp_cdc_enable_table "
                            "@source_schema = N'dbo', @source_name = N'e', "
                            "@role_name = NULL, @capture_instance = N'e2'"),
                   22904)
            expect("sp_cdc_disable_db by a non-sysadmin: 22902",
                   errno_of(cur2, "EXEC sys.sp_cdc_disable_db"), 22902)
            cur.execute("ALTER ROLE cdc_reader ADD MEMBER cdc_u")
            r = rows(cur2, "SELECT * FROM cdc.fn_cdc_get_all_changes_"
                     "dbo_g(sys.fn_cdc_get_min_lsn('dbo_g'), "
                     "sys.fn_cdc_get_max_lsn(), N'all')")
            expect("member of the gating role reads changes", len(r), 1)


# 2.4 LSN functions


def test_lsn_functions():
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        expect("fn_cdc_get_min_lsn of an unknown instance: 10 zero bytes",
               min_lsn(cur, "nope"), b"\x00" * 10)
        expect("fn_cdc_increment_lsn",
               inc(cur, bytes.fromhex("0000002d000005900005")),
               bytes.fromhex("0000002d000005900006"))
        expect("fn_cdc_increment_lsn carries",
               inc(cur, bytes.fromhex("0000002d00000590ffff")),
               bytes.fromhex("0000002d000005910000"))
        expect("fn_cdc_decrement_lsn",
               q1(cur, "SELECT sys.fn_cdc_decrement_lsn(%s)",
                  (bytes.fromhex("0000002d000005910000"),))[0],
               bytes.fromhex("0000002d00000590ffff"))
        cur.execute("CREATE TABLE dbo.m (id int PRIMARY KEY)")
        enable_table(cur, "m")
        for i in range(3):
            cur.execute("INSERT INTO dbo.m VALUES (%d)" % i)
            time.sleep(0.02)
        scan(cur)
        mp = rows(cur, "SELECT start_lsn, tran_end_time FROM "
                  "cdc.lsn_time_mapping WHERE tran_id <> 0x00 ORDER BY "
                  "start_lsn")
        expect("three transactions mapped", len(mp), 3)
        check("LSNs and times grow together",
              [x[1] for x in mp] == sorted(x[1] for x in mp), mp)
        t1 = mp[1][1]
        rel = {}
        for r in ("largest less than", "largest less than or equal",
                  "smallest greater than", "smallest greater than or equal"):
            rel[r] = q1(cur, "SELECT sys.fn_cdc_map_time_to_lsn(%s, %s)",
                        (r, t1))[0]
        expect("map_time_to_lsn 'largest less than or equal'",
               rel["largest less than or equal"], mp[1][0])
        expect("map_time_to_lsn 'smallest greater than or equal'",
               rel["smallest greater than or equal"], mp[1][0])
        check("map_time_to_lsn 'largest less than' is before",
              rel["largest less than"] is not None and
              rel["largest less than"] < mp[1][0], rel)
        check("map_time_to_lsn 'smallest greater than' is after",
              rel["smallest greater than"] is not None and
              rel["smallest greater than"] > mp[1][0], rel)
        expect("map_lsn_to_time", q1(cur, "SELECT "
                                     "sys.fn_cdc_map_lsn_to_time(%s)",
                                     (mp[2][0],))[0], mp[2][1])
        expect("max LSN = newest lsn_time_mapping row", max_lsn(cur),
               q1(cur, "SELECT max(start_lsn) FROM cdc.lsn_time_mapping")[0])
        # NULL before the first scan (a job that does not run by itself).
        with connect(SLOW_PORT) as c2:
            cur2 = c2.cursor()
            fresh_db(cur2)
            cur2.execute("CREATE TABLE dbo.z (id int PRIMARY KEY)")
            enable_table(cur2, "z")
            if not REAL:
                expect("fn_cdc_get_max_lsn NULL before the first scan",
                       max_lsn(cur2), None)
            cur2.execute("INSERT INTO dbo.z VALUES (1)")
            check("a change is not visible before a scan",
                  REAL or q1(cur2, "SELECT count(*) FROM cdc.dbo_z_CT")[0]
                  == 0)
            scan(cur2)
            expect("visible after sys.sp_cdc_scan",
                   q1(cur2, "SELECT count(*) FROM cdc.dbo_z_CT")[0], 1)
            check("start_lsn below the first change",
                  min_lsn(cur2, "dbo_z") < max_lsn(cur2))
            # tran_end_time is the commit's time (local, like GETDATE()),
            # not the time the capture job scanned it: what a reader
            # such as Debezium reports as the change's commit time.
            t0 = q1(cur2, "SELECT GETDATE()")[0]
            cur2.execute("INSERT INTO dbo.z VALUES (2)")
            t1 = q1(cur2, "SELECT GETDATE()")[0]
            time.sleep(1.5)
            scan(cur2)
            end = q1(cur2, "SELECT sys.fn_cdc_map_lsn_to_time(__$start_lsn) "
                     "FROM cdc.dbo_z_CT WHERE id = 2")[0]
            tick = datetime.timedelta(milliseconds=10)
            check("map_lsn_to_time of a change: its commit time, not the "
                  "scan's", end is not None and t0 - tick <= end <= t1 + tick,
                  (t0, end, t1))
            expect("map_lsn_to_time = lsn_time_mapping.tran_end_time", end,
                   q1(cur2, "SELECT m.tran_end_time FROM "
                      "cdc.lsn_time_mapping m JOIN cdc.dbo_z_CT c ON "
                      "c.__$start_lsn = m.start_lsn WHERE c.id = 2")[0])


def test_capture_job():
    """Changes appear after a polling interval without sp_cdc_scan."""
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        time.sleep(POLL_MS / 1000.0 * 3)
        if not REAL:
            expect("no capture job (no lsn_time_mapping row) before the "
                   "first table", max_lsn(cur), None)
        cur.execute("CREATE TABLE dbo.j (id int PRIMARY KEY)")
        enable_table(cur, "j")
        cur.execute("INSERT INTO dbo.j VALUES (1)")
        deadline = time.time() + POLL_MS / 1000.0 * 10 + 5
        n = 0
        while time.time() < deadline:
            n = q1(cur, "SELECT count(*) FROM cdc.dbo_j_CT")[0]
            if n:
                break
            time.sleep(0.05)
        expect("capture job picks the change up by itself", n, 1)
        s = rows(cur, "SELECT session_id, end_time, tran_count FROM "
                 "sys.dm_cdc_log_scan_sessions WHERE scan_phase = 'Done' "
                 "ORDER BY session_id DESC OFFSET 0 ROWS FETCH FIRST 1 ROW "
                 "ONLY")
        check("Estuary's dm_cdc_log_scan_sessions query",
              len(s) == 1 and s[0][2] >= 1, s)
        if REAL:
            return
        cur.execute("EXEC sim.advance_clock @seconds = 120")
        scan(cur)
        d = q1(cur, "SELECT count(*) FROM cdc.lsn_time_mapping WHERE "
               "tran_id = 0x00")[0]
        check("idle period: dummy lsn_time_mapping row with tran_id 0x00",
              d >= 1, d)
        expect("Debezium's max LSN ignores dummy rows",
               q1(cur, "SELECT MAX(start_lsn) FROM cdc.lsn_time_mapping "
                  "WHERE tran_id <> 0x00")[0],
               q1(cur, "SELECT __$start_lsn FROM cdc.dbo_j_CT")[0])


# 2.6 retention and cleanup


def test_retention():
    if REAL:
        return
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.rt (id int PRIMARY KEY)")
        enable_table(cur, "rt")
        cur.execute("INSERT INTO dbo.rt VALUES (1)")
        cur.execute("INSERT INTO dbo.rt VALUES (2)")
        scan(cur)
        old_min = min_lsn(cur, "dbo_rt")
        first = q1(cur, "SELECT min(__$start_lsn) FROM cdc.dbo_rt_CT")[0]
        time.sleep(POLL_MS / 1000.0 * 3)
        expect("within retention the minimum LSN stays",
               min_lsn(cur, "dbo_rt"), old_min)
        cur.execute("EXEC sys.sp_cdc_change_job @job_type = N'cleanup', "
                    "@retention = 4320")
        expect("sp_cdc_change_job @retention: msdb.dbo.cdc_jobs",
               q1(cur, "SELECT retention FROM msdb.dbo.cdc_jobs WHERE "
                  "database_id = db_id() AND job_type = 'cleanup'")[0],
               4320)
        expect("sp_cdc_change_job @retention = 0: 22994",
               errno_of(cur, "EXEC sys.sp_cdc_change_job @job_type = "
                        "N'cleanup', @retention = 0"), 22994)
        cur.execute("EXEC sim.advance_clock @seconds = %d" % (4321 * 60))
        cur.execute("INSERT INTO dbo.rt VALUES (3)")
        deadline = time.time() + 10
        while time.time() < deadline and min_lsn(cur, "dbo_rt") == old_min:
            time.sleep(0.05)
        new_min = min_lsn(cur, "dbo_rt")
        check("past 4320 minutes the cleanup raises the minimum LSN",
              new_min > old_min, (old_min, new_min))
        expect("cleaned change rows are gone",
               q1(cur, "SELECT count(*) FROM cdc.dbo_rt_CT WHERE "
                  "__$start_lsn < %s", (new_min,))[0], 0)
        e = err(lambda: all_changes(cur, "dbo_rt", first, max_lsn(cur)))
        check("an old cursor below the new minimum gets 313",
              e is not None and e[0] == 313, e)
        r = all_changes(cur, "dbo_rt", new_min, max_lsn(cur))
        check("changes after the low-water mark remain readable",
              3 in [x[4] for x in r], r)


def test_manual_cleanup():
    with connect(SLOW_PORT) as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.cl (id int PRIMARY KEY)")
        enable_table(cur, "cl")
        for i in range(3):
            cur.execute("INSERT INTO dbo.cl VALUES (%d)" % i)
            time.sleep(0.02)
        scan(cur)
        m = [x[0] for x in rows(cur, "SELECT start_lsn FROM "
                                "cdc.lsn_time_mapping WHERE tran_id <> 0x00 "
                                "ORDER BY start_lsn")]
        expect("three mapped transactions", len(m), 3)

        def clean(lwm, ci="dbo_cl"):
            return errno_of(cur, "EXEC sys.sp_cdc_cleanup_change_table "
                            "@capture_instance = %s, @low_water_mark = %s, "
                            "@threshold = 5000", (ci, lwm))
        expect("cleanup: unknown capture instance: 22920",
               clean(m[1], "nope"), 22920)
        expect("cleanup: low-water mark not in lsn_time_mapping: 22964",
               clean(inc(cur, m[1])), 22964)
        expect("cleanup to the second transaction", clean(m[1]), None)
        expect("cleanup raises fn_cdc_get_min_lsn", min_lsn(cur, "dbo_cl"),
               m[1])
        expect("cleanup deletes the change rows below it",
               [x[0] for x in rows(cur, "SELECT id FROM cdc.dbo_cl_CT ORDER "
                                   "BY id")], [1, 2])
        expect("cleanup below the current low end: 22957", clean(m[0]),
               22957)
        expect("cleanup with a NULL low-water mark keeps it",
               (clean(None), min_lsn(cur, "dbo_cl")), (None, m[1]))


# 2.9 DDL, two capture instances


def test_ddl_two_instances():
    with connect() as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.d (id int PRIMARY KEY, a int, b int)")
        enable_table(cur, "d", capture_instance="d_v1")
        cur.execute("INSERT INTO dbo.d VALUES (1, 1, 1)")
        cur.execute("ALTER TABLE dbo.d ADD c int NULL")
        h = rows(cur, "SELECT source_object_id, ddl_command FROM "
                 "cdc.ddl_history")
        check("ALTER TABLE ADD recorded in cdc.ddl_history",
              len(h) == 1 and h[0][0] == q1(cur, "SELECT "
                                            "OBJECT_ID('dbo.d')")[0] and
              "ADD" in h[0][1].upper(), h)
        cur.execute("INSERT INTO dbo.d VALUES (2, 2, 2, 2)")
        enable_table(cur, "d", capture_instance="d_v2")
        cur.execute("INSERT INTO dbo.d VALUES (3, 3, 3, 3)")
        scan(cur)
        r1 = rows(cur, "SELECT * FROM cdc.d_v1_CT ORDER BY __$start_lsn")
        names1 = [d[0] for d in cur.description]
        expect("old instance keeps its shape (new column ignored)",
               "c" in names1, False)
        expect("old instance captures every change", [x[5] for x in r1],
               [1, 2, 3])
        r2 = rows(cur, "SELECT id, c, __$start_lsn FROM cdc.d_v2_CT")
        expect("new instance captures the new column, only changes after "
               "its start", [(x[0], x[1]) for x in r2], [(3, 3)])
        expect("both instances capture the same change at the same LSN",
               r2[0][2], r1[2][0])
        check("hand-over: new instance's start_lsn is within the old one's "
              "range", min_lsn(cur, "d_v2") > min_lsn(cur, "d_v1"))
        cur.execute("ALTER TABLE dbo.d ALTER COLUMN a bigint NULL")
        expect("type change propagates to both change tables",
               rows(cur, "SELECT t.name FROM sys.columns c JOIN sys.types t "
                    "ON t.user_type_id = c.user_type_id WHERE c.name = 'a' "
                    "AND c.object_id IN (OBJECT_ID('cdc.d_v1_CT'), "
                    "OBJECT_ID('cdc.d_v2_CT'))"), [("bigint",), ("bigint",)])
        expect("type change: required_column_update in cdc.ddl_history",
               q1(cur, "SELECT count(*) FROM cdc.ddl_history WHERE "
                  "required_column_update = 1")[0], 2)
        expect("type change: cdc.captured_columns.column_type",
               q1(cur, "SELECT count(*) FROM cdc.captured_columns WHERE "
                  "column_name = 'a' AND column_type = 'bigint'")[0], 2)
        cur.execute("ALTER TABLE dbo.d DROP COLUMN b")
        cur.execute("INSERT INTO dbo.d VALUES (4, 4, 4)")
        scan(cur)
        expect("dropped captured column becomes NULL",
               q1(cur, "SELECT a, b FROM cdc.d_v1_CT WHERE id = 4"),
               (4, None))
        expect("DDL events recorded per instance",
               q1(cur, "SELECT count(*) FROM cdc.ddl_history")[0], 5)
        h = rows(cur, "EXEC sys.sp_cdc_get_ddl_history @capture_instance = "
                 "N'd_v2'")
        expect("sp_cdc_get_ddl_history: the new instance's two events",
               [(x[0], x[1], x[2], x[3]) for x in h],
               [("dbo", "d", "d_v2", True), ("dbo", "d", "d_v2", False)])
        cur.execute("EXEC sys.sp_cdc_disable_table @source_schema = N'dbo', "
                    "@source_name = N'd', @capture_instance = N'd_v1'")
        cur.execute("INSERT INTO dbo.d VALUES (5, 5, 5)")
        scan(cur)
        expect("after dropping the old instance the new one goes on",
               q1(cur, "SELECT count(*) FROM cdc.d_v2_CT WHERE id = 5")[0],
               1)
        e = err(lambda: cur.execute("TRUNCATE TABLE dbo.d"))
        check("TRUNCATE TABLE of a captured table: 4711",
              e is not None and e[0] == 4711 and "Change Data Capture" in
              e[1], e)
        cur.execute("DROP TABLE dbo.d")
        expect("DROP TABLE drops its capture instances",
               (q1(cur, "SELECT count(*) FROM cdc.change_tables")[0],
                errno_of(cur, "SELECT * FROM cdc.d_v2_CT")), (0, 208))


# 2.10 connector traffic


def test_connectors():
    with connect() as c:
        cur = c.cursor()
        db = fresh_db(cur, enable=False)
        expect("Estuary: is_cdc_enabled by name",
               q1(cur, "SELECT is_cdc_enabled FROM sys.databases WHERE "
                  "name = %s", (db,))[0], False)
        cur.execute("EXEC sys.sp_cdc_enable_db")
        cur.execute("CREATE TABLE dbo.x (id int PRIMARY KEY, a "
                    "nvarchar(10))")
        cur.execute("EXEC sys.sp_cdc_enable_table @source_schema = %s, "
                    "@source_name = %s, @role_name = %s, @capture_instance "
                    "= %s", ("dbo", "x", None, "dbo_x_1A2B3C4D_1700000000"))
        expect("Estuary: parameterised sp_cdc_enable_table",
               q1(cur, "SELECT count(*) FROM cdc.change_tables WHERE "
                  "capture_instance = 'dbo_x_1A2B3C4D_1700000000'")[0], 1)
        ci = "dbo_x_1A2B3C4D_1700000000"
        cur.execute("INSERT INTO dbo.x VALUES (1, N'a')")
        cur.execute("UPDATE dbo.x SET a = N'b' WHERE id = 1")
        scan(cur)
        frm = q1(cur, "SELECT %s.sys.fn_cdc_get_min_lsn(%%s)" % db, (ci,))[0]
        to = q1(cur, "SELECT %s.sys.fn_cdc_get_max_lsn()" % db)[0]
        expect("Debezium: MAX(start_lsn) WHERE tran_id <> 0x00",
               q1(cur, "SELECT MAX(start_lsn) FROM %s.cdc.lsn_time_mapping "
                  "WHERE tran_id <> 0x00" % db)[0], to)
        r = rows(cur, "SELECT [__$start_lsn], [__$seqval], [__$operation], "
                 "[__$update_mask], [id], [a], "
                 "TODATETIMEOFFSET(%s.sys.fn_cdc_map_lsn_to_time("
                 "[__$start_lsn]), DATEPART(TZOFFSET, SYSDATETIMEOFFSET())) "
                 "FROM %s.cdc.fn_cdc_get_all_changes_%s(%%s, %%s, N'all "
                 "update old') ORDER BY [__$start_lsn], [__$seqval], "
                 "[__$operation]" % (db, db, ci), (frm, to))
        expect("Debezium: all changes query", [(x[2], x[5]) for x in r],
               [(2, "a"), (3, "a"), (4, "b")])
        check("Debezium: commit time as datetimeoffset",
              r[0][6] is not None and r[0][6].tzinfo is not None, r[0][6])
        nxt = q1(cur, "SELECT %s.sys.fn_cdc_increment_lsn(%%s)" % db,
                 (to,))[0]
        check("Debezium: from = increment(last to) > to", nxt > to)
        cur.callproc("sys.sp_cdc_help_jobs")
        expect("Debezium: {call sys.sp_cdc_help_jobs}",
               len(cur.fetchall()), 2)
        expect("cdc.change_tables / captured_columns join",
               rows(cur, "SELECT ct.capture_instance, cc.column_name FROM "
                    "cdc.change_tables ct JOIN cdc.captured_columns cc ON "
                    "cc.object_id = ct.object_id ORDER BY "
                    "cc.column_ordinal"),
               [(ci, "id"), (ci, "a")])


def test_scan_limits():
    """A scan cycle moves at most maxscans x maxtrans transactions."""
    if REAL:
        return
    with connect(SLOW_PORT) as c:
        cur = c.cursor()
        fresh_db(cur)
        cur.execute("CREATE TABLE dbo.sl (id int PRIMARY KEY)")
        enable_table(cur, "sl")
        cur.execute("SET NOCOUNT ON; DECLARE @i int = 0; WHILE @i < 50 "
                    "BEGIN INSERT INTO dbo.sl VALUES (@i); SET @i = @i + 1; "
                    "END")
        cur.execute("EXEC sys.sp_cdc_scan @maxtrans = 10, @maxscans = 2")
        expect("sp_cdc_scan @maxtrans = 10, @maxscans = 2: 20 "
               "transactions", q1(cur, "SELECT count(*) FROM "
                                  "cdc.dbo_sl_CT")[0], 20)
        expect("one scan session per scan",
               q1(cur, "SELECT count(*), sum(tran_count) FROM "
                  "sys.dm_cdc_log_scan_sessions"), (2, 20))
        cur.execute("EXEC sys.sp_cdc_scan")
        expect("a default cycle catches up", q1(cur, "SELECT count(*) FROM "
                                                "cdc.dbo_sl_CT")[0], 50)
        expect("@maxtrans = 0: 22991",
               errno_of(cur, "EXEC sys.sp_cdc_scan @maxtrans = 0"), 22991)
        expect("@maxscans = 0: 22970",
               errno_of(cur, "EXEC sys.sp_cdc_scan @maxscans = 0"), 22970)


# Concurrent writers: LSN order is commit order.


def test_concurrent_writers():
    with connect() as c:
        cur = c.cursor()
        db = fresh_db(cur)
        cur.execute("CREATE TABLE dbo.cw (id int PRIMARY KEY, th int, "
                    "seq int)")
        enable_table(cur, "cw")
        errors = []

        def writer(k):
            try:
                with connect(database=db) as c2:
                    cur2 = c2.cursor()
                    for i in range(40):
                        cur2.execute("INSERT INTO dbo.cw VALUES (%d, %d, "
                                     "%d)" % (k * 1000 + i, k, i))
            except Exception as e:
                errors.append(e)
        ts = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        expect("concurrent writers: no errors", errors, [])
        scan(cur)
        r = rows(cur, "SELECT __$start_lsn, th, seq FROM cdc.dbo_cw_CT "
                 "ORDER BY __$start_lsn")
        expect("every commit captured", len(r), 160)
        expect("one distinct LSN per transaction", len({x[0] for x in r}),
               160)
        ok = all([x[2] for x in r if x[1] == k] == list(range(40))
                 for k in range(4))
        check("LSN order agrees with each writer's commit order", ok)
        expect("lsn_time_mapping: one row per transaction",
               q1(cur, "SELECT count(*) FROM cdc.lsn_time_mapping WHERE "
                  "tran_id <> 0x00")[0], 160)


run("enable_db", test_enable_db)
run("enable_table errors", test_enable_table_errors)
run("enable_table", test_enable_table)
run("change table shape", test_change_table_shape)
run("rows and masks", test_rows_and_masks)
run("lobs", test_lobs)
run("net changes", test_net_changes)
run("key updates", test_key_updates)
run("errors 313 and 229", test_errors_313_229)
run("lsn functions", test_lsn_functions)
run("capture job", test_capture_job)
run("retention", test_retention)
run("manual cleanup", test_manual_cleanup)
run("ddl and two instances", test_ddl_two_instances)
run("connectors", test_connectors)
run("scan limits", test_scan_limits)
run("concurrent writers", test_concurrent_writers)
simtest.finish()
