/*
 * common.h: what every process of mssql-capture shares: logging,
 * allocation and the configuration.  One section per file (STYLE.md A2).
 */

#ifndef COMMON_H
#define COMMON_H

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif
#define printflike(a, b) __attribute__((__format__(__printf__, a, b)))

/* log.c */
#define LOG_LEVEL_FATAL 0
#define LOG_LEVEL_WARN 1
#define LOG_LEVEL_INFO 2
#define LOG_LEVEL_DEBUG 3

void log_init(const char *, int, int);
void log_setname(const char *);
const char *log_getname(void);
void log_setlevel(int);
void log_setstream(FILE *);
int log_parse_level(const char *);
void vlog(int, const char *, va_list) printflike(2, 0);
void log_at(int, const char *, ...) printflike(2, 3);
void log_warn(const char *, ...) printflike(1, 2);
void log_warnx(const char *, ...) printflike(1, 2);
void log_info(const char *, ...) printflike(1, 2);
void log_debug(const char *, ...) printflike(1, 2);
__dead void fatal(const char *, ...) printflike(1, 2);
__dead void fatalx(const char *, ...) printflike(1, 2);

/* clock.c */
#define CLOCK_RFC3339_MAX 32 /* "2026-11-21T20:45:00.123Z" and NUL */
int64_t clock_now_ms(void);
void clock_rfc3339(char *, size_t);

/* xmalloc.c */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) printflike(2, 3);
int xvasprintf(char **, const char *, va_list) printflike(2, 0);

/* config.c */
enum config_mode {
	CONFIG_MODE_AUTO = 0,
	CONFIG_MODE_CT,
	CONFIG_MODE_CDC,
	CONFIG_MODE_BATCH
};

enum config_encrypt {
	CONFIG_ENCRYPT_REQUEST = 0, /* TLS if the server offers it */
	CONFIG_ENCRYPT_OFF,
	CONFIG_ENCRYPT_REQUIRE
};

enum config_oversized {
	CONFIG_OVERSIZED_FAIL = 0,
	CONFIG_OVERSIZED_TRUNCATE,
	CONFIG_OVERSIZED_NULL
};

enum config_format { CONFIG_FORMAT_JSONL = 0, CONFIG_FORMAT_DEBEZIUM };

/* One bound table. */
struct config_binding {
	char *namespace; /* schema */
	char *stream; /* table */
	int priority;
	enum config_mode mode; /* inherits the top-level mode */
	char **include; /* NULL-terminated or NULL */
	char **exclude; /* NULL-terminated or NULL */
};

/* The whole configuration, every default applied. */
struct config {
	char *path; /* file it came from */
	char *address; /* as written */
	char *host;
	int port; /* 1433 unless address says */
	char *database;
	char *user;
	char *password; /* resolved: env, file or key */
	char *password_file;
	const char *password_source; /* "password", "password_file",
						     "MSSQL_CAPTURE_PASSWORD" */
	int history_mode;
	enum config_mode mode;
	struct {
		enum config_encrypt encrypt;
		char *ca_file;
		int trust_server_certificate;
	} tls;
	struct {
		int discover_tables_without_ct;
		long backfill_chunk_size;
		char *skip_backfills;
		char **skip; /* parsed, NULL-terminated */
		char *source_tag;
		long poll_interval_ms;
		int max_workers;
		enum config_oversized oversized_value_strategy;
	} advanced;
	struct {
		char *path; /* "-" is stdout */
		enum config_format format;
	} output;
	struct {
		char *path; /* NULL: no replica */
	} replica;
	struct {
		char *path;
	} state;
	struct {
		char *listen; /* as written; NULL: no metrics server */
		char *host; /* "0.0.0.0" for ":port" */
		int port;
	} metrics;
	struct config_binding *bindings;
	size_t nbindings;
};

/* Every problem found while loading, in file order. */
struct config_errors {
	char **msgs;
	size_t n;
};

struct config *config_load(const char *, struct config_errors *);
void config_free(struct config *);
void config_errors_free(struct config_errors *);
void config_print(const struct config *, FILE *);
size_t config_binding_find(const struct config *, const char *);
const char *config_mode_name(enum config_mode);
int config_skips_backfill(const struct config *, const char *, const char *);

/* frame.c */
#include "proto.h" /* the wire types the structs below carry */

/* Frame header, in host order (proto.h gives the wire order). */
struct frame_header {
	uint32_t type; /* enum frame_type */
	uint32_t len; /* body bytes */
	uint32_t peerid; /* table id */
	uint32_t pid; /* worker pid */
};

/* A received frame; body is borrowed (reader or caller buffer). */
struct frame {
	struct frame_header hdr;
	const uint8_t *body;
};

enum frame_value_type {
	FRAME_VALUE_ABSENT = 0, /* not known in this event */
	FRAME_VALUE_NULL,
	FRAME_VALUE_INT,
	FRAME_VALUE_BOOL,
	FRAME_VALUE_REAL, /* float32 */
	FRAME_VALUE_FLOAT, /* float64 */
	FRAME_VALUE_STR,
	FRAME_VALUE_BIN
};

/* One cell; STR and BIN point to storage the value does not own. */
struct frame_value {
	enum frame_value_type type;
	union {
		int64_t i;
		int b;
		float real;
		double flt;
		struct {
			const uint8_t *ptr; /* not NUL-terminated */
			size_t len;
		} s;
	} v;
};

/* A list of values (a key) and the storage its strings point into. */
struct frame_values {
	struct frame_value *v;
	size_t n; /* 0: no key */
	uint8_t *data; /* owned, or NULL */
};

struct frame_hello {
	uint32_t version;
	uint32_t binding_id;
};

struct frame_start {
	enum frame_phase phase;
	const uint8_t *cursor;
	size_t cursorlen;
	struct frame_values key;
	uint32_t flags; /* FRAME_START_* */
	uint8_t *body; /* owned when decoded */
};

struct frame_error {
	enum frame_error_code code;
	char *message;
};

struct frame_progress {
	uint64_t rows_done;
	uint64_t rows_estimate; /* 0: unknown */
	uint64_t lag_ms;
};

struct frame_column {
	char *name;
	char *type_name;
	uint32_t type_id;
	uint32_t precision;
	uint32_t scale;
	int32_t max_length; /* -1: (max) */
	int nullable;
	uint32_t key_ordinal; /* 0: not in the key */
	int computed;
};

struct frame_schema {
	char *db;
	char *schema;
	char *table;
	enum frame_mode mode;
	struct frame_column *columns;
	size_t ncolumns;
};

struct frame_event {
	enum frame_op op;
	int snapshot;
	uint8_t pos[FRAME_MAX_POS];
	size_t poslen;
	char ts[FRAME_MAX_TS + 1];
	struct frame_value *values; /* ncolumns */
	struct frame_value *before; /* ncolumns, or NULL */
};

struct frame_events {
	struct frame_event *events;
	size_t n;
	size_t size;
	size_t ncolumns;
	uint8_t *body; /* owned when decoded */
};

struct frame_watermark {
	uint8_t pos[FRAME_MAX_POS];
	size_t poslen;
	const uint8_t *cursor;
	size_t cursorlen;
	struct frame_values key;
	uint8_t *body; /* owned when decoded */
};

struct frame_backfill_done {
	uint64_t rows;
};

struct frame_credit {
	uint32_t events;
};

struct frame_reader;

const char *frame_type_name(uint32_t);
int frame_type_valid(uint32_t);
const char *frame_phase_name(enum frame_phase);
const char *frame_mode_name(enum frame_mode);
int frame_pos_cmp(const uint8_t *, size_t, const uint8_t *, size_t);
void frame_header_write(uint8_t *, const struct frame_header *);
void frame_header_read(const uint8_t *, struct frame_header *);
int frame_parse(const uint8_t *, size_t, struct frame *, char **);
uint8_t *frame_pack_hello(
    const struct frame_hello *, uint32_t, uint32_t, size_t *);
uint8_t *frame_pack_start(
    const struct frame_start *, uint32_t, uint32_t, size_t *);
uint8_t *frame_pack_stop(uint32_t, uint32_t, size_t *);
uint8_t *frame_pack_error(
    const struct frame_error *, uint32_t, uint32_t, size_t *);
uint8_t *frame_pack_progress(
    const struct frame_progress *, uint32_t, uint32_t, size_t *);
uint8_t *frame_pack_schema(
    const struct frame_schema *, uint32_t, uint32_t, size_t *);
uint8_t *frame_pack_events(
    const struct frame_events *, uint32_t, uint32_t, size_t *);
uint8_t *frame_pack_watermark(
    const struct frame_watermark *, uint32_t, uint32_t, size_t *);
uint8_t *frame_pack_backfill_done(
    const struct frame_backfill_done *, uint32_t, uint32_t, size_t *);
uint8_t *frame_pack_credit(
    const struct frame_credit *, uint32_t, uint32_t, size_t *);
uint8_t *frame_values_pack(const struct frame_values *, size_t *);
int frame_values_unpack(
    const uint8_t *, size_t, struct frame_values *, char **);
void frame_values_free(struct frame_values *);
int frame_decode_hello(const struct frame *, struct frame_hello *, char **);
int frame_decode_start(const struct frame *, struct frame_start *, char **);
void frame_start_free(struct frame_start *);
int frame_decode_stop(const struct frame *, char **);
int frame_decode_error(const struct frame *, struct frame_error *, char **);
void frame_error_free(struct frame_error *);
int frame_decode_progress(
    const struct frame *, struct frame_progress *, char **);
int frame_decode_schema(const struct frame *, struct frame_schema *, char **);
void frame_schema_init(struct frame_schema *, const char *, const char *,
    const char *, enum frame_mode);
void frame_schema_add_column(
    struct frame_schema *, const struct frame_column *);
void frame_schema_free(struct frame_schema *);
int frame_decode_events(const struct frame *, const struct frame_schema *,
    struct frame_events *, char **);
void frame_events_init(struct frame_events *, size_t);
struct frame_event *frame_events_add(struct frame_events *, enum frame_op, int,
    const uint8_t *, size_t, const char *);
void frame_events_add_before(struct frame_events *, struct frame_event *);
void frame_events_free(struct frame_events *);
int frame_decode_watermark(
    const struct frame *, struct frame_watermark *, char **);
void frame_watermark_free(struct frame_watermark *);
int frame_decode_backfill_done(
    const struct frame *, struct frame_backfill_done *, char **);
int frame_decode_credit(const struct frame *, struct frame_credit *, char **);
struct frame_reader *frame_reader_create(size_t);
void frame_reader_free(struct frame_reader *);
void frame_reader_feed(struct frame_reader *, const void *, size_t);
ssize_t frame_reader_read(struct frame_reader *, int);
int frame_reader_pop(struct frame_reader *, struct frame *, char **);
size_t frame_reader_pending(const struct frame_reader *);

/* json.c */
/* A growing output buffer; data is not NUL-terminated. */
struct json_buf {
	char *data;
	size_t len;
	size_t size;
};

void json_buf_init(struct json_buf *);
void json_buf_free(struct json_buf *);
void json_buf_reset(struct json_buf *);
void json_add(struct json_buf *, const void *, size_t);
void json_write_string(struct json_buf *, const char *, size_t);
void json_write_base64(struct json_buf *, const uint8_t *, size_t);
void json_write_hex(struct json_buf *, const uint8_t *, size_t);
void json_write_double(struct json_buf *, double);
void json_write_real(struct json_buf *, float);
void json_write_int(struct json_buf *, int64_t);
void json_write_uint(struct json_buf *, uint64_t);
void json_write_bool(struct json_buf *, int);
void json_write_null(struct json_buf *);
void json_write_value(struct json_buf *, const struct frame_value *);
void json_write_event(struct json_buf *, const struct frame_schema *,
    const struct frame_event *, uint64_t, const char *);

/* proc.c */
struct event_base;
struct proc_peer;

/*
 * Called with each frame received (owned by the peer: copy what you
 * keep), then once with NULL at end of stream or on error.
 */
typedef void (*proc_dispatch_cb)(const struct frame *, void *);

struct proc_peer *proc_add_peer(
    struct event_base *, int, proc_dispatch_cb, void *);
void proc_remove_peer(struct proc_peer *);
void proc_set_name(struct proc_peer *, const char *);
const char *proc_get_name(const struct proc_peer *);
int proc_send(
    struct proc_peer *, uint32_t, uint32_t, uint32_t, const void *, size_t);
int proc_send_frame(struct proc_peer *, uint8_t *, size_t);
size_t proc_queued(const struct proc_peer *);
void proc_pause_reading(struct proc_peer *);
void proc_resume_reading(struct proc_peer *);
int proc_paused(const struct proc_peer *);
int proc_drain(struct proc_peer *);
int proc_flush(struct proc_peer *, int);

#endif /* COMMON_H */
