/*
 * db.c: the worker's connection to SQL Server, through FreeTDS db-lib.
 *
 * One worker process holds one connection, so db-lib's process-wide
 * state (dbinit(), the handlers, the timeouts, the interfaces file) is
 * ours alone.  Nothing here prints: the error and message handlers
 * record the first SQL Server error of each command (and db-lib's own
 * error, for network trouble) into the connection's struct db_error
 * and log at debug level with the worker's prefix.  Every call that
 * fails returns -1 with that record filled and classified: retryable
 * (network, timeout, deadlock, server shutting down: reconnect with
 * backoff) or permanent (login failed, unknown database or object,
 * permission, bad SQL: retrying will not help).  During dbopen() the
 * DBPROCESS is not ours yet, so the handlers write to the connection
 * being opened (db_opening).
 *
 * Connection settings.  FreeTDS 1.3 db-lib cannot set TLS options on a
 * LOGINREC (dbsetlbool(DBSETENCRYPT) is unimplemented and returns FAIL,
 * src/dblib/dblib.c); "encryption", "ca file" and "check certificate
 * hostname" are only read from freetds.conf (src/tds/config.c).  So
 * each db_open() writes a private freetds.conf into a fresh mkdtemp(3)
 * directory with one section for this server, points db-lib at it with
 * dbsetifile() (searched before $FREETDSCONF, ~/.freetds.conf and the
 * system file, whose settings therefore do not leak in), opens, and
 * removes the directory: the file is only read inside dbopen().  It
 * holds no password (that goes in the LOGINREC).  The CA file is
 * reached through a symlink in that directory because freetds.conf
 * values cannot hold ';', '#' or repeated spaces.  TDS 7.4, the UTF-8
 * client charset (every character column arrives as UTF-8) and the
 * database (in LOGIN7, so a bad one fails the login with 4060) are set
 * on the LOGINREC.  The environment variables FreeTDS always honours
 * (TDSVER, TDSPORT, TDSHOST, TDSDUMP) still apply.
 *
 * TLS: tls.encrypt maps to FreeTDS's encryption off, request and
 * require.  FreeTDS verifies the server certificate only when a CA file
 * is configured, so we give one (tls.ca_file, else the system store)
 * when the operator asked for verification: with "require", or with
 * "request" and an explicit tls.ca_file, unless
 * tls.trust_server_certificate.  "request" alone is opportunistic: every
 * SQL Server has at least a self-signed certificate for the login, and
 * verifying it against the system store would refuse most servers.
 *
 * Commands: db_exec() sends a batch, db_exec_params() runs a statement
 * through sp_executesql as an RPC with typed parameters @p1..@pN (the
 * declaration "@p1 bigint, @p2 nvarchar(40)" is built from their types,
 * so the server compares like with like and can seek an index).  The
 * results are read with db_next_result() and db_next_row() until they
 * return 0; any server error of severity > 10 anywhere in the command,
 * even after rows, fails it: the rest is cancelled so the connection is
 * ready for the next command.  Always read to the end (or db_drain())
 * to learn that a command succeeded.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sybfront.h>
#include <sybdb.h>

#include "worker.h"

#define DB_SERVER_NAME "mssql-capture" /* the freetds.conf section */
#define DB_APP_NAME "mssql-capture"
#define DB_CONF_NAME "freetds.conf"
#define DB_CA_NAME "ca.pem"
#define DB_NTEXT_BYTES 4000 /* longer statements go as ntext */

/*
 * Session settings.  NOCOUNT: row counts matter nowhere here and cost a
 * DONE token per statement.  TEXTSIZE: (max) and text columns whole.
 * The ANSI options are those of ODBC and SSMS (db-lib's defaults
 * differ): without them SQL Server ignores indexes on computed columns
 * and indexed views, and ARITHABORT/ANSI_WARNINGS make an overflow or a
 * division by zero an error rather than a silent NULL.
 */
#define DB_SESSION_SQL \
	"SET NOCOUNT ON\n" \
	"SET TEXTSIZE 2147483647\n" \
	"SET ANSI_NULLS ON\n" \
	"SET ANSI_PADDING ON\n" \
	"SET ANSI_WARNINGS ON\n" \
	"SET ARITHABORT ON\n" \
	"SET CONCAT_NULL_YIELDS_NULL ON\n" \
	"SET QUOTED_IDENTIFIER ON\n" \
	"SET NUMERIC_ROUNDABORT OFF\n"

struct db {
	DBPROCESS *dbproc;
	struct db_error err;
	int pending; /* a command's results are not all read */
	int in_rows; /* inside a result set */
	int ncols;
	int *types; /* db-lib type of each column */
	size_t ntypes;
	struct dbvalue_param *params;
	size_t nparams;
	char *decl;
	size_t declsize;
};

static int db_initialized;
static struct db *db_opening;
static int db_login_timeout = DB_LOGIN_TIMEOUT;
static int db_query_timeout = DB_QUERY_TIMEOUT;

/* SQL Server errors that retrying cannot fix. */
static const int db_permanent_numbers[] = {
	18456, /* login failed */
	18452, /* login from an untrusted domain */
	18486, /* account locked out */
	18487, /* password expired */
	18488, /* password must be changed */
	4060, /* cannot open database */
	4064, /* cannot open user default database */
	916, /* principal cannot access the database */
	207, /* invalid column name */
	208, /* invalid object name */
	229, /* permission denied on an object */
	230, /* permission denied on a column */
	262, /* permission denied in the database */
	297, /* no permission to perform this action */
	300, /* VIEW SERVER STATE permission denied */
};

/* SQL Server errors that go away by themselves. */
static const int db_retryable_numbers[] = {
	1205, /* deadlock victim */
	1222, /* lock request time out */
	1204, /* out of locks */
	701, /* insufficient memory */
	8645, /* timeout waiting for memory */
	8651, /* low memory */
	6005, /* SHUTDOWN is in progress */
	6006, /* server shut down by request */
	17142, /* server paused */
	233, /* no process on the other end of the pipe */
	10053, /* transport-level error */
	10054, /* connection reset by peer */
	976, /* availability replica not readable */
	978, /* replica not accessible for read */
	983, /* replica role not resolved */
	4221, /* login to a secondary failed */
	40197, /* Azure: error processing the request */
	40501, /* Azure: service busy */
	40613, /* Azure: database unavailable */
	49918, /* Azure: not enough resources */
	49919, /* Azure: too many operations */
	49920, /* Azure: service busy */
	10928, /* Azure: resource limit */
	10929, /* Azure: resource limit */
};

/* db-lib errors of the network or the connection. */
static const int db_network_errors[] = {
	SYBEFCON,
	SYBETIME,
	SYBEREAD,
	SYBEWRIT,
	SYBESOCK,
	SYBECONN,
	SYBEUHST,
	SYBESEOF,
	SYBEDDNE,
	SYBEBTOK,
};

static int db_init(struct db_error *);
static struct db *db_lookup(DBPROCESS *);
static int db_msg_handler(
    DBPROCESS *, DBINT, int, int, char *, char *, char *, int);
static int db_err_handler(DBPROCESS *, int, int, int, char *, char *);
static void db_error_server(
    struct db_error *, int, int, int, int, const char *);
static void db_error_lib(
    struct db_error *, int, int, const char *, const char *);
static void db_error_set(struct db_error *, enum db_class, const char *, ...)
    printflike(3, 4);
static int db_in_list(int, const int *, size_t);
static int db_conf_safe(const char *);
static int db_conf_write(
    const struct config *, const char *, struct db_error *);
static int db_conf_create(
    const struct config *, char *, size_t, struct db_error *);
static void db_conf_remove(const char *);
static LOGINREC *db_login(const struct config *);
static int db_begin(struct db *);
static int db_fail(struct db *);
static int db_columns(struct db *);
static int db_params_prepare(struct db *, const struct db_param *, size_t);
static int db_rpc_string(struct db *, const char *, const char *);
static int db_rpc_params(struct db *, const char *, size_t);

/* Call dbinit() and install the handlers, once per process. */
static int
db_init(struct db_error *err)
{
	if (db_initialized)
		return (0);
	if (dbinit() == FAIL) {
		db_error_set(err, DB_CLASS_PERMANENT, "dbinit failed");
		return (-1);
	}
	dberrhandle(db_err_handler);
	dbmsghandle(db_msg_handler);
	db_initialized = 1;
	return (0);
}

/* The connection a handler call is about, or NULL. */
static struct db *
db_lookup(DBPROCESS *dbproc)
{
	struct db *db = NULL;

	if (dbproc != NULL)
		db = (struct db *)dbgetuserdata(dbproc);
	return (db != NULL ? db : db_opening);
}

/* db-lib message handler: SQL Server's errors and informations. */
static int
db_msg_handler(DBPROCESS *dbproc, DBINT msgno, int msgstate, int severity,
    char *msgtext, char *srvname, char *procname, int line)
{
	struct db *db = db_lookup(dbproc);

	if (severity <= 10) {
		log_debug("server message %d: %s", (int)msgno,
		    msgtext != NULL ? msgtext : "");
		return (0);
	}
	log_debug("server error %d, severity %d, state %d, line %d: %s",
	    (int)msgno, severity, msgstate, line,
	    msgtext != NULL ? msgtext : "");
	if (db != NULL)
		db_error_server(
		    &db->err, (int)msgno, severity, msgstate, line, msgtext);
	return (0);
}

/* db-lib error handler: never exit, cancel what failed. */
static int
db_err_handler(DBPROCESS *dbproc, int severity, int dberr, int oserr,
    char *dberrstr, char *oserrstr)
{
	struct db *db = db_lookup(dbproc);

	if (dberr == SYBESMSG) /* the message handler has it */
		return (INT_CANCEL);
	if (oserr <= 0) /* DBNOERR (-1) or 0: no system error */
		oserrstr = NULL;
	log_debug("db-lib error %d: %s%s%s", dberr,
	    dberrstr != NULL ? dberrstr : "", oserrstr != NULL ? ": " : "",
	    oserrstr != NULL ? oserrstr : "");
	if (db != NULL)
		db_error_lib(&db->err, dberr, oserr, dberrstr, oserrstr);
	/* A timeout closes the connection: it is then retryable. */
	return (INT_CANCEL);
}

/* Record a server error; the first one of a command is its cause. */
static void
db_error_server(struct db_error *err, int number, int severity, int state,
    int line, const char *text)
{
	if (err->nnumbers < DB_ERROR_NUMBERS)
		err->numbers[err->nnumbers++] = number;
	if (err->number != 0)
		return;
	err->number = number;
	err->severity = severity;
	err->state = state;
	err->line = line;
	snprintf(err->text, sizeof(err->text), "%s", text != NULL ? text : "");
}

/* Record a db-lib error; its text is kept if no server error came. */
static void
db_error_lib(struct db_error *err, int dberr, int oserr, const char *text,
    const char *ostext)
{
	if (err->dberr != 0)
		return;
	err->dberr = dberr;
	err->oserr = oserr;
	if (err->number != 0)
		return;
	snprintf(err->text, sizeof(err->text), "%s%s%s",
	    text != NULL ? text : "db-lib error", ostext != NULL ? ": " : "",
	    ostext != NULL ? ostext : "");
}

/* Record an error of our own. */
static void
db_error_set(struct db_error *err, enum db_class class, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	err->class = class;
}

/* Whether n is in a list. */
static int
db_in_list(int n, const int *list, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (list[i] == n)
			return (1);
	return (0);
}

#define DB_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Classify a failure: a known permanent server error wins (a failed
 * login also closes the connection), then a known transient one, a
 * fatal severity (20 and up: the server dropped the connection), a
 * network error from db-lib, or a dead connection.  Anything else (a
 * syntax error, a conversion error) would fail again: permanent.
 */
enum db_class
db_classify(const struct db_error *err, int dead)
{
	int i;

	for (i = 0; i < err->nnumbers; i++)
		if (db_in_list(err->numbers[i], db_permanent_numbers,
			DB_NELEM(db_permanent_numbers)))
			return (DB_CLASS_PERMANENT);
	for (i = 0; i < err->nnumbers; i++)
		if (db_in_list(err->numbers[i], db_retryable_numbers,
			DB_NELEM(db_retryable_numbers)))
			return (DB_CLASS_RETRYABLE);
	if (err->number != 0 && err->severity >= 20)
		return (DB_CLASS_RETRYABLE);
	if (db_in_list(
		err->dberr, db_network_errors, DB_NELEM(db_network_errors)))
		return (DB_CLASS_RETRYABLE);
	if (dead)
		return (DB_CLASS_RETRYABLE);
	return (DB_CLASS_PERMANENT);
}

/* Name of a class, for logs. */
const char *db_class_name(enum db_class class)
{
	switch (class) {
	case DB_CLASS_NONE:
		return ("none");
	case DB_CLASS_RETRYABLE:
		return ("retryable");
	case DB_CLASS_PERMANENT:
		return ("permanent");
	}
	return ("unknown");
}

/* Set the login and query timeouts (seconds; 0 is db-lib's default). */
void
db_set_timeouts(int login, int query)
{
	db_login_timeout = login;
	db_query_timeout = query;
	if (db_initialized) {
		dbsetlogintime(login);
		dbsettime(query);
	}
}

/* Whether a value can go into freetds.conf unchanged. */
static int
db_conf_safe(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 200)
		return (0);
	return (strcspn(s, ";#\r\n\t ") == len);
}

/* Write the freetds.conf of a connection into dir. */
static int
db_conf_write(const struct config *cfg, const char *dir, struct db_error *err)
{
	static const char *encryption[] = {
		[CONFIG_ENCRYPT_REQUEST] = "request",
		[CONFIG_ENCRYPT_OFF] = "off",
		[CONFIG_ENCRYPT_REQUIRE] = "require",
	};
	char path[PATH_MAX + 32];
	FILE *f;
	int verify;

	verify = cfg->tls.encrypt != CONFIG_ENCRYPT_OFF &&
	    !cfg->tls.trust_server_certificate &&
	    (cfg->tls.encrypt == CONFIG_ENCRYPT_REQUIRE ||
		cfg->tls.ca_file != NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, DB_CONF_NAME);
	if ((f = fopen(path, "w")) == NULL) {
		db_error_set(
		    err, DB_CLASS_RETRYABLE, "%s: %s", path, strerror(errno));
		return (-1);
	}
	fprintf(f, "[global]\n[%s]\n", DB_SERVER_NAME);
	fprintf(f, "\thost = %s\n\tport = %d\n", cfg->host, cfg->port);
	fprintf(f, "\ttds version = 7.4\n\tclient charset = UTF-8\n");
	fprintf(f, "\ttext size = 2147483647\n");
	fprintf(f, "\tencryption = %s\n", encryption[cfg->tls.encrypt]);
	if (verify && cfg->tls.ca_file != NULL)
		fprintf(f, "\tca file = %s/%s\n", dir, DB_CA_NAME);
	else if (verify)
		fprintf(f, "\tca file = system\n");
	fprintf(
	    f, "\tcheck certificate hostname = %s\n", verify ? "yes" : "no");
	if (fclose(f) == EOF) {
		db_error_set(
		    err, DB_CLASS_RETRYABLE, "%s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

/* Make the private directory with freetds.conf (and the CA link). */
static int
db_conf_create(
    const struct config *cfg, char *dir, size_t dirlen, struct db_error *err)
{
	const char *base = getenv("TMPDIR");
	char real[PATH_MAX], link[PATH_MAX + 32];

	if (cfg->host == NULL || !db_conf_safe(cfg->host) || cfg->port < 1 ||
	    cfg->port > 65535) {
		db_error_set(err, DB_CLASS_PERMANENT, "invalid server address");
		return (-1);
	}
	if (base == NULL || !db_conf_safe(base) || strlen(base) + 24 >= dirlen)
		base = "/tmp";
	snprintf(dir, dirlen, "%s/mssql-capture.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		db_error_set(err, DB_CLASS_RETRYABLE, "mkdtemp %s: %s", dir,
		    strerror(errno));
		return (-1);
	}
	if (cfg->tls.ca_file != NULL) {
		snprintf(link, sizeof(link), "%s/%s", dir, DB_CA_NAME);
		if (realpath(cfg->tls.ca_file, real) == NULL ||
		    symlink(real, link) == -1) {
			db_error_set(err, DB_CLASS_PERMANENT,
			    "tls.ca_file %s: %s", cfg->tls.ca_file,
			    strerror(errno));
			db_conf_remove(dir);
			return (-1);
		}
	}
	if (db_conf_write(cfg, dir, err) == -1) {
		db_conf_remove(dir);
		return (-1);
	}
	return (0);
}

/* Remove the private directory. */
static void
db_conf_remove(const char *dir)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, DB_CONF_NAME);
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("unlink %s", path);
	snprintf(path, sizeof(path), "%s/%s", dir, DB_CA_NAME);
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("unlink %s", path);
	if (rmdir(dir) == -1)
		log_warn("rmdir %s", dir);
}

/* A LOGINREC with the credentials, the database and our settings. */
static LOGINREC *
db_login(const struct config *cfg)
{
	LOGINREC *login;

	if ((login = dblogin()) == NULL)
		return (NULL);
	if (DBSETLUSER(login, cfg->user != NULL ? cfg->user : "") == FAIL ||
	    DBSETLPWD(login, cfg->password != NULL ? cfg->password : "") ==
		FAIL ||
	    DBSETLAPP(login, DB_APP_NAME) == FAIL ||
	    DBSETLCHARSET(login, "UTF-8") == FAIL ||
	    DBSETLVERSION(login, DBVERSION_74) == FAIL ||
	    (cfg->database != NULL &&
		DBSETLDBNAME(login, cfg->database) == FAIL)) {
		dbloginfree(login);
		return (NULL);
	}
	return (login);
}

/*
 * Connect, log in and set up the session.  NULL on failure, with the
 * error (and its class) in *err if err is not NULL.
 */
struct db *
db_open(const struct config *cfg, struct db_error *err)
{
	struct db *db;
	LOGINREC *login;
	char dir[PATH_MAX], conf[PATH_MAX + 32];

	db = xcalloc(1, sizeof(*db));
	if (db_init(&db->err) == -1 ||
	    db_conf_create(cfg, dir, sizeof(dir), &db->err) == -1)
		goto fail;
	if ((login = db_login(cfg)) == NULL) {
		db_conf_remove(dir);
		if (db->err.text[0] == '\0')
			db_error_set(&db->err, DB_CLASS_PERMANENT,
			    "cannot set up the login");
		db->err.class = DB_CLASS_PERMANENT;
		goto fail;
	}
	dbsetlogintime(db_login_timeout);
	dbsettime(db_query_timeout);
	snprintf(conf, sizeof(conf), "%s/%s", dir, DB_CONF_NAME);
	dbsetifile(conf);
	db_opening = db;
	db->dbproc = dbopen(login, DB_SERVER_NAME);
	db_opening = NULL;
	dbloginfree(login);
	db_conf_remove(dir);
	if (db->dbproc == NULL) {
		if (db->err.text[0] == '\0')
			db_error_set(&db->err, DB_CLASS_NONE,
			    "cannot connect to %s:%d", cfg->host, cfg->port);
		db->err.class = db_classify(&db->err, 1);
		goto fail;
	}
	dbsetuserdata(db->dbproc, (BYTE *)db);
	if (db_run(db, DB_SESSION_SQL) == -1)
		goto fail;
	log_debug("connected to %s:%d, database %s", cfg->host, cfg->port,
	    cfg->database != NULL ? cfg->database : "(default)");
	return (db);

fail:
	if (err != NULL)
		*err = db->err;
	db_close(db);
	return (NULL);
}

/* Close the connection and free it. */
void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->dbproc != NULL)
		dbclose(db->dbproc);
	free(db->types);
	free(db->params);
	free(db->decl);
	free(db);
}

/* The failure of the last call that returned -1. */
const struct db_error *
db_error(const struct db *db)
{
	return (&db->err);
}

/* Whether the connection is lost (reconnect). */
int
db_dead(struct db *db)
{
	return (db->dbproc == NULL || DBDEAD(db->dbproc));
}

/* Start a command: drop unread results, clear the error. */
static int
db_begin(struct db *db)
{
	if (db->pending && !db_dead(db))
		dbcancel(db->dbproc);
	db->pending = db->in_rows = 0;
	db->ncols = 0;
	memset(&db->err, 0, sizeof(db->err));
	if (db_dead(db)) {
		db_error_set(&db->err, DB_CLASS_RETRYABLE,
		    "the connection to the server is lost");
		return (-1);
	}
	return (0);
}

/* Fail the current command: classify, cancel the rest. */
static int
db_fail(struct db *db)
{
	int dead = db_dead(db);

	if (db->err.text[0] == '\0')
		db_error_set(&db->err, DB_CLASS_NONE, "%s",
		    dead ? "the connection to the server is lost"
			 : "the command failed");
	db->err.class = db_classify(&db->err, dead);
	if (!dead && (db->pending || db->in_rows))
		dbcancel(db->dbproc);
	db->pending = db->in_rows = 0;
	db->ncols = 0;
	return (-1);
}

/* Send a batch; read its results with db_next_result(). */
int
db_exec(struct db *db, const char *sql)
{
	if (db_begin(db) == -1)
		return (-1);
	db->pending = 1;
	if (dbcmd(db->dbproc, sql) == FAIL || dbsqlexec(db->dbproc) == FAIL ||
	    db->err.number != 0)
		return (db_fail(db));
	return (0);
}

/* Convert the parameters and build their declaration. */
static int
db_params_prepare(struct db *db, const struct db_param *params, size_t n)
{
	char one[DBVALUE_DECL_MAX], why[128];
	size_t i, len = 0, need;

	if (n > db->nparams) {
		db->params = xreallocarray(db->params, n, sizeof(*db->params));
		db->nparams = n;
	}
	for (i = 0; i < n; i++) {
		if (dbvalue_param_decl(one, sizeof(one), &params[i]) == -1)
			snprintf(why, sizeof(why), "type id %u cannot be sent",
			    params[i].type_id);
		else if (dbvalue_param(
			     &params[i], &db->params[i], why, sizeof(why)) == 0)
			why[0] = '\0';
		if (why[0] != '\0') {
			db_error_set(&db->err, DB_CLASS_PERMANENT,
			    "parameter @p%zu: %s", i + 1, why);
			return (-1);
		}
		need = len + strlen(one) + 32;
		if (need > db->declsize) {
			db->declsize = need * 2;
			db->decl = xrealloc(db->decl, db->declsize);
		}
		len += (size_t)snprintf(db->decl + len, db->declsize - len,
		    "%s@p%zu %s", i > 0 ? ", " : "", i + 1, one);
	}
	return (0);
}

/* Add an nvarchar (or, when long, ntext) input to the RPC. */
static int
db_rpc_string(struct db *db, const char *name, const char *s)
{
	size_t len = strlen(s);

	if (len > INT_MAX)
		return (-1);
	/* db-lib turns SYBVARCHAR of up to 4000 bytes into nvarchar. */
	return (dbrpcparam(db->dbproc, name, 0,
		    len <= DB_NTEXT_BYTES ? SYBVARCHAR : SYBNTEXT, -1,
		    (DBINT)len, (BYTE *)(uintptr_t)s) == FAIL
		? -1
		: 0);
}

/* Add the statement, the declaration and the values to the RPC. */
static int
db_rpc_params(struct db *db, const char *sql, size_t n)
{
	struct dbvalue_param *p;
	char name[32];
	size_t i;

	if (db_rpc_string(db, "@stmt", sql) == -1)
		return (-1);
	if (n > 0 && db_rpc_string(db, "@params", db->decl) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		p = &db->params[i];
		snprintf(name, sizeof(name), "@p%zu", i + 1);
		if (dbrpcparam(db->dbproc, name, 0, p->dbtype, -1, p->datalen,
			(BYTE *)(uintptr_t)p->ptr) == FAIL)
			return (-1);
	}
	return (0);
}

/*
 * Run sql through sp_executesql with typed parameters @p1..@pn; read
 * the results with db_next_result().
 */
int
db_exec_params(
    struct db *db, const char *sql, const struct db_param *params, size_t n)
{
	if (db_begin(db) == -1)
		return (-1);
	if (db_params_prepare(db, params, n) == -1)
		return (-1); /* nothing was sent */
	if (dbrpcinit(db->dbproc, "sp_executesql", 0) == FAIL)
		return (db_fail(db));
	if (db_rpc_params(db, sql, n) == -1) {
		dbrpcinit(db->dbproc, "", DBRPCRESET);
		return (db_fail(db));
	}
	db->pending = 1;
	if (dbrpcsend(db->dbproc) == FAIL || dbsqlok(db->dbproc) == FAIL ||
	    db->err.number != 0)
		return (db_fail(db));
	return (0);
}

/* Remember the types of the columns of a new result set. */
static int
db_columns(struct db *db)
{
	int i, n = dbnumcols(db->dbproc);

	if ((size_t)n > db->ntypes) {
		db->types =
		    xreallocarray(db->types, (size_t)n, sizeof(*db->types));
		db->ntypes = (size_t)n;
	}
	for (i = 0; i < n; i++)
		db->types[i] = dbcoltype(db->dbproc, i + 1);
	db->ncols = n;
	return (n);
}

/*
 * Move to the next result set that has columns (skipping the unread
 * rows of the current one): 1 if there is one, 0 at the end of the
 * command, -1 on failure.
 */
int
db_next_result(struct db *db)
{
	RETCODE rc;

	if (!db->pending)
		return (0);
	while (db->in_rows) {
		if (db_next_row(db) == -1)
			return (-1);
	}
	for (;;) {
		rc = dbresults(db->dbproc);
		if (rc == FAIL || db->err.number != 0)
			return (db_fail(db));
		if (rc == NO_MORE_RESULTS) {
			db->pending = 0;
			db->ncols = 0;
			return (0);
		}
		if (db_columns(db) > 0) {
			db->in_rows = 1;
			return (1);
		}
	}
}

/* Fetch the next row: 1 if there is one, 0 at the end of the set. */
int
db_next_row(struct db *db)
{
	RETCODE rc;

	if (!db->in_rows)
		return (0);
	rc = dbnextrow(db->dbproc);
	if (db->err.number != 0)
		return (db_fail(db));
	switch (rc) {
	case REG_ROW:
		return (1);
	case NO_MORE_ROWS:
		db->in_rows = 0;
		return (0);
	case FAIL:
		return (db_fail(db));
	default:
		db_error_set(
		    &db->err, DB_CLASS_NONE, "unexpected row type %d", (int)rc);
		return (db_fail(db));
	}
}

/* Read and drop every remaining result: 0 if the command succeeded. */
int
db_drain(struct db *db)
{
	int rc;

	while ((rc = db_next_result(db)) == 1) {
		while ((rc = db_next_row(db)) == 1)
			;
		if (rc == -1)
			return (-1);
	}
	return (rc);
}

/* Run a batch whose results do not matter. */
int
db_run(struct db *db, const char *sql)
{
	if (db_exec(db, sql) == -1)
		return (-1);
	return (db_drain(db));
}

/* Drop the rest of the current command. */
void
db_cancel(struct db *db)
{
	if (db->pending && !db_dead(db))
		dbcancel(db->dbproc);
	db->pending = db->in_rows = 0;
	db->ncols = 0;
}

/* Number of columns of the current result set. */
int
db_ncols(const struct db *db)
{
	return (db->ncols);
}

/* Describe column i (0-based) of the current result set. */
int
db_column(struct db *db, int i, struct db_column *col)
{
	DBTYPEINFO *ti;

	if (i < 0 || i >= db->ncols)
		return (-1);
	col->name = dbcolname(db->dbproc, i + 1);
	col->dbtype = db->types[i];
	col->size = dbcollen(db->dbproc, i + 1);
	ti = dbcoltypeinfo(db->dbproc, i + 1);
	col->precision = ti != NULL ? ti->precision : 0;
	col->scale = ti != NULL ? ti->scale : 0;
	col->usertype = dbcolutype(db->dbproc, i + 1);
	return (0);
}

/*
 * The value of column i (0-based) of the current row; strings point
 * into db-lib's row, formatted values into text (DBVALUE_TEXT_MAX
 * bytes, one buffer per column): both valid until the next row.
 */
int
db_value(struct db *db, int i, struct frame_value *v, char *text)
{
	BYTE *data;

	if (i < 0 || i >= db->ncols)
		return (-1);
	data = dbdata(db->dbproc, i + 1);
	if (dbvalue_convert(db->types[i], data, dbdatlen(db->dbproc, i + 1), v,
		text) == -1) {
		db_error_set(&db->err, DB_CLASS_PERMANENT,
		    "column %d (%s): cannot convert db-lib type %d", i + 1,
		    dbcolname(db->dbproc, i + 1), db->types[i]);
		return (-1);
	}
	return (0);
}

/* A parameter of any type from a frame value (borrowed). */
void
db_param_set(struct db_param *p, uint32_t type_id, int precision, int scale,
    int max_length, const struct frame_value *v)
{
	p->type_id = type_id;
	p->precision = precision;
	p->scale = scale;
	p->max_length = max_length;
	p->value = *v;
}

/* A bigint parameter (CT versions). */
void
db_param_bigint(struct db_param *p, int64_t i)
{
	memset(p, 0, sizeof(*p));
	p->type_id = 127;
	p->value.type = FRAME_VALUE_INT;
	p->value.v.i = i;
}

/* An nvarchar(max) parameter (the string is borrowed). */
void
db_param_nvarchar(struct db_param *p, const char *s, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->type_id = 231;
	p->max_length = -1;
	p->value.type = FRAME_VALUE_STR;
	p->value.v.s.ptr = (const uint8_t *)s;
	p->value.v.s.len = len;
}

/* A binary(len) parameter (LSNs are binary(10); borrowed). */
void
db_param_binary(struct db_param *p, const uint8_t *b, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->type_id = 173;
	p->max_length = (int)len;
	p->value.type = FRAME_VALUE_BIN;
	p->value.v.s.ptr = b;
	p->value.v.s.len = len;
}
