/*
 * worker.h: the worker process, which captures one bound table over its
 * own connection to SQL Server and sends frames to the supervisor.
 * One section per file (STYLE.md A2).
 *
 * Nothing here exposes FreeTDS types: db-lib's headers stay inside
 * db.c and dbvalue.c, and db-lib type numbers travel as plain ints.
 */

#ifndef WORKER_H
#define WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* db.c */
#define DB_LOGIN_TIMEOUT 15 /* seconds, default of db_set_timeouts() */
#define DB_QUERY_TIMEOUT 300 /* seconds without a reply from the server */
#define DB_ERROR_TEXT 1024
#define DB_ERROR_NUMBERS 8

/* What the caller should do about a failure. */
enum db_class {
	DB_CLASS_NONE = 0, /* no failure */
	DB_CLASS_RETRYABLE, /* reconnect with backoff and try again */
	DB_CLASS_PERMANENT /* retrying will not help: report it */
};

/*
 * The failure of the last db_open() or command.  number/severity/state/
 * line/text describe the first SQL Server error (severity > 10) of the
 * command, which is the cause where several follow (4060 before 18456);
 * numbers[] lists every server error number in order.  Without a
 * server error, text is db-lib's message (dberr, oserr).
 */
struct db_error {
	int number;
	int severity;
	int state;
	int line;
	char text[DB_ERROR_TEXT];
	int dberr; /* first db-lib error (SYBE*, 20000 and up), 0: none */
	int oserr;
	int numbers[DB_ERROR_NUMBERS];
	int nnumbers;
	enum db_class class;
};

/* A result column; name is db-lib's until the next result set. */
struct db_column {
	const char *name;
	int dbtype; /* db-lib type after db-lib's mapping (SYBINT4, ...) */
	int size; /* dbcollen(): bytes */
	int precision;
	int scale;
	int usertype; /* 80 (0x50) for timestamp */
};

/*
 * A typed parameter of db_exec_params(): a value in the frame encoding
 * of proto.h and the SQL Server type it is declared with, so that the
 * server compares it with a column of the same type (and seeks).
 */
struct db_param {
	uint32_t type_id; /* sys.types system_type_id */
	int precision; /* decimal, numeric */
	int scale; /* decimal, numeric, time, datetime2, datetimeoffset */
	int max_length; /* bytes, -1 for (max): char, binary types */
	struct frame_value value;
};

struct db;

void db_set_timeouts(int, int);
struct db *db_open(const struct config *, struct db_error *);
void db_close(struct db *);
const struct db_error *db_error(const struct db *);
int db_dead(struct db *);
int db_exec(struct db *, const char *);
int db_exec_params(struct db *, const char *, const struct db_param *, size_t);
int db_next_result(struct db *);
int db_next_row(struct db *);
int db_drain(struct db *);
int db_run(struct db *, const char *);
void db_cancel(struct db *);
int db_ncols(const struct db *);
int db_column(struct db *, int, struct db_column *);
int db_value(struct db *, int, struct frame_value *, char *);
enum db_class db_classify(const struct db_error *, int);
const char *db_class_name(enum db_class);
void db_param_set(
    struct db_param *, uint32_t, int, int, int, const struct frame_value *);
void db_param_bigint(struct db_param *, int64_t);
void db_param_nvarchar(struct db_param *, const char *, size_t);
void db_param_binary(struct db_param *, const uint8_t *, size_t);

/* dbvalue.c */
#define DBVALUE_TEXT_MAX 48 /* longest formatted value, with its NUL */
#define DBVALUE_DECL_MAX 40 /* longest type declaration, with its NUL */

/* A parameter value in db-lib's form, ready for dbrpcparam(). */
struct dbvalue_param {
	int dbtype; /* db-lib type to send */
	int datalen; /* dbrpcparam() datalen: -1 fixed, 0 NULL */
	const void *ptr; /* the value: into u or the frame value */
	union {
		int64_t i;
		double f;
		uint8_t b[48]; /* DBDECIMAL, DBDATETIMEALL, GUID, ... */
	} u;
};

int dbvalue_convert(int, const uint8_t *, int, struct frame_value *, char *);
const char *dbvalue_type_name(uint32_t);
int dbvalue_type_decl(char *, size_t, uint32_t, int, int, int);
int dbvalue_param_decl(char *, size_t, const struct db_param *);
int dbvalue_param(
    const struct db_param *, struct dbvalue_param *, char *, size_t);

/*
 * The worker process (worker.c and the files below).  The supervisor
 * starts "mssql-capture -P worker -I <binding id> -c <config>" with fd
 * 3 a Unix socket to it.  The binding id is the 0-based index of the
 * binding in cfg->bindings (config order); it is also the peerid of
 * every frame the worker sends.
 *
 * The cursor (the "cursor" bytes of FRAME_WATERMARK and FRAME_START)
 * belongs to the worker; the supervisor stores it and hands it back:
 *
 *	offset 0	'T' (ct) or 'C' (cdc): the mode it was taken in
 *	offset 1	done position, poslen bytes (16 ct, 21 cdc): every
 *			change at or below it has been captured (ct: version
 *			+ ff*8; cdc: lsn + seqval + op, seqval and op all ff
 *			when the whole LSN is consumed)
 *	+poslen		snapshot rows emitted so far (8, big-endian): the
 *			ordinal of the next snapshot event
 *	+8		flags: WORKER_CURSOR_BACKFILL, WORKER_CURSOR_POS
 */
#define WORKER_FD 3 /* the socket to the supervisor */
#define WORKER_BATCH_EVENTS 1000 /* events per FRAME_EVENTS, at most */
#define WORKER_BATCH_BYTES (1024 * 1024) /* value bytes per frame, about */
#define WORKER_VALUE_MAX (16 * 1024 * 1024) /* oversized_value_strategy */
#define WORKER_BLOCK_SIZE 65536 /* arena block for the batch's values */
#define WORKER_PROGRESS_SECS 5
#define WORKER_BACKOFF_MIN_MS 500
#define WORKER_BACKOFF_MAX_MS 60000
#define WORKER_CURSOR_BACKFILL 0x1 /* a backfill is under way */
#define WORKER_CURSOR_POS 0x2 /* the done position is set */
#define WORKER_FENCE_MAX 10 /* a CT version (8) or an LSN (10) */

struct worker;
struct table;
struct cmd_opts;

/* What the worker must resume from: the state a WATERMARK records. */
struct worker_cursor {
	enum frame_mode mode;
	int flags; /* WORKER_CURSOR_* */
	uint8_t done[FRAME_MAX_POS]; /* done position (ops->poslen bytes) */
	uint64_t seq; /* snapshot rows emitted so far */
	struct frame_values key; /* last backfilled key, owned; n 0: none */
};

/*
 * What differs between Change Tracking and CDC.  A fence is the
 * database's current position (CT version, 8 bytes big-endian; max
 * LSN, 10 bytes): positions are fence + tail.
 */
struct worker_ops {
	enum frame_mode mode;
	char tag; /* first byte of the cursor */
	size_t fencelen;
	size_t poslen;
	/* Read the fence; *lost if the cursor is out of retention.  Sets
	 * w->reload instead when the table must be introspected again
	 * first (the fence is then unset). */
	int (*fence)(struct worker *, uint8_t *, int *);
	/* Emit the changes after the cursor up to the fence (keyed: only
	 * keys at or below the last backfilled key); 1 if the cursor is
	 * out of retention after all. */
	int (*changes)(struct worker *, const uint8_t *, int);
	/* Tail of the position of snapshot row seq. */
	void (*snapshot_tail)(uint64_t, uint8_t *);
};

/* A block of the arena holding the bytes of a batch's values. */
struct worker_block {
	struct worker_block *next;
	size_t size;
	size_t used;
	uint8_t data[];
};

struct worker {
	const struct config *cfg;
	const struct config_binding *binding;
	uint32_t id;
	int fd;
	uint32_t pid;
	struct frame_reader *rd;
	int started; /* FRAME_START received */
	struct frame_start start;
	int stop; /* FRAME_STOP received, or run --once is done */
	int has_stop_pos; /* run --once: stop_pos was read */
	uint8_t stop_pos[FRAME_MAX_POS]; /* ceiling of the fence at start */
	int credit_mode; /* the supervisor grants credit */
	uint64_t credit;
	struct db *db;
	struct table *tbl;
	const struct worker_ops *ops;
	const struct worker_ops *force_ops; /* tests: whatever the table */
	int snapshot; /* SNAPSHOT isolation in use */
	uint8_t from[WORKER_FENCE_MAX]; /* cdc: first LSN of the changes */
	int reload; /* introspect again before reading changes (cdc.c) */
	int again; /* poll again at once: the fence was held back */
	int lost_logged; /* this cursor's retention loss was logged */
	uint8_t top[WORKER_FENCE_MAX]; /* cdc: the fence before that */
	char cdc_read[FRAME_MAX_NAME]; /* cdc: the instance last read */
	int64_t fail_backoff; /* ms, after failed steps */
	int in_tran;
	struct worker_cursor cur;
	/* The last WATERMARK sent: the state a retry restarts from. */
	uint8_t *marked;
	size_t markedlen;
	uint8_t marked_pos[FRAME_MAX_POS];
	size_t marked_poslen;
	/* The batch being built. */
	struct frame_events batch;
	struct worker_block *arena;
	size_t batch_bytes;
	uint8_t last_pos[FRAME_MAX_POS]; /* of the last event added */
	size_t last_poslen;
	int unmarked; /* events sent after the last WATERMARK */
	uint64_t rows_estimate;
	int64_t progress_at; /* ms */
	int64_t polled_at; /* ms, start of the last complete poll */
	/* The failure that ended a step. */
	enum db_class errclass;
	char errmsg[FRAME_MAX_MESSAGE];
};

/* worker.c */
int worker_main(struct cmd_opts *);
int worker_run(
    const struct config *, size_t, uint32_t, int, const struct worker_ops *);
void worker_send(struct worker *, uint8_t *, size_t);
int worker_control(struct worker *, int);
int worker_fail(struct worker *, enum db_class, const char *, ...)
    printflike(3, 4);
int worker_db_fail(struct worker *, const char *);
int worker_begin(struct worker *);
int worker_commit(struct worker *);
int worker_read_fence(struct worker *, uint8_t *);
void worker_rollback(struct worker *);
struct frame_event *worker_event(
    struct worker *, enum frame_op, int, const uint8_t *, const char *);
int worker_value(
    struct worker *, size_t, struct frame_value *, const struct frame_value *);
int worker_flush(struct worker *);
int worker_watermark(struct worker *, const uint8_t *);
int worker_checkpoint_due(const struct worker *);
void worker_set_key(struct worker *, const struct frame_value *, size_t);
void worker_pos(const struct worker *, const uint8_t *, int, uint8_t *);
void worker_set_done(struct worker *, const uint8_t *, int);
void worker_cursor_fresh(struct worker *);
int worker_progress(struct worker *, int);

/* introspect.c */
#define INTROSPECT_INSTANCES_MAX 2 /* capture instances per table */

/*
 * The capture instances of a table with a start LSN, oldest first
 * (start_lsn, then create_date): INTROSPECT_INSTANCES_SELECT and
 * INTROSPECT_INSTANCES_FROM, the table's name in @p1.
 */
#define INTROSPECT_INSTANCES_SELECT "SELECT capture_instance, object_id"
#define INTROSPECT_INSTANCES_FROM \
	" FROM cdc.change_tables WHERE source_object_id = OBJECT_ID(@p1) " \
	"AND start_lsn IS NOT NULL ORDER BY start_lsn, create_date, object_id"

/* A capture instance of the bound table. */
struct table_instance {
	char *name;
	int64_t ctid; /* cdc.change_tables.object_id */
	int *captured; /* per fs column: captured by the instance */
	char **columns; /* the names of all it captures (for the log) */
	size_t ncolumns;
};

/* One bound table as the catalog describes it. */
struct table {
	char *schema; /* as the catalog spells them */
	char *name;
	char *display; /* "schema.name" */
	char *qname; /* "[schema].[name]", quoted */
	char *dbname;
	struct frame_schema fs; /* the captured columns, column_id order */
	size_t *keys; /* fs index of each key column, key order */
	size_t nkeys;
	int ct_db; /* Change Tracking on in the database */
	int ct_table; /* ... and on this table */
	int cdc_db;
	struct table_instance *cdc; /* capture instances, oldest first */
	size_t ncdc; /* 0 to INTROSPECT_INSTANCES_MAX */
	char *cdc_instance; /* the one being read (of cdc[]), or NULL */
	int *cdc_captured; /* its columns, per fs column */
	int snapshot_allowed; /* snapshot_isolation_state = 1 */
	uint64_t rows_estimate;
	enum frame_mode mode;
	char *cols_sql; /* "[a], [b]": the fs columns */
	char *keys_sql; /* "[k1], [k2]" in key order */
};

/*
 * The catalog queries introspect.c asks about one table and discover.c
 * about all of them: the columns (INTROSPECT_COLUMNS_NVALUES values a
 * row, read by introspect_column_read()) and the primary key columns
 * (FROM and WHERE; more conditions follow with AND).
 */
#define INTROSPECT_COLUMNS_SELECT \
	"SELECT c.column_id, c.name, ty.name, c.system_type_id, " \
	"c.precision, c.scale, c.max_length, c.is_nullable, c.is_computed"
#define INTROSPECT_COLUMNS_FROM \
	" FROM sys.columns c JOIN sys.types ty ON ty.user_type_id = " \
	"c.user_type_id"
#define INTROSPECT_COLUMNS_NVALUES 9
#define INTROSPECT_KEY_FROM \
	" FROM sys.indexes i JOIN sys.index_columns ic ON ic.object_id = " \
	"i.object_id AND ic.index_id = i.index_id WHERE i.is_primary_key " \
	"= 1 AND ic.key_ordinal > 0"

int introspect_table(struct worker *, struct table **);
char *introspect_text(const struct frame_value *);
int64_t introspect_int(const struct frame_value *);
int introspect_column_read(const struct frame_value *, struct frame_column *);
void introspect_free(struct table *);
char *introspect_quote(const char *);
char *introspect_key_pred(const struct table *, const char *, int, int);
char *introspect_key_join(const struct table *, const char *, const char *);
char *introspect_cols(const struct table *, const char *);
char *introspect_keys(const struct table *, const char *);
void introspect_key_params(
    const struct table *, const struct frame_values *, struct db_param *);
int introspect_same(const struct table *, const struct table *);

/* discover.c */
/* A user table as discovery sees it. */
struct discover_table {
	char *schema; /* as the catalog spells them */
	char *name;
	char *display; /* "schema.name" */
	char *qname; /* "[schema].[name]" */
	int64_t object_id;
	struct frame_column *cols; /* column_id order, key_ordinal set */
	int *colids; /* column_id of each */
	size_t ncols;
	size_t *keys; /* cols index of each key column, key order */
	size_t nkeys; /* 0: no primary key */
	int ct; /* tracked by Change Tracking */
	int cdc; /* sys.tables.is_tracked_by_cdc */
	char **instances; /* capture instances with a start LSN, newest first */
	char **roles; /* the gating role of each, NULL: none */
	size_t ninstances;
};

/* The user tables of the database, by schema and name. */
struct discover {
	char *dbname;
	int cdc_db;
	int instances_known; /* cdc.change_tables was readable */
	char *instances_error; /* why not */
	struct discover_table *tables;
	size_t ntables;
	struct discover_table **byid; /* sorted by object_id */
};

int discover_load(struct db *, struct discover *, char **);
void discover_free(struct discover *);
struct discover_table *discover_find(
    struct discover *, const char *, const char *);
int discover_has_cdc(const struct discover *, const struct discover_table *);
int discover_bindable(const struct config *, const struct discover *,
    const struct discover_table *);
int discover_bind(struct config *, char **);
int discover_import(struct config *, char **);
struct config *discover_config(struct cmd_opts *, const char *);
int cmd_discover(struct cmd_opts *);

/* check.c */
int cmd_check(struct cmd_opts *);

/* backfill.c */
int backfill_run(struct worker *);
int backfill_chunk(struct worker *, const uint8_t *, size_t *);

/* ct.c */
extern const struct worker_ops ct_ops;

/* cdc.c */
extern const struct worker_ops cdc_ops;

#endif /* WORKER_H */
