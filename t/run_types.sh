#!/bin/sh
#
# Every SQL Server type of SQLSERVER.md section 5 at its edges, through
# the whole pipeline (server -> worker -> frames -> supervisor -> JSON
# line), compared with the JSON form DESIGN.md section 4 promises:
# integers as numbers, decimal and money as exact strings, float and
# real as shortest round-trip numbers, bit as boolean, strings as UTF-8
# (char padded, '' distinct from NULL, non-BMP kept), binary as base64,
# uniqueidentifier as canonical upper-case text, date, time and
# datetime types in RFC 3339 (datetime rounded to 1/300 s as SQL Server
# stores it), datetimeoffset with its offset.
# Skipped (77) when the server rejects Change Tracking.

. "${top_srcdir:-$(dirname "$0")/..}/t/lib.sh"
. "$top_srcdir/t/run_lib.sh"

sim_start
out=$(sq "ALTER DATABASE $DB SET CHANGE_TRACKING = ON")
case $out in
*Msg*) skip "the server rejects Change Tracking: $(echo "$out" | tr '\n' ' ')" ;;
esac

sq "CREATE TABLE dbo.ty (id int PRIMARY KEY,
    c_tinyint tinyint, c_smallint smallint, c_int int, c_bigint bigint,
    c_bit bit, c_dec38 decimal(38,0), c_dec3838 decimal(38,38),
    c_num numeric(10,4), c_money money, c_smallmoney smallmoney,
    c_float float, c_real real, c_date date, c_time time(7),
    c_datetime datetime, c_smalldatetime smalldatetime,
    c_dt2 datetime2(7), c_dt20 datetime2(0), c_dto datetimeoffset(7),
    c_char char(5), c_varchar varchar(20), c_nvarchar nvarchar(20),
    c_nvmax nvarchar(max), c_binary binary(4), c_varbinary varbinary(max),
    c_guid uniqueidentifier)
ALTER TABLE dbo.ty ENABLE CHANGE_TRACKING" >"$T/ddl.log"
expect "types table created" "$(grep -c -i "Msg\|error" "$T/ddl.log")" 0

sq "INSERT INTO dbo.ty VALUES (1, 255, -32768, -2147483648,
    9223372036854775807, 1, 99999999999999999999999999999999999999,
    0.99999999999999999999999999999999999999, -1.5,
    922337203685477.5807, -214748.3648, 1.7976931348623157e308,
    CAST(0.1 AS real), '0001-01-01', '23:59:59.9999999',
    '9999-12-31 23:59:59.997', '2079-06-06 23:59',
    '9999-12-31 23:59:59.9999999', '2024-02-29 12:34:56',
    '2024-06-01 12:00:00.1234567 +14:00', 'ab', '', N'Zoë 😀',
    REPLICATE(CAST(N'x' AS nvarchar(max)), 9000), 0x01, 0x,
    '6f9619ff-8b86-d011-b42d-00c04fc964ff')
INSERT INTO dbo.ty VALUES (2, 0, 32767, 2147483647,
    -9223372036854775808, 0, -99999999999999999999999999999999999999,
    -0.00000000000000000000000000000000000001, 0,
    -922337203685477.5808, 214748.3647, -2.2250738585072014e-308,
    CAST(-3.4e38 AS real), '9999-12-31', '00:00:00',
    '1998-01-01 23:59:59.999', '1900-01-01 00:00',
    '0001-01-01 00:00:00', '0001-01-01 00:00:00',
    '2024-06-01 00:30:00 -14:00', 'abcde', 'x', N'',
    N'', 0xDEADBEEF, 0x00FF, '00000000-0000-0000-0000-000000000000')
INSERT INTO dbo.ty (id) VALUES (3)
INSERT INTO dbo.ty (id, c_datetime, c_time) VALUES
    (4, '2024-01-01 10:00:00.995', '01:02:03'),
    (5, '2024-01-01 10:00:00.992', NULL),
    (6, '2024-01-01 10:00:00.990', NULL)" >"$T/ins.log"
expect "edge rows inserted" "$(grep -c -i "Msg\|error" "$T/ins.log")" 0

mkcfg ty '[{"namespace": "dbo", "stream": "ty"}]'
runcap 60 ty run --once
expect "run --once exits 0" "$RC" 0

"$PYTHON3" - "$T/ty.jsonl" >"$T/check.out" 2>&1 <<'EOF'
import base64, json, struct, sys
rows = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    rows[d["id"]] = (d, line)
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
want = {
 1: dict(c_tinyint=255, c_smallint=-32768, c_int=-2147483648,
         c_bigint=9223372036854775807, c_bit=True,
         c_dec38="99999999999999999999999999999999999999",
         c_dec3838="0.99999999999999999999999999999999999999",
         c_num="-1.5000", c_money="922337203685477.5807",
         c_smallmoney="-214748.3648", c_float=1.7976931348623157e308,
         c_real=f32(0.1), c_date="0001-01-01", c_time="23:59:59.9999999",
         c_datetime="9999-12-31T23:59:59.997Z",
         c_smalldatetime="2079-06-06T23:59:00Z",
         c_dt2="9999-12-31T23:59:59.9999999Z",
         c_dt20="2024-02-29T12:34:56Z",
         c_dto="2024-06-01T12:00:00.1234567+14:00",
         c_char="ab   ", c_varchar="", c_nvarchar="Zo\u00eb \U0001F600",
         c_nvmax="x" * 9000, c_binary=base64.b64encode(b"\x01\0\0\0").decode(),
         c_varbinary="", c_guid="6F9619FF-8B86-D011-B42D-00C04FC964FF"),
 2: dict(c_tinyint=0, c_smallint=32767, c_int=2147483647,
         c_bigint=-9223372036854775808, c_bit=False,
         c_dec38="-99999999999999999999999999999999999999",
         c_dec3838="-0.00000000000000000000000000000000000001",
         c_num="0.0000", c_money="-922337203685477.5808",
         c_smallmoney="214748.3647", c_float=-2.2250738585072014e-308,
         c_real=f32(-3.4e38), c_date="9999-12-31",
         c_time="00:00:00.0000000",
         c_datetime="1998-01-02T00:00:00.000Z",
         c_smalldatetime="1900-01-01T00:00:00Z",
         c_dt2="0001-01-01T00:00:00.0000000Z", c_dt20="0001-01-01T00:00:00Z",
         c_dto="2024-06-01T00:30:00.0000000-14:00", c_char="abcde",
         c_varchar="x", c_nvarchar="", c_nvmax="",
         c_binary=base64.b64encode(b"\xde\xad\xbe\xef").decode(),
         c_varbinary=base64.b64encode(b"\x00\xff").decode(),
         c_guid="00000000-0000-0000-0000-000000000000"),
 4: dict(c_datetime="2024-01-01T10:00:00.997Z", c_time="01:02:03.0000000"),
 5: dict(c_datetime="2024-01-01T10:00:00.993Z"),
 6: dict(c_datetime="2024-01-01T10:00:00.990Z"),
}
bad = 0
for rid, cols in want.items():
    d, line = rows.get(rid, ({}, ""))
    for k, v in cols.items():
        got = d.get(k, "<absent>")
        if k == "c_real" and isinstance(got, float):
            got = f32(got)  # shortest float32 text reads back as this
        if got != v or type(got) != type(v):
            print("FAIL row %d %s: want %r got %r" % (rid, k, v, got))
            bad += 1
# Row 3: every non-key column NULL, present as JSON null.
d3 = rows.get(3, ({}, ""))[0]
nulls = [k for k in want[1] if d3.get(k, "<absent>") is not None]
if nulls:
    print("FAIL row 3 not null: %r" % nulls); bad += 1
# Shortest round-trip text for real 0.1 (not 0.10000000149011612).
if '"c_real":0.1,' not in rows[1][1]:
    print("FAIL real 0.1 text: %s" % rows[1][1][rows[1][1].find('"c_real"'):][:40]); bad += 1
print("checked %d rows, %d problems" % (len(want) + 1, bad))
sys.exit(1 if bad else 0)
EOF
RC=$?
if [ "$RC" -eq 0 ]; then
	pass "every type at its edges has its JSON form"
else
	fail "every type at its edges has its JSON form" "$(cat "$T/check.out")"
fi

finish
