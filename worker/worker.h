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

#endif /* WORKER_H */
