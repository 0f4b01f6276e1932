/*
 * engine.h: what the files of the T-SQL engine of mssqlsim share
 * (engine.c, lex.c, catalog.c, compile.c, dml.c, rpc.c).  Nothing here is
 * seen by tds.c or main.c, which use only the engine_* API of sim.h.
 */

#ifndef ENGINE_H
#define ENGINE_H

#include <pthread.h>

#include "sim.h"

/* Token kinds. */
enum lex_kind {
	LEX_EOF,
	LEX_IDENT, /* plain identifier or keyword */
	LEX_QIDENT, /* [bracketed] or "quoted" identifier */
	LEX_STRING, /* '...' */
	LEX_NSTRING, /* N'...' */
	LEX_INT,
	LEX_DEC, /* 1.5 */
	LEX_FLOAT, /* 1e3 */
	LEX_BINARY, /* 0x... (text holds the hex digits) */
	LEX_VAR, /* @name */
	LEX_GLOBAL, /* @@name */
	LEX_OP
};

struct lex_tok {
	int kind;
	int line;
	char *text; /* unquoted, unescaped, NUL-terminated */
	size_t len;
	size_t off, end; /* source bytes [off, end) */
};

struct lex {
	struct lex_tok *t;
	int n;
	char *src; /* copy of the batch text */
};

/* Error number of the compile pass's "stop here, it parsed" marker. */
#define ENGINE_DRYSTOP (-1)

/*
 * One row change of a transaction, for the commit hook (the future
 * Change Tracking and CDC): before/after images hold every column of
 * the table in table order (NULL pointer when not applicable).
 */
struct rowchange {
	int64_t object_id;
	char db[140]; /* SQLite schema of the table */
	int op; /* 'I', 'U', 'D' */
	sqlite3_int64 rowid;
	int ncols;
	struct simval *before;
	struct simval *after;
	int stmt; /* changes of one statement share it */
	int nset; /* UPDATE: the columns SET (table index, SET order) */
	int *setcols;
	struct simval context; /* WITH CHANGE_TRACKING_CONTEXT, or NULL */
};

/*
 * Called inside the SQLite write transaction just before it commits,
 * with the transaction's row changes in order; may write side tables.
 * Returning -1 (err set) rolls the transaction back.
 */
typedef int (*engine_commit_hook)(
    struct sim_session *, const struct rowchange *, int, struct sim_error *);

/* Transaction isolation levels (also TM request values). */
#define ISO_READ_UNCOMMITTED 1
#define ISO_READ_COMMITTED 2
#define ISO_REPEATABLE_READ 3
#define ISO_SERIALIZABLE 4
#define ISO_SNAPSHOT 5

/* SQLite transaction state of a session. */
#define TXN_NONE 0
#define TXN_READ 1 /* deferred: pins a WAL snapshot */
#define TXN_WRITE 2 /* BEGIN IMMEDIATE: holds the write lock */

struct sim_server {
	char *dir;
	char *sa_password;
	char *users_file;
	char *server_name;
	pthread_mutex_t mtx;
	int next_spid;
	engine_commit_hook commit_hook; /* NULL: row changes not kept */
	engine_commit_hook hooks[4]; /* all installed, run in order */
	int nhooks;
	uint64_t next_tran;
};

struct prepared {
	int handle;
	char *decl;
	char *stmt;
};

/* A cached prepared statement (per session, keyed by SQL text). */
struct stmtcache {
	char *sql;
	sqlite3_stmt *st;
	int busy;
	uint64_t used;
};

#define STMTCACHE_SIZE 64

struct sim_session {
	struct sim_server *srv;
	int spid;
	char login[129];
	char user[129]; /* database user */
	char defschema[129]; /* the user's default schema */
	int sysadmin;
	char dbname[129];
	char appname[129];
	char logindb[129]; /* database at login (RESETCONNECTION) */
	sqlite3 *db;
	sqlite3 *mdb; /* master, when db is another database */
	int nattached; /* databases ATTACHed for three-part names */
	const char *mschema; /* where views read master: "main"/"temp" */
	const struct sim_sink *sink; /* &proxy while running */
	const struct sim_sink *real; /* the caller's sink */
	struct sim_sink proxy; /* tracks last_done */
	int last_done;
	struct sim_error err;
	int inproc; /* DONEINPROC instead of DONE */

	int trancount;
	int txn; /* TXN_* */
	int iso; /* ISO_* */
	int tran_iso; /* iso of the open transaction */
	uint64_t tran_id;
	int nocount;
	int xact_abort;
	int fmtonly;
	int implicit;
	int64_t identity_insert; /* object_id or 0 */
	int64_t rowcount;
	int error; /* @@ERROR */
	int nerrors; /* errors reported so far */
	int trydepth; /* inside BEGIN TRY */
	int incatch; /* inside BEGIN CATCH */
	struct sim_error caught; /* ERROR_NUMBER() etc. */
	int retord[64]; /* RPC OUTPUT params to return */
	int exec_in_batch; /* EXEC statement: no RETURNVALUE */
	int suppress_done; /* SELECT INTO's CREATE TABLE */
	int ddl_temp; /* DDL on a #temp table */
	int dry; /* compile pass: parse, never execute */
	int dry_lax; /* compile pass after USE: binds in another db */
	int *predecl; /* per variable: declared by the compile pass only */
	int *declsite; /* per variable: token of its DECLARE, -1 none */
	int64_t rowcount_limit; /* SET ROWCOUNT n (0 = none) */
	uint64_t views_made; /* catalog views created on db (bits) */
	struct rowchange *changes; /* this transaction's, for commit_hook */
	int nchanges;
	int stmt_mark; /* nchanges when the statement began */
	const int *stmt_setcols; /* UPDATE being applied: its SET columns */
	int stmt_nset;
	struct simval ct_context; /* WITH CHANGE_TRACKING_CONTEXT value */
	int nret;
	int has_identity;
	int64_t identity;

	struct stmtcache cache[STMTCACHE_SIZE];
	uint64_t cacheclock;

	struct sim_param *vars;
	int nvars;
	int varbase; /* first var of this scope */
	struct tablevar *tablevars; /* tablevar.c: live table variables */
	int ntablevars;

	struct prepared *preps;
	int npreps;
	int next_handle;

	struct table *bulk_table; /* after "insert bulk" */
	void *bulk_writer;
	sqlite3_stmt *bulk_conv;
	struct sim_type *bulk_from; /* per table column */
	int *bulk_map; /* client column -> table */
	int bulk_ncols;
	int bulk_failed;
	struct sim_error bulk_err;
};

/* A column of a table or of a row source. */
struct tcol {
	struct sim_column c; /* name, type, nullable, identity... */
	int column_id;
	int rowversion;
	int64_t seed, incr;
	char *defexpr; /* DEFAULT expression text */
	char *compexpr; /* computed column text */
};

/* A user table (or catalog view) as the compiler sees it. */
struct table {
	char db[140]; /* SQLite schema: "main", "db_x" */
	int64_t object_id;
	int schema_id;
	char schema[129];
	char name[129];
	char sqlname[420]; /* quoted SQLite name */
	int is_view; /* 1 catalog view, 2 derived table, 3 view (view.c) */
	struct tcol *cols;
	int ncols;
	int has_identity;
	int has_rowversion;
	int has_computed;
};

/* A compiled query: SQLite SQL and the result columns. */
struct cquery {
	struct sbuf sql;
	struct sim_column *cols;
	int ncols;
	int assign; /* SELECT @v = ...: var index+1 */
	int *assignvars;
	int into_start, into_end; /* SELECT ... INTO target tokens */
	struct table *into; /* OUTPUT ... INTO target (tablevar.c) */
	int *intomap; /* per target column: output column or -1 */
};

struct scope;

/* A common table expression of the statement being compiled. */
struct cte {
	char name[129];
	struct cquery q;
};

/* The parser/compiler state over one batch's tokens. */
struct parser {
	struct sim_session *s;
	struct lex *lx;
	int pos;
	int check; /* syntax only: no name lookups */
	struct sim_error *err;
	int failed;
	int paramlits; /* literals become :lN */
	struct simval *lits;
	int nlits;
	struct cte *ctes; /* WITH ... of the current statement */
	int nctes;
};

/* The rows an UPDATE or DELETE touches: SELECT rowid [, new values]. */
struct dmlsrc {
	struct table *target;
	struct cquery q;
	int *setcols; /* target column index per value */
	int nset;
	struct cquery out; /* OUTPUT clause (compile_output), or ncols 0 */
};

/* compile_output(): the pseudo-tables an OUTPUT clause may name. */
#define OUTPUT_INSERTED 0x1
#define OUTPUT_DELETED 0x2

/* A FOREIGN KEY constraint as CREATE/ALTER TABLE declares it (fk.c). */
#define FK_MAXCOLS 32
struct fkdef {
	char name[129]; /* "" until named */
	int n;
	char cols[FK_MAXCOLS][129]; /* referencing columns */
	char refschema[129]; /* "" = default schema */
	char reftable[129];
	int nref; /* 0: the referenced table's primary key */
	char refcols[FK_MAXCOLS][129];
	int ondelete, onupdate; /* 0 NO ACTION 1 CASCADE 2 SET NULL 3 DEFAULT */
};

struct fkset;

/* lex.c */
int lex_tokenize(const char *, struct lex *, struct sim_error *);
void lex_free(struct lex *);
int lex_is_kw(const struct lex_tok *, const char *);
int lex_is_op(const struct lex_tok *, const char *);
int lex_is_reserved(const struct lex_tok *);

/* engine.c */
int engine_send_done(struct sim_session *, int, uint64_t);
int engine_send_message(struct sim_session *, const struct sim_error *);
int engine_info(struct sim_session *, int, const char *, ...)
    __attribute__((__format__(__printf__, 3, 4)));
int engine_sqlite_error(struct sim_session *, struct sim_error *);
int engine_dry_stop(struct sim_session *, struct sim_error *);
void engine_set_commit_hook(struct sim_server *, engine_commit_hook);
void engine_change_add(struct sim_session *, const struct table *, int,
    sqlite3_int64, struct simval *, struct simval *);
int engine_write_begin(struct sim_session *, struct sim_error *);
int engine_write_end(struct sim_session *, int, struct sim_error *);
int engine_read_begin(struct sim_session *, struct sim_error *);
int engine_bind_vars(struct sim_session *, struct parser *, sqlite3_stmt *);
sqlite3_stmt *engine_stmt_get(
    struct sim_session *, const char *, struct sim_error *);
void engine_stmt_put(struct sim_session *, sqlite3_stmt *);
void engine_stmt_flush(struct sim_session *);
void engine_parser_reset(struct parser *);
int engine_find_var(struct sim_session *, const char *);
int engine_set_var(
    struct sim_session *, int, sqlite3_value *, struct sim_error *);
int engine_declare_var(struct sim_session *, const char *,
    const struct sim_type *, int, struct sim_error *);
int engine_exec_tokens(struct sim_session *, struct lex *);
void engine_sink_push(struct sim_session *, const struct sim_sink *);
int engine_tran_begin(struct sim_session *, int);
int engine_tran_commit(struct sim_session *, struct sim_error *);
int engine_tran_rollback_all(struct sim_session *, int);
extern const char *engine_version_string;
char *engine_db_path(struct sim_server *, const char *);
int engine_open_db(struct sim_session *, const char *, struct sim_error *);
sqlite3 *engine_mdb(struct sim_session *);
void engine_master_sync(struct sim_session *);
void engine_detach_all(struct sim_session *);
int engine_attach(
    struct sim_session *, const char *, char *, struct sim_error *);
int engine_parse_typename(const char *, struct sim_type *, struct sim_error *);

/* catalog.c */
int catalog_init_db(sqlite3 *, int, struct sim_error *);
int catalog_init_temp(sqlite3 *, struct sim_error *);
int catalog_init_master(sqlite3 *, struct sim_error *);
struct table *catalog_table(
    struct sim_session *, const char *, const char *, struct sim_error *);
void catalog_table_free(struct table *);
int catalog_schema_id(struct sim_session *, const char *);
int catalog_check_perm(
    struct sim_session *, struct table *, const char *, struct sim_error *);
int catalog_exec_ddl(struct parser *);
int catalog_is_ddl(struct parser *);
int64_t catalog_meta_get(sqlite3 *, const char *, const char *, int64_t);
int catalog_meta_set(sqlite3 *, const char *, const char *, int64_t);
struct table *catalog_table_in(struct sim_session *, const char *, const char *,
    const char *, struct sim_error *);
int catalog_register_functions(struct sim_session *);
int catalog_db_option(struct sim_session *, const char *, const char *);
int catalog_is_member(struct sim_session *, const char *);
int catalog_has_perm(struct sim_session *, int64_t, int, const char *);
int64_t ddl_next_object_id(struct parser *); /* ddl.c */
void ddl_precision(const struct sim_type *, int *, int *);

/* compile.c */
int p_kw(struct parser *, const char *);
int p_op(struct parser *, const char *);
int p_accept_kw(struct parser *, const char *);
int p_accept_op(struct parser *, const char *);
int p_expect_kw(struct parser *, const char *);
int p_expect_op(struct parser *, const char *);
struct lex_tok *p_tok(struct parser *);
int p_syntax(struct parser *);
int p_name(struct parser *, char[][129], int);
int p_int(struct parser *, int64_t *);
int p_type(struct parser *, struct sim_type *, char *, size_t);
int compile_select(struct parser *, struct scope *, struct cquery *);
int compile_expr_text(struct sim_session *, struct table *, const char *,
    struct sbuf *, struct sim_type *, struct sim_error *);
char *compile_source(struct parser *, int, int);
int compile_values_row(struct parser *, struct cquery *, int *, int);
int compile_update(struct parser *, struct dmlsrc *);
int compile_delete(struct parser *, struct dmlsrc *);
int compile_output(struct parser *, struct table *, int, struct cquery *);
void dmlsrc_free(struct dmlsrc *);
int compile_table_name(struct parser *, struct table **);
void compile_typename(const struct sim_type *, char *, size_t);
int compile_value(struct parser *, struct sbuf *, struct sim_type *);
void cquery_free(struct cquery *);
int compile_skip_expr(struct parser *);

/* tablevar.c (table variables) */
#define SIM_TYPE_TABLE (-1) /* sim_type.id of DECLARE @t TABLE */
int tablevar_declare(struct parser *, const char *);
int tablevar_resolve(struct parser *, struct table **);
struct table *tablevar_table(struct parser *, const char *);
int tablevar_dml_name(struct parser *, char[][129]);
int tablevar_output_into(struct parser *, struct cquery *);
void tablevar_skip_into(struct parser *);
int tablevar_is(struct sim_session *, int);
void tablevar_batch_end(struct sim_session *);
void tablevar_save(struct sim_session *);
void tablevar_restore(struct sim_session *);
void tablevar_free_all(struct sim_session *);
int ddl_create_tablevar(struct parser *, const char *); /* ddl.c */

/* view.c */
#define VIEW_CREATE 0
#define VIEW_ALTER 1
#define VIEW_CREATE_OR_ALTER 2
int view_create(struct parser *, int, int);
int view_drop(struct parser *);

/* dml.c */
int dml_insert(struct parser *);
int dml_update(struct parser *);
int dml_delete(struct parser *);
int dml_truncate(struct parser *);
void *dml_bulk_open(struct sim_session *, struct table *, struct sim_error *);
int dml_bulk_row(void *, sqlite3_stmt *, struct simval *,
    const struct sim_type *, struct sim_error *);
uint64_t dml_bulk_close(void *, int);
int dml_stream_select(struct parser *, struct cquery *);

/* rpc.c */
int rpc_exec(struct sim_session *, const char *, struct sim_param *, int);
int rpc_insert_bulk(struct parser *);

/* fk.c (FOREIGN KEY constraints) */
int fk_parse(struct parser *, struct fkdef *, const char *, const char *);
int fk_create(struct parser *, struct table *, struct fkdef *, int64_t, int);
struct fkset *fk_load(struct sim_session *, struct table *);
void fk_free(struct fkset *);
int fk_check_row(struct fkset *, sqlite3_int64, const int *, int, const char *,
    struct sim_error *);
void fk_parent_save(
    struct fkset *, const sqlite3_int64 *, size_t, const int *, int);
int fk_parent_apply(struct fkset *, const char *, struct sim_error *);
int fk_referenced_check(
    struct sim_session *, const struct table *, int, struct sim_error *);
int fk_key_check(struct parser *, const struct table *, int, const char *);
int fk_is_fk(struct parser *, int64_t);
int fk_uses_column(struct parser *, int64_t, int);
int fk_drop(struct parser *, int64_t);
int fk_drop_table(struct parser *, int64_t);
int fk_alter_check(struct parser *, struct table *, int);

/* ct.c (Change Tracking) */
void ct_init(struct sim_server *);
void ct_fini(struct sim_server *);
int ct_stmt_context(struct parser *);
int ct_truncate(struct sim_session *, struct table *, struct sim_error *);
int ct_alter_database(struct parser *, const char *);
int ct_alter_table(struct parser *, struct table *);
int ct_drop_table(struct parser *, struct table *);
int ct_drop_constraint(struct parser *, struct table *, int64_t);
int ct_proc(struct sim_session *, const char *, struct sim_param *, int);
void ct_master_sync(struct sim_session *);
int ct_db_is_enabled(struct sim_session *, const char *);
int ct_tracked(struct sim_session *, const char *, int64_t, int *);
int ct_table_keys(struct sim_session *, const struct table *, int *, int);
int64_t ct_current_version(struct sim_session *, const char *);

/* ct_query.c (Change Tracking: CHANGETABLE and the CT functions) */
int ct_compile_from(struct parser *, struct sbuf *, struct table **, char *);
int ct_register_functions(struct sim_session *);

/* cdc.c (Change Data Capture: log, capture and cleanup jobs) */
void cdc_start(struct sim_server *, long);
void cdc_stop(struct sim_server *);
int cdc_active(void);
int cdc_commit(
    struct sim_session *, const struct rowchange *, int, struct sim_error *);
int cdc_db_enabled(const char *);
int cdc_scan_now(const char *, int, int, struct sim_error *);
void cdc_registry_update(struct sim_session *, int);
void cdc_ddl_notify(struct sim_session *, const struct table *, const char *);
const char *const *cdc_db_ddl(int);
void cdc_lsn_next(struct sim_session *, unsigned char *);
void cdc_lsn_make(uint64_t, unsigned char *);
void cdc_lsn_text(const unsigned char *, char *, size_t);
void cdc_now_datetime(char *, size_t, int64_t);

/* cdc_proc.c (Change Data Capture: sys.sp_cdc_*) */
int cdc_exec_proc(struct sim_session *, const char *, struct sim_param *, int);
void cdc_drop_source(struct sim_session *, int64_t);
int cdc_propagate_types(struct sim_session *, const struct table *);
int cdc_truncate_check(
    struct sim_session *, const struct table *, struct sim_error *);

/* cdc_query.c (Change Data Capture: query functions) */
int cdc_register_functions(struct sim_session *);
int cdc_function(
    const char *, int, char *, size_t, struct sim_type *, struct sim_error *);
int cdc_compile_from(struct parser *, struct sbuf *, struct table **, char *);

#endif /* ENGINE_H */
