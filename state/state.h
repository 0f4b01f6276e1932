/*
 * state.h: the supervisor's durable state (state.c).  One section per
 * file (STYLE.md A2).
 */

#ifndef STATE_H
#define STATE_H

#include "common.h"

/* Version of the state file's schema (PRAGMA user_version). */
#define STATE_SCHEMA_VERSION 4

/* state_open() flags. */
#define STATE_READONLY 0x1 /* another process: status, verify */
#define STATE_REQUESTER 0x2 /* reset: add requests, no writer lock */

/* How long a statement waits for a lock before failing. */
#define STATE_BUSY_TIMEOUT_MS 5000

/* One bound table as the state file keeps it. */
struct state_table {
	char *binding; /* "schema.table" */
	uint32_t table_id; /* assigned by state_table_put() */
	enum frame_mode mode;
	enum frame_phase phase;
	uint8_t *cursor; /* worker's resumable cursor */
	size_t cursorlen;
	uint8_t *backfill_key; /* frame_values_pack(), or NULL */
	size_t backfill_keylen;
	uint8_t *released; /* highest position emitted, or NULL */
	size_t releasedlen;
	uint64_t rows_backfilled;
	uint32_t restarts;
	char *last_error; /* or NULL */
	char *failed_reason; /* or NULL */
	char *updated_at; /* RFC 3339 UTC, set on every put */
	uint64_t rows_estimate; /* last FRAME_PROGRESS: 0 unknown */
	int has_lag;
	uint64_t lag_ms; /* last FRAME_PROGRESS while streaming */
	int64_t lag_at_ms; /* when it came, unix ms */
	uint64_t request_done; /* put removes reset requests up to it */
};

/* A request left for the daemon by another process (reset TABLE). */
struct state_request {
	uint64_t id;
	char *binding;
	char *requested_at; /* RFC 3339 UTC */
};

/*
 * Where the output stands: the last emitted seq, the file offset, and
 * the number of the last committed round (one per state_commit() of
 * output.c, counted from 1).
 */
struct state_output {
	uint64_t seq;
	uint64_t offset;
	uint64_t round;
};

struct state;

/* state.c */
struct state *state_open(const char *, int, char **);
void state_close(struct state *);
int state_readonly(const struct state *);
int state_begin(struct state *, char **);
int state_commit(struct state *, char **);
void state_rollback(struct state *);
int state_table_get(
    struct state *, const char *, struct state_table **, char **);
int state_table_list(struct state *, struct state_table ***, size_t *, char **);
int state_table_put(struct state *, struct state_table *, char **);
int state_table_remove(struct state *, const char *, char **);
struct state_table *state_table_create(const char *, enum frame_mode);
void state_table_free(struct state_table *);
void state_tables_free(struct state_table **, size_t);
int state_output_get(struct state *, struct state_output *, char **);
int state_output_set(struct state *, const struct state_output *, char **);
int state_phase_parse(const char *, enum frame_phase *);
int state_mode_parse(const char *, enum frame_mode *);
void state_table_reset(struct state_table *);
int state_output_updated_at(struct state *, char **, char **);
int state_request_add(struct state *, const char *, uint64_t *, char **);
int state_request_list(
    struct state *, struct state_request **, size_t *, char **);
int state_request_remove(struct state *, const char *, uint64_t, char **);
void state_requests_free(struct state_request *, size_t);
int state_lock_holder(const char *, pid_t *);
uint8_t *state_round_pack(
    const struct state_output *, struct state_table *const *, size_t, size_t *);
int state_round_unpack(const uint8_t *, size_t, struct state_output *,
    struct state_table ***, size_t *, char **);

/* replica.c */
/* Version of the replica file's schema (PRAGMA user_version). */
#define REPLICA_SCHEMA_VERSION 3

/* replica_open() flags. */
#define REPLICA_READONLY 0x1 /* another process: verify */

/* Bounds of one apply transaction (replica_batch_full()). */
#define REPLICA_BATCH_EVENTS 20000
#define REPLICA_BATCH_MS 250

/* Suffix of a dropped column's replica name, and of journal tables. */
#define REPLICA_DROPPED_SUFFIX "__deleted"
#define REPLICA_JOURNAL_SUFFIX "_journal"

/* A replica column as the mapping records it (source order). */
struct replica_column {
	char *name; /* source column name */
	char *rname; /* column name in the replica table */
	char *type_name;
	uint32_t type_id;
	uint32_t precision;
	uint32_t scale;
	int32_t max_length;
	uint32_t key_ordinal; /* 0: not in the key */
	int dropped; /* renamed <name>__deleted */
};

struct replica;
struct replica_table;
struct sqlite3;

struct replica *replica_open(const char *, int, char **);
void replica_close(struct replica *);
struct sqlite3 *replica_sqlite(struct replica *);
int replica_begin(struct replica *, char **);
int replica_commit(struct replica *, char **);
void replica_rollback(struct replica *);
int replica_batch_full(const struct replica *);
int replica_round_set(
    struct replica *, uint64_t, const uint8_t *, size_t, char **);
int replica_round_get(
    struct replica *, uint64_t *, uint8_t **, size_t *, char **);
struct replica_table *replica_apply_schema(
    struct replica *, const struct frame_schema *, char **);
int replica_apply_event(struct replica_table *, const struct frame_schema *,
    const struct frame_event *, const char *, char **);
int replica_position(const struct replica_table *, const uint8_t **, size_t *);
int replica_backfill_begin(struct replica_table *, int, char **);
int replica_backfill_end(
    struct replica_table *, const char *, uint64_t *, char **);
int replica_table_lookup(struct replica *, const char *, const char *,
    const char *, struct replica_table **, char **);
int replica_table_list(
    struct replica *, const char *, char ***, size_t *, char **);
const char *replica_table_name(const struct replica_table *);
const char *replica_table_journal(const struct replica_table *);
const struct replica_column *replica_table_columns(
    const struct replica_table *, size_t *);
char *replica_name_encode(const char *, const char *, const char *);
int replica_name_decode(const char *, char **, char **, char **);
char *replica_quote(const char *);

#endif /* STATE_H */
