#!/usr/bin/python3
#
# The TDS details that clients tolerate but SQL Server gets exactly
# right, checked byte by byte with a minimal hand-written client
# ([MS-TDS]; SQLSERVER.md section 4): the PRELOGIN answer (packet type
# 0x04, ENCRYPTION NOT_SUP without a certificate, MARS 0), the order of
# the login tokens (ENVCHANGE database, INFO 5701, ENVCHANGE language,
# INFO 5703, ENVCHANGE collation, LOGINACK 7.4, ENVCHANGE packet size,
# DONE), the session's SPID in every reply header, DONE_MORE on every
# DONE but the last, a request split over many small packets, an
# Attention sent after the reply was complete (answered by DONE_ATTN),
# RESETCONNECTION (acknowledged by ENVCHANGE 18),
# several RPCs in one message, Transaction Manager requests, and the
# tokens of table variables and OUTPUT ... INTO.
# FreeTDS and pytds accept small deviations from all of these; SqlClient
# and our own daemon may not.  MSSQL_TEST_ADDRESS etc. as in the other
# tests.

import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import shutil

PASSED = 0
FAILED = 0
TMP = tempfile.mkdtemp(prefix="sim_tdsraw.")
PROC = None

def on_alarm(*a):
    print("sim_tdsraw: timeout")
    if PROC is not None:
        PROC.terminate()
    os._exit(1)


signal.signal(signal.SIGALRM, on_alarm)
signal.alarm(120)


def check(name, ok, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print("ok: " + name)
    else:
        FAILED += 1
        print("FAIL: " + name)
        if detail:
            print("    " + str(detail)[:500])


def expect(name, got, want):
    check(name, got == want, "expected %r, got %r" % (want, got))


class Conn:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=30)
        self.spids = set()

    def send(self, ptype, payload, size=4096, status=0):
        body = size - 8
        chunks = [payload[i:i + body] for i in range(0, len(payload), body)]
        chunks = chunks or [b""]
        for n, c in enumerate(chunks):
            last = n == len(chunks) - 1
            hdr = struct.pack(">BBHHBB", ptype,
                              (1 if last else 0) | status,
                              len(c) + 8, 0, n + 1, 0)
            self.s.sendall(hdr + c)

    def recvn(self, n):
        b = b""
        while len(b) < n:
            d = self.s.recv(n - len(b))
            if not d:
                raise EOFError("server closed the connection")
            b += d
        return b

    def recv(self):
        """A whole message: (type of first packet, payload)."""
        data, ptype = b"", None
        while True:
            hdr = self.recvn(8)
            t, st, ln, spid = struct.unpack(">BBHH", hdr[:6])
            ptype = t if ptype is None else ptype
            self.spids.add(spid)
            data += self.recvn(ln - 8)
            if st & 1:
                return ptype, data


def ucs2(s):
    return s.encode("utf-16-le")


def prelogin_payload():
    opts = [(0, b"\x0b\x00\x00\x00\x00\x00"), (1, b"\x02"), (2, b"\x00"),
            (3, b"\x00\x00\x00\x00"), (4, b"\x00")]
    off = len(opts) * 5 + 1
    head, data = b"", b""
    for tok, val in opts:
        head += struct.pack(">BHH", tok, off + len(data), len(val))
        data += val
    return head + b"\xff" + data


def parse_prelogin(p):
    opts, i = {}, 0
    while p[i] != 0xFF:
        tok, off, ln = struct.unpack(">BHH", p[i:i + 5])
        opts[tok] = p[off:off + ln]
        i += 5
    return opts


def login7(user, password, database, pktsize=4096):
    def crypt(pw):
        return bytes((((b << 4) & 0xF0) | (b >> 4)) ^ 0xA5 for b in ucs2(pw))
    fields = [ucs2("host"), ucs2(user), crypt(password), ucs2("sim_tdsraw"),
              ucs2("server"), b"", ucs2("raw"), b"", ucs2(database)]
    off = 94
    var, data = b"", b""
    for f in fields:
        var += struct.pack("<HH", off + len(data), len(f) // 2)
        data += f
    var += b"\x00" * 6  # ClientID
    var += struct.pack("<HH", off + len(data), 0)  # SSPI
    var += struct.pack("<HH", off + len(data), 0)  # AtchDBFile
    var += struct.pack("<HH", off + len(data), 0)  # ChangePassword
    var += struct.pack("<I", 0)  # cbSSPILong
    fixed = struct.pack("<IIIIIIBBBBII", 0, 0x74000004, pktsize, 7, 1234, 0,
                        0xE0, 0x03, 0, 0, 0, 0x409)
    body = fixed + var
    assert len(body) == 94
    rec = body + data
    return struct.pack("<I", len(rec)) + rec[4:]


def tokens(p):
    """Split a reply into (token, info) for the token kinds we expect."""
    out, i, cols = [], 0, []
    while i < len(p):
        t = p[i]
        i += 1
        if t in (0xE3, 0xAB, 0xAA, 0xAD):
            ln = struct.unpack("<H", p[i:i + 2])[0]
            body = p[i + 2:i + 2 + ln]
            i += 2 + ln
            if t in (0xAB, 0xAA):
                out.append((t, struct.unpack("<i", body[:4])[0]))
            elif t == 0xE3:
                out.append((t, body[0]))
            else:
                out.append((t, body[1:5].hex()))
        elif t in (0xFD, 0xFE, 0xFF):
            st, cmd, rows = struct.unpack("<HHQ", p[i:i + 12])
            i += 12
            out.append((t, st))
        elif t == 0x79:
            out.append((t, struct.unpack("<i", p[i:i + 4])[0]))
            i += 4
        elif t == 0x81:
            n = struct.unpack("<H", p[i:i + 2])[0]
            i += 2
            cols = []
            for _ in range(n):
                i += 6
                ty = p[i]
                i += 1
                if ty in (0x26, 0x68, 0x6D):
                    cols.append((ty, p[i]))
                    i += 1
                elif ty == 0x38:
                    cols.append((ty, 4))
                else:
                    raise ValueError("type 0x%02x not handled" % ty)
                i += 1 + p[i] * 2
            out.append((t, n))
        elif t in (0xD1, 0xD2):
            vals = []
            nulls = 0
            if t == 0xD2:
                nb = (len(cols) + 7) // 8
                nulls = int.from_bytes(p[i:i + nb], "little")
                i += nb
            for k, (ty, size) in enumerate(cols):
                if nulls & (1 << k):
                    vals.append(None)
                    continue
                if ty != 0x38:
                    size = p[i]
                    i += 1
                vals.append(int.from_bytes(p[i:i + size], "little",
                                           signed=True) if size else None)
                i += size
            out.append((0xD1, tuple(vals)))
        else:
            raise ValueError("token 0x%02x not handled at %d" % (t, i - 1))
    return out


def batch(sql):
    hdr = struct.pack("<IIHQI", 22, 18, 2, 0, 1)
    return hdr + ucs2(sql)


def batch_errors(c):
    """Batch semantics, DONE by DONE ("Batches", learn.microsoft.com
    ms175502 and ms187878): a syntax error anywhere in the batch runs
    none of it (ERROR, then one final DONE_ERROR), here in a SET, a
    PRINT and a DROP, which the compile pass used to stop short of and
    so ran what came before; a missing table is resolved when its
    statement runs: the statements before it run and its 208 ends the
    batch; a duplicate key ends only its statement (DONE_ERROR, then
    the next statement's DONE_COUNT); a conversion error ends the
    batch and rolls the transaction back (ENVCHANGE 10); in
    sp_executesql the statement is a batch of its own."""
    def run(sql):
        c.send(0x01, batch(sql), 8192)
        return tokens(c.recv()[1])

    run("create table be (i int primary key)")
    for stmt in ("set nocount onn", "print 'a' 'b'", "drop table be be2"):
        expect("syntax error in '%s': nothing runs" % stmt,
               run("insert into be values (1); %s; "
                   "insert into be values (2)" % stmt),
               [(0xAA, 102), (0xFD, 0x02)])
    expect("... not even the INSERT before it",
           run("select count(*) from be")[1], (0xD1, (0,)))
    expect("missing table: what precedes runs, 208 ends the batch",
           run("insert into be values (1); select * from nosuch; "
               "insert into be values (2)"),
           [(0xFD, 0x11), (0xAA, 208), (0xFD, 0x02)])
    expect("duplicate key ends only its statement",
           run("insert into be values (1); insert into be values (3)"),
           [(0xAA, 2627), (0xFD, 0x03), (0xFD, 0x10)])
    expect("conversion error in a transaction: batch ends, rolled back",
           run("begin tran; insert into be values (4); "
               "select convert(int, 'x'); select 1"),
           [(0xE3, 8), (0xFD, 0x05), (0xFD, 0x15), (0x81, 1),
            (0xAA, 245), (0xE3, 10), (0xFD, 0x02)])
    expect("... leaving rows 1 and 3",
           run("select count(*), @@trancount from be")[1],
           (0xD1, (2, 0)))
    stmt = ucs2("insert into be values (5); selec 2")
    c.send(0x03, struct.pack("<IIHQI", 22, 18, 2, 0, 1) +
           struct.pack("<HHH", 0xFFFF, 10, 0) + b"\x00\x00\xe7" +
           struct.pack("<H", 8000) + b"\x09\x04\xd0\x00\x34" +
           struct.pack("<H", len(stmt)) + stmt, 8192)
    toks = tokens(c.recv()[1])
    check("sp_executesql with a syntax error: ERROR, DONEPROC with "
          "DONE_ERROR", toks[0] == (0xAA, 102) and toks[-1][0] == 0xFE and
          toks[-1][1] & 0x2, repr(toks))
    expect("... and its INSERT did not run",
           run("select count(*) from be")[1], (0xD1, (2,)))


def colflags(p):
    """The Flags of each column of the first COLMETADATA in a reply
    (INT4 and INTN columns only)."""
    i = p.index(b"\x81") + 1
    n = struct.unpack("<H", p[i:i + 2])[0]
    i += 2
    out = []
    for _ in range(n):
        out.append(struct.unpack("<H", p[i + 4:i + 6])[0])
        i += 6  # UserType, Flags
        i += 1 if p[i] == 0x38 else 2  # INT4, or INTN and its length
        i += 1 + p[i] * 2
    return out


def output_clause(c):
    """The OUTPUT clause ("OUTPUT clause (Transact-SQL)", learn.microsoft
    .com): one result set (COLMETADATA, a ROW per affected row) before
    the statement's own DONE, whose DONE_COUNT is the affected rows; an
    INSERT's identity values are in INSERTED; UPDATE sees DELETED (old)
    and INSERTED (new); a statement touching no row still sends the
    COLMETADATA.  Column flags are the column's: an identity NOT NULL
    column is not nullable (bit 0) and has fIdentity (0x10)."""
    def run(sql):
        c.send(0x01, batch(sql), 8192)
        p = c.recv()[1]
        return tokens(p), p

    run("create table ot (id int identity(1,1) primary key, v int)")
    toks, p = run("insert into ot (v) output inserted.id, inserted.v "
                  "values (7), (8)")
    expect("INSERT OUTPUT: rows, then one DONE_COUNT", toks,
           [(0x81, 2), (0xD1, (1, 7)), (0xD1, (2, 8)), (0xFD, 0x10)])
    expect("... whose count is the rows inserted",
           struct.unpack("<Q", p[-8:])[0], 2)
    expect("... INSERTED.id keeps the identity column's flags",
           [f & 0x11 for f in colflags(p)], [0x10, 0x01])
    toks, p = run("update ot set v = v + 1 output deleted.v, inserted.v "
                  "where id = 2")
    expect("UPDATE OUTPUT: old and new values", toks,
           [(0x81, 2), (0xD1, (8, 9)), (0xFD, 0x10)])
    toks, p = run("delete from ot output deleted.id where id > 5")
    expect("DELETE OUTPUT of no row: COLMETADATA and DONE_COUNT 0",
           (toks, struct.unpack("<Q", p[-8:])[0]),
           ([(0x81, 1), (0xFD, 0x10)], 0))
    toks, p = run("insert into ot (v) output deleted.v values (1); "
                  "select 1")
    expect("DELETED in an INSERT: 4104 when the batch compiles", toks,
           [(0xAA, 4104), (0xFD, 0x02)])


def table_variables(c):
    """Table variables on the wire ("table (Transact-SQL)", "OUTPUT
    clause (Transact-SQL)"): DECLARE @t TABLE sends no token of its own;
    OUTPUT ... INTO @t sends no result set, only the statement's
    DONE_COUNT with the rows it affected; an undeclared @t is 1087, a
    compile error: ERROR and one DONE_ERROR, nothing of the batch run."""
    def run(sql):
        c.send(0x01, batch(sql), 8192)
        p = c.recv()[1]
        return tokens(p), p

    run("create table tvw (id int identity(1,1) primary key, v int)")
    toks, p = run("declare @t table (i int primary key); "
                  "insert into @t values (1), (2)")
    expect("DECLARE @t TABLE: no DONE; INSERT @t: one DONE_COUNT",
           (toks, struct.unpack("<Q", p[-8:])[0]), ([(0xFD, 0x10)], 2))
    toks, p = run("declare @o table (v int); "
                  "insert into tvw (v) output inserted.v into @o "
                  "values (5), (6); select v from @o")
    expect("OUTPUT ... INTO @o: no COLMETADATA, the INSERT's DONE_COUNT",
           toks, [(0xFD, 0x11), (0x81, 1), (0xD1, (5,)), (0xD1, (6,)),
                  (0xFD, 0x10)])
    toks, p = run("insert into tvw (v) values (9); select * from @nope")
    expect("1087: ERROR and DONE_ERROR, nothing ran",
           (toks, run("select count(*) from tvw")[0][1]),
           ([(0xAA, 1087), (0xFD, 0x02)], (0xD1, (2,))))


def main():
    global PROC
    if os.environ.get("MSSQL_TEST_ADDRESS"):
        host, port = os.environ["MSSQL_TEST_ADDRESS"].rsplit(":", 1)
        port = int(port)
        user = os.environ["MSSQL_TEST_USER"]
        pw = os.environ["MSSQL_TEST_PASSWORD"]
        real = True
    else:
        top = os.environ.get("top_builddir",
                             os.path.join(os.path.dirname(__file__), ".."))
        sim = os.environ.get("MSSQLSIM",
                             os.path.join(top, "t", "mssqlsim", "mssqlsim"))
        host, user, pw, real = "127.0.0.1", "sa", "Sim_raw1!", False
        # Under timeout(1), so that it dies even if we are killed.
        PROC = subprocess.Popen(["timeout", "-k", "5", "120", sim,
                                 "--listen", "127.0.0.1:0", "--data", TMP,
                                 "--sa-password", pw],
                                stdout=subprocess.PIPE)
        line = PROC.stdout.readline().decode()
        if not line.startswith("port "):
            print("sim_tdsraw: mssqlsim did not start", file=sys.stderr)
            sys.exit(99)
        port = int(line.split()[1])

    c = Conn(host, port)
    c.send(0x12, prelogin_payload())
    t, p = c.recv()
    expect("PRELOGIN reply is packet type 0x04", t, 4)
    opts = parse_prelogin(p)
    if not real:
        expect("ENCRYPTION NOT_SUP without a certificate", opts.get(1),
               b"\x02")
    expect("MARS option present and 0", opts.get(4), b"\x00")
    check("VERSION option is 6 bytes", len(opts.get(0, b"")) == 6)

    c.send(0x10, login7(user, pw, "master", 8192))
    t, p = c.recv()
    toks = tokens(p)
    kinds = [(k, v) for k, v in toks]
    want = [(0xE3, 1), (0xAB, 5701), (0xE3, 2), (0xAB, 5703), (0xE3, 7),
            (0xAD, "74000004"), (0xE3, 4), (0xFD, 0)]
    expect("login tokens in SQL Server's order", kinds, want)
    spid = max(c.spids)
    check("login reply carries the SPID in its header", spid > 0,
          repr(c.spids))

    c.spids = set()
    c.send(0x01, batch("select 1 select 2, cast(null as int)"), 8192)
    t, p = c.recv()
    toks = tokens(p)
    expect("two results: DONE_MORE on the first DONE only",
           toks, [(0x81, 1), (0xD1, (1,)), (0xFD, 0x11), (0x81, 2),
                  (0xD1, (2, None)), (0xFD, 0x10)])
    expect("replies keep the session SPID", c.spids, {spid})

    long_sql = "select 7" + " " * 20000
    c.send(0x01, batch(long_sql), 512)
    t, p = c.recv()
    expect("a batch in 40 packets of 512 bytes", tokens(p),
           [(0x81, 1), (0xD1, (7,)), (0xFD, 0x10)])

    # SET NOCOUNT ON clears DONE_COUNT until RESETCONNECTION forgets
    # the session's SET options, as sp_reset_connection does.
    c.send(0x01, batch("set nocount on"), 8192)
    c.recv()
    c.send(0x01, batch("select 9"), 8192)
    expect("SET NOCOUNT ON: no DONE_COUNT", tokens(c.recv()[1])[-1],
           (0xFD, 0x00))
    c.send(0x01, batch("select 9"), 8192, status=0x08)
    toks = tokens(c.recv()[1])
    expect("RESETCONNECTION is acknowledged by ENVCHANGE 18 first "
           "and resets SET options",
           toks[:1] + toks[2:], [(0xE3, 18), (0xD1, (9,)), (0xFD, 0x10)])

    c.send(0x06, b"")
    t, p = c.recv()
    expect("Attention after a complete reply: DONE_ATTN", tokens(p),
           [(0xFD, 0x20)])
    c.send(0x01, batch("select 8"), 8192)
    t, p = c.recv()
    expect("then the session goes on", tokens(p)[1], (0xD1, (8,)))

    # Two sp_executesql calls in one RPC message.
    def rpc(sql):
        stmt = ucs2(sql)
        return (struct.pack("<HH", 0xFFFF, 10) + struct.pack("<H", 0) +
                b"\x00\x00" + b"\xe7" + struct.pack("<H", 8000) +
                b"\x09\x04\xd0\x00\x34" + struct.pack("<H", len(stmt)) +
                stmt)
    msg = struct.pack("<IIHQI", 22, 18, 2, 0, 1) + rpc("select 31") + \
        b"\xff" + rpc("select 32")
    c.send(0x03, msg, 8192)
    t, p = c.recv()
    toks = tokens(p)
    rows = [v for k, v in toks if k == 0xD1]
    procs = [v for k, v in toks if k == 0xFE]
    expect("two RPCs in one message: both ran", rows, [(31,), (32,)])
    check("two RPCs: two DONEPROC, MORE on the first only",
          len(procs) == 2 and procs[0] & 1 and not procs[1] & 1, repr(toks))
    check("last token is the final DONEPROC", toks[-1][0] == 0xFE and
          toks[-1][1] & 1 == 0, repr(toks[-1:]))

    # Transaction Manager: begin, commit.
    tm = struct.pack("<IIHQI", 22, 18, 2, 0, 1)
    c.send(0x0E, tm + struct.pack("<HB", 5, 0) + b"\x00", 8192)
    t, p = c.recv()
    toks = tokens(p)
    check("TM begin: ENVCHANGE 8 then a final DONE",
          len(toks) == 2 and toks[0] == (0xE3, 8) and toks[1][0] == 0xFD and
          toks[1][1] & 0x3 == 0, repr(toks))
    c.send(0x01, batch("select @@trancount"), 8192)
    expect("inside the transaction", tokens(c.recv()[1])[1], (0xD1, (1,)))
    c.send(0x0E, tm + struct.pack("<H", 7) + b"\x00\x00", 8192)
    toks = tokens(c.recv()[1])
    check("TM commit: ENVCHANGE 9 then a final DONE",
          len(toks) == 2 and toks[0] == (0xE3, 9) and toks[1][0] == 0xFD and
          toks[1][1] & 0x3 == 0, repr(toks))

    batch_errors(c)
    output_clause(c)
    table_variables(c)
    c.s.close()

    c = Conn(host, port)
    c.send(0x12, prelogin_payload())
    c.recv()
    c.send(0x10, login7(user, "wrong", "master"))
    toks = tokens(c.recv()[1])
    expect("bad password: ERROR 18456 and DONE_ERROR", toks,
           [(0xAA, 18456), (0xFD, 2)])
    try:
        closed = c.s.recv(1) == b""
    except OSError:
        closed = True
    check("connection closed after a failed login", closed)


try:
    main()
except Exception as e:
    import traceback
    traceback.print_exc(file=sys.stdout)
    check("no exception", False, repr(e))
finally:
    if PROC is not None:
        PROC.terminate()
        PROC.wait(10)
    shutil.rmtree(TMP, ignore_errors=True)
print("%d passed, %d failed" % (PASSED, FAILED))
sys.exit(0 if FAILED == 0 and PASSED > 0 else 1)
