/*
 * sim.h: mssqlsim, a stand-in for Microsoft SQL Server used by the tests
 * and benchmarks of mssql-capture.  It must behave like SQL Server as
 * ../shared/SQLSERVER.md documents it, not like our daemon expects.
 *
 * Shape (one section per file below):
 *
 *   main.c    options, listener, one thread per client connection
 *   tds.c     TDS 7.4 framing, PRELOGIN and TLS, LOGIN7, the request
 *             loop (SQLBatch, RPC, Transaction Manager, Attention, Bulk)
 *             and the token writers; implements struct sim_sink
 *   types.c   SQL Server types: declared types, the canonical stored
 *             form of every value, conversions with SQL Server's errors,
 *             the SQLite collations, and the TDS value codec
 *   util.c    growable byte buffers, UTF-8 <-> UCS-2
 *   engine.c and the files it names: T-SQL on an SQLite store
 *
 * Storage.  One SQLite file per SQL Server database in the data
 * directory (<dir>/<name>.db, master always exists), WAL mode.  A table
 * schema.table is the SQLite table "schema.table".  Every value is kept
 * in its canonical stored form (below), so that SQLite's comparisons,
 * with the collations of types.c, order values as SQL Server does and
 * no value ever passes through a lossy conversion.
 *
 * Canonical stored forms (struct simval / sqlite3_value):
 *   tinyint smallint int bigint bit   INTEGER
 *   real float                         REAL (real rounded to float)
 *   decimal(p,s) numeric(p,s)          TEXT "-123.4500": sign only if
 *                                      negative, no leading zeros ("0.5"),
 *                                      exactly s fraction digits; COLLATE
 *                                      SIMDEC (numeric order)
 *   money smallmoney                   TEXT as decimal with s = 4; SIMDEC
 *   date                               TEXT "YYYY-MM-DD"
 *   time(n)                            TEXT "HH:MM:SS[.n digits]"
 *   datetime2(n)                       TEXT "YYYY-MM-DD HH:MM:SS[.n digits]"
 *   datetime                           TEXT "YYYY-MM-DD HH:MM:SS.fff",
 *                                      fff rounded to 1/300 s
 *                                      (.000 .003 .007 .010 ...)
 *   smalldatetime                      TEXT "YYYY-MM-DD HH:MM:00"
 *   datetimeoffset(n)                  TEXT "YYYY-MM-DD HH:MM:SS[.n] +hh:mm"
 *                                      (local time and offset, as SQL
 *                                      Server prints it); COLLATE SIMDTO
 *                                      (orders by the UTC instant)
 *   char varchar nchar nvarchar text   TEXT UTF-8; char(n)/nchar(n)
 *   ntext xml                          padded with spaces to n; varchar
 *                                      holds only what code page 1252
 *                                      can (others become '?'); COLLATE
 *                                      SIMCI (SQL_Latin1_General_CP1_CI_AS:
 *                                      case-insensitive, trailing spaces
 *                                      ignored)
 *   binary varbinary image timestamp   BLOB; binary(n) zero-padded to n;
 *                                      rowversion 8 bytes big-endian
 *   uniqueidentifier                   TEXT "6F9619FF-8B86-D011-B42D-00C04FC964FF"
 *                                      upper case; COLLATE SIMGUID (SQL
 *                                      Server order: bytes 10-15, 8-9,
 *                                      6-7, 4-5, 0-3)
 *
 * Errors travel as struct sim_error.  Inside SQLite (functions registered
 * by types.c and engine.c) an error is raised with sqlite3_result_error()
 * and the text "SIMERR <number> <class> <state> <message>", which
 * sim_error_from_sqlite() turns back into a struct sim_error.
 */

#ifndef SIM_H
#define SIM_H

#include <sys/types.h>
#include <sys/time.h>

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* SQL Server system_type_id values (sys.types). */
enum simtype_id {
	SIMT_IMAGE = 34,
	SIMT_TEXT = 35,
	SIMT_UNIQUEIDENTIFIER = 36,
	SIMT_DATE = 40,
	SIMT_TIME = 41,
	SIMT_DATETIME2 = 42,
	SIMT_DATETIMEOFFSET = 43,
	SIMT_TINYINT = 48,
	SIMT_SMALLINT = 52,
	SIMT_INT = 56,
	SIMT_SMALLDATETIME = 58,
	SIMT_REAL = 59,
	SIMT_MONEY = 60,
	SIMT_DATETIME = 61,
	SIMT_FLOAT = 62,
	SIMT_SQL_VARIANT = 98,
	SIMT_NTEXT = 99,
	SIMT_BIT = 104,
	SIMT_DECIMAL = 106,
	SIMT_NUMERIC = 108,
	SIMT_SMALLMONEY = 122,
	SIMT_BIGINT = 127,
	SIMT_VARBINARY = 165,
	SIMT_VARCHAR = 167,
	SIMT_BINARY = 173,
	SIMT_CHAR = 175,
	SIMT_TIMESTAMP = 189,
	SIMT_NVARCHAR = 231,
	SIMT_NCHAR = 239,
	SIMT_XML = 241
};

/* A declared SQL Server type, as sys.columns describes it. */
struct sim_type {
	int id; /* enum simtype_id */
	int maxlen; /* sys.columns.max_length: bytes, -1 = (max) */
	int precision; /* decimal/numeric; 0 otherwise */
	int scale; /* decimal scale; fraction digits of time types */
};

/* An owned value in canonical stored form. */
struct simval {
	int kind; /* SQLITE_NULL, _INTEGER, _FLOAT, _TEXT, _BLOB */
	int64_t i;
	double f;
	unsigned char *p; /* TEXT (NUL-terminated) or BLOB, malloc'd */
	size_t len; /* bytes, without the NUL */
};

/* A SQL Server error or message, as ERROR/INFO tokens carry it. */
struct sim_error {
	int number;
	int class; /* severity; > 10 is an error */
	int state;
	int line;
	char msg[1024];
};

/* Growable byte buffer. */
struct sbuf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

/* A result column as COLMETADATA describes it. */
struct sim_column {
	char name[129]; /* UTF-8 */
	struct sim_type type;
	int nullable;
	int identity;
	int computed;
	int updateable;
};

/* An RPC parameter or a declared variable. */
struct sim_param {
	char name[129]; /* "@p1"; "" when positional */
	struct sim_type type;
	struct simval value;
	int output;
};

/* DONE token kinds and status bits ([MS-TDS] 2.2.7.6). */
#define SIM_DONE 0xFD
#define SIM_DONEPROC 0xFE
#define SIM_DONEINPROC 0xFF
#define SIM_DONE_FINAL 0x000
#define SIM_DONE_MORE 0x001
#define SIM_DONE_ERROR 0x002
#define SIM_DONE_INXACT 0x004
#define SIM_DONE_COUNT 0x010
#define SIM_DONE_ATTN 0x020
#define SIM_DONE_SRVERROR 0x100

/* ENVCHANGE types. */
#define SIM_ENV_DATABASE 1
#define SIM_ENV_LANGUAGE 2
#define SIM_ENV_PACKETSIZE 4
#define SIM_ENV_COLLATION 7
#define SIM_ENV_BEGINTRAN 8
#define SIM_ENV_COMMITTRAN 9
#define SIM_ENV_ROLLBACKTRAN 10
#define SIM_ENV_RESETACK 18

/*
 * How the engine answers: tds.c implements these callbacks by writing
 * tokens.  The engine calls them in the order the tokens must appear.
 * The engine never sets SIM_DONE_MORE: tds.c holds back each DONE until
 * it knows whether another token follows.  Any callback returning -1
 * (client gone, Attention received) makes the engine stop the request,
 * roll back a statement in progress and return.
 */
struct sim_sink {
	void *arg;
	int (*colmetadata)(void *, int, const struct sim_column *);
	int (*row)(void *, int, sqlite3_value **);
	int (*done)(void *, int kind, int status, uint64_t rowcount);
	int (*message)(void *, const struct sim_error *, int is_error);
	int (*envchange_str)(
	    void *, int type, const char *newval, const char *oldval);
	int (*envchange_bin)(void *, int type, const unsigned char *newval,
	    size_t newlen, const unsigned char *oldval, size_t oldlen);
	int (*returnstatus)(void *, int32_t);
	int (*returnvalue)(void *, const struct sim_param *, int ordinal);
	int (*cancelled)(void *); /* 1 when an Attention arrived */
};

/* Server options (main.c fills them from the command line). */
struct sim_options {
	const char *data_dir;
	const char *sa_password;
	const char *users_file; /* "login:password" lines */
	long cdc_polling_interval_ms; /* default 5000 */
	const char *clock_file; /* simulator clock offset */
	const char *server_name; /* for ERROR tokens */
};

struct sim_server;
struct sim_session;

/* util.c */
void sbuf_init(struct sbuf *);
void sbuf_free(struct sbuf *);
void sbuf_reset(struct sbuf *);
void sbuf_reserve(struct sbuf *, size_t);
void sbuf_add(struct sbuf *, const void *, size_t);
void sbuf_u8(struct sbuf *, uint8_t);
void sbuf_u16le(struct sbuf *, uint16_t);
void sbuf_u16be(struct sbuf *, uint16_t);
void sbuf_u32le(struct sbuf *, uint32_t);
void sbuf_u32be(struct sbuf *, uint32_t);
void sbuf_u64le(struct sbuf *, uint64_t);
size_t sbuf_ucs2(struct sbuf *, const char *, size_t);
void sbuf_bvarchar(struct sbuf *, const char *);
void sbuf_usvarchar(struct sbuf *, const char *);
int util_ucs2_to_utf8(const unsigned char *, size_t, char **, size_t *);
size_t util_utf8_to_ucs2_len(const char *, size_t);
uint16_t util_get_u16le(const unsigned char *);
uint32_t util_get_u32le(const unsigned char *);
uint64_t util_get_u64le(const unsigned char *);
uint16_t util_get_u16be(const unsigned char *);
void *util_xmalloc(size_t);
void *util_xrealloc(void *, size_t);
char *util_xstrdup(const char *);
void sim_error_set(struct sim_error *, int, int, int, const char *, ...)
    __attribute__((__format__(__printf__, 5, 6)));
int sim_error_from_sqlite(const char *, struct sim_error *);
void sim_sqlite_error(sqlite3_context *, int, int, int, const char *, ...)
    __attribute__((__format__(__printf__, 5, 6)));
void simval_free(struct simval *);
void simval_from_sqlite(struct simval *, sqlite3_value *);
void simval_bind(sqlite3_stmt *, int, const struct simval *);
uint32_t util_utf8_next(const unsigned char **, const unsigned char *);

/* clock.c */
void clock_init(const char *);
int clock_advance(int64_t);
void clock_now(struct timeval *);
double clock_now_seconds(void);

/* types.c */
int simtype_parse(
    const char *, const int *, int, struct sim_type *, struct sim_error *);
char *simtype_format(const struct sim_type *, char *, size_t);
int simtype_storage(const struct sim_type *);
const char *simtype_collation(const struct sim_type *);
int simtype_is_string(const struct sim_type *);
int simtype_is_unicode(const struct sim_type *);
int simtype_is_binary(const struct sim_type *);
int simtype_is_numeric(const struct sim_type *);
int simtype_is_datetime(const struct sim_type *);
int simtype_is_lob(const struct sim_type *);
int simval_convert(sqlite3_value *, const struct sim_type *,
    const struct sim_type *, int, struct simval *, struct sim_error *);
int simtypes_register(sqlite3 *);
void tdstype_write_info(struct sbuf *, const struct sim_type *);
int tdstype_write_value(struct sbuf *, const struct sim_type *, sqlite3_value *,
    struct sim_error *);
int tdstype_read_info(const unsigned char *, size_t, size_t *,
    struct sim_type *, struct sim_error *);
int tdstype_read_value(const unsigned char *, size_t, size_t *,
    const struct sim_type *, struct simval *, struct sim_error *);

/*
 * types.c additions (types.c, typestr.c).  simval_convert()'s int
 * argument is CONVERT's style (0 = none) or'ed with these flags:
 * SIMCONV_IMPLICIT reports a forbidden conversion as 257 (implicit)
 * instead of 529 (explicit); SIMCONV_ASSIGN makes string/binary
 * truncation an error (8152) instead of CAST's silent truncation
 * (simval_assign() gives SQL Server 2019's 2628 with table and column);
 * SIMCONV_STYLE_GIVEN marks an explicit style 0 (CONVERT(varchar, d, 0)
 * differs from CAST for date/time types).  simtype_parse_text() parses
 * "decimal(10,2)"; with cast set an omitted length is 30, not 1.
 * SQL functions registered by simtypes_register(): sim_cast(v, 'type'
 * [, style[, 'fromtype']]), sim_try_cast(...), sim_assign(v, 'type',
 * 'fromtype' or NULL, 'table', 'column'), sim_compare(a, b, 'type').
 */
#define SIMCONV_STYLE 0x0ffff
#define SIMCONV_IMPLICIT 0x10000
#define SIMCONV_ASSIGN 0x20000
#define SIMCONV_STYLE_GIVEN 0x40000
int simtype_parse_column(
    const char *, const int *, int, int, struct sim_type *, struct sim_error *);
int simtype_parse_text(
    const char *, int, struct sim_type *, struct sim_error *);
const char *simtype_name(const struct sim_type *);
int simtype_decimal_len(int);
int simtype_time_len(int);
int simtype_is_textptr(const struct sim_type *);
int simval_assign(sqlite3_value *, const struct sim_type *,
    const struct sim_type *, const char *, const char *, struct simval *,
    struct sim_error *);
int simval_compare(sqlite3_value *, sqlite3_value *, const struct sim_type *);

/*
 * tdstypes.c additions.  tdstype_write_info()/_value() write what ROW and
 * RETURNVALUE carry: the nullable wire type (INTN, FLTN, ...: what
 * tdstype_wire(t, 1) gives), text/ntext/image values with a text
 * pointer.  tdstype_read_info()/_value() read RPC parameters: the value
 * in the wire form its TYPE_INFO names as long as that is a nullable
 * type, text/ntext/image without a text pointer.  The _wire variants
 * take the wire type byte, or'ed with TDS_WIRE_TEXTPTR for text/ntext/
 * image values that carry a pointer.  Bulk rows need them: take the
 * wire type from tdstype_read_info_wire() on the client's COLMETADATA
 * (fixed-length INT4, DATETIME, ... have no length prefix) and add
 * TDS_WIRE_TEXTPTR for text/ntext/image (FreeTDS's bcp sends pointers).
 * tdstype_write_tablename() writes the TableName that COLMETADATA and
 * RETURNVALUE need after the TYPE_INFO of text, ntext and image.
 */
#define TDS_WIRE_TEXTPTR 0x100
int tdstype_wire(const struct sim_type *, int);
void tdstype_write_info_wire(struct sbuf *, const struct sim_type *, int);
int tdstype_write_value_wire(struct sbuf *, const struct sim_type *, int,
    sqlite3_value *, struct sim_error *);
int tdstype_write_simval(struct sbuf *, const struct sim_type *, int,
    const struct simval *, struct sim_error *);
void tdstype_write_tablename(struct sbuf *, const char *, const char *);
int tdstype_read_info_wire(const unsigned char *, size_t, size_t *,
    struct sim_type *, int *, struct sim_error *);
int tdstype_read_value_wire(const unsigned char *, size_t, size_t *,
    const struct sim_type *, int, struct simval *, struct sim_error *);

/* engine.c */
struct sim_server *engine_open(const struct sim_options *, struct sim_error *);
void engine_close(struct sim_server *);
int engine_login(struct sim_server *, const char *user, const char *password,
    const char *database, const char *appname, struct sim_session **,
    struct sim_error *);
void engine_session_free(struct sim_session *);
int engine_session_reset(struct sim_session *, const struct sim_sink *);
int engine_session_spid(struct sim_session *);
const char *engine_session_database(struct sim_session *);
int engine_exec_batch(
    struct sim_session *, const char *, const struct sim_sink *);
int engine_exec_rpc(struct sim_session *, const char *, struct sim_param *, int,
    const struct sim_sink *);
int engine_tm_begin(struct sim_session *, int, const struct sim_sink *);
int engine_tm_commit(struct sim_session *, int, const struct sim_sink *);
int engine_tm_rollback(struct sim_session *, int, const struct sim_sink *);
int engine_bulk_begin(
    struct sim_session *, const struct sim_column *, int, struct sim_error *);
int engine_bulk_row(
    struct sim_session *, struct simval *, int, struct sim_error *);
int engine_bulk_end(struct sim_session *, const struct sim_sink *);

/* tds.c */
struct sim_tlsctx;
void tds_serve(struct sim_server *, struct sim_tlsctx *, int, const char *);

/* tls.c */
struct sim_tls;
struct sim_tlsctx *tls_ctx_new(const char *, const char *);
void tls_ctx_free(struct sim_tlsctx *);
struct sim_tls *tls_new(struct sim_tlsctx *);
void tls_free(struct sim_tls *);
int tls_handshake(
    struct sim_tls *, const unsigned char *, size_t, struct sbuf *);
ssize_t tls_read(struct sim_tls *, int, void *, size_t);
int tls_write(struct sim_tls *, int, const void *, size_t);
int tls_pending(struct sim_tls *);

#endif /* SIM_H */
