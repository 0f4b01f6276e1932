/*
 * Tests of the worker process (worker.c, introspect.c, backfill.c,
 * ct.c, cdc.c) against the simulator.
 *
 * Each test plays the supervisor: it starts worker_run() in a forked
 * child whose fd 3 is one end of a socketpair, sends FRAME_START and
 * reads and decodes what the worker sends with frame_decode_*().  The
 * simulator, $top_builddir/t/mssqlsim/mssqlsim, is started once on a
 * kernel-chosen port with a fresh data directory; without it the
 * program exits 77 (skipped).
 *
 * What is pinned: the SCHEMA of a table with a composite key declared
 * out of table order (names, types, precision, scale, lengths,
 * nullability, key ordinals, computed columns) and columns.include /
 * exclude; the FAILED errors (exit 1) for a table without a primary
 * key, a missing table (208), a table with neither CDC nor Change
 * Tracking (with the SQL that enables it), an unknown column name, a
 * denied SELECT (229) and a failed login (18456); a backfill of
 * thousands of rows in several chunks, in key order with exact values,
 * watermarks carrying the last key, PROGRESS and BACKFILL_DONE; values
 * of 200 KB (batches cut at 1 MiB, watermarks inside a chunk); resuming
 * after a last key (kill -9 of the worker); resuming in streaming (a
 * watermark at the resume position first); the server dying in the
 * middle of a backfill (reconnect with backoff, every row once);
 * skip_backfills; STOP; the composite-key predicates evaluated by the
 * server (collation included).
 *
 * Until the simulator has Change Tracking and CDC, the backfill tests
 * run the worker with stub capture operations (a fixed fence, no
 * changes): the chunking, typed key parameters, positions and frames
 * are the worker's own.  The end-to-end Change Tracking and CDC tests
 * are written against documented SQL Server behaviour and skip
 * themselves (tcase-level, reported on stderr) while the simulator
 * does not answer CHANGE_TRACKING_CURRENT_VERSION() or
 * sys.sp_cdc_enable_db.  CHECK_WORKER_DEBUG=1 in the environment logs
 * the workers at debug level (every server message and error).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

#define TEST_SA_PASSWORD "Check_worker1"
#define TEST_DB "wk"
#define TEST_TIMEOUT_MS 20000

/* The simulator. */
static pid_t sim_pid;
static int sim_port;
static char sim_dir[PATH_MAX];
static int sim_has_ct;
static int sim_has_cdc;
static const char *test_user = "sa"; /* of the worker's configuration */
static const char *test_password = TEST_SA_PASSWORD;

/* One worker under test and what it sent. */
struct sup {
	pid_t pid;
	int fd;
	struct frame_reader *rd;
	struct config *cfg;
	char cfgpath[PATH_MAX + 64];
	struct frame_schema schema;
	int have_schema;
	/* Collected from FRAME_EVENTS: one line of text per event. */
	char **events;
	size_t nevents;
	/* The last FRAME_WATERMARK. */
	uint8_t *cursor;
	size_t cursorlen;
	uint8_t *lastkey; /* frame_values_pack() */
	size_t lastkeylen;
	uint8_t wpos[FRAME_MAX_POS];
	size_t wposlen;
	int nwatermarks;
	int64_t done_rows; /* FRAME_BACKFILL_DONE, -1 none */
	struct frame_progress progress; /* the last FRAME_PROGRESS */
	int nprogress;
	enum frame_error_code error_code;
	char *error; /* FRAME_ERROR message */
};

static int stub_fence(struct worker *, uint8_t *, int *);
static int stub_changes(struct worker *, const uint8_t *, int);
static void stub_tail(uint64_t, uint8_t *);

/* Capture operations with a fixed fence (version 7) and no changes. */
static const struct worker_ops stub_ops = {
	.mode = FRAME_MODE_CT,
	.tag = 'T',
	.fencelen = 8,
	.poslen = FRAME_POS_CT_SIZE,
	.fence = stub_fence,
	.changes = stub_changes,
	.snapshot_tail = stub_tail,
};

static int
stub_fence(struct worker *w, uint8_t *fence, int *lost)
{
	(void)w;
	memset(fence, 0, 8);
	fence[7] = 7;
	*lost = 0;
	return (0);
}

static int
stub_changes(struct worker *w, const uint8_t *fence, int keyed)
{
	(void)w;
	(void)fence;
	(void)keyed;
	return (0);
}

static void
stub_tail(uint64_t seq, uint8_t *tail)
{
	uint64_t v = (UINT64_C(1) << 63) + seq;
	int i;

	for (i = 7; i >= 0; i--) {
		tail[i] = v & 0xff;
		v >>= 8;
	}
}

/* Wait up to 10 s for something to listen on the port. */
static int
sim_wait_port(int port)
{
	struct sockaddr_in sin;
	int fd, i, ok = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 100 && !ok; i++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return (0);
		ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
		close(fd);
		if (!ok)
			usleep(100 * 1000);
	}
	return (ok);
}

/* Run a simulator on dir and port (0: any); 0 if it does not start. */
static int
sim_spawn(const char *dir, int port, pid_t *pidp, int *portp)
{
	const char *top = getenv("top_builddir");
	char bin[PATH_MAX], listen[64];
	int fds[2];
	FILE *f;

	snprintf(bin, sizeof(bin), "%s/t/mssqlsim/mssqlsim",
	    top != NULL ? top : ".");
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	if (access(bin, X_OK) != 0 || pipe(fds) == -1)
		return (0);
	if ((*pidp = fork()) == -1)
		return (0);
	if (*pidp == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(bin, bin, "--listen", listen, "--data", dir,
		    "--sa-password", TEST_SA_PASSWORD, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (port != 0) {
		/* It prints its port only when it chose it. */
		close(fds[0]);
		*portp = port;
		return (sim_wait_port(port));
	}
	if ((f = fdopen(fds[0], "r")) == NULL)
		return (0);
	if (fscanf(f, "port %d", portp) != 1) {
		fclose(f);
		return (0);
	}
	fclose(f);
	return (1);
}

/* Start the simulator; 0 if it is not built. */
static int
sim_start(void)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(sim_dir, sizeof(sim_dir), "%s/check_worker.XXXXXX", base);
	if (mkdtemp(sim_dir) == NULL)
		return (0);
	if (!sim_spawn(sim_dir, 0, &sim_pid, &sim_port))
		return (0);
	return (1);
}

/* Stop the simulator and remove its data. */
static void
sim_stop(void)
{
	char cmd[PATH_MAX + 16];
	int status;

	if (sim_pid > 0) {
		kill(sim_pid, SIGTERM);
		waitpid(sim_pid, &status, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sim_dir);
	if (sim_dir[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "check_worker: cannot remove %s\n", sim_dir);
}

/* A connection as sa to database db; NULL and a message if none. */
static struct db *
admin_connect(const char *db)
{
	struct config cfg;
	struct db_error err;
	struct db *d;
	char host[] = "127.0.0.1", user[] = "sa", password[] = TEST_SA_PASSWORD;

	memset(&cfg, 0, sizeof(cfg));
	cfg.host = host;
	cfg.port = sim_port;
	cfg.user = user;
	cfg.password = password;
	cfg.database = (char *)db;
	cfg.tls.encrypt = CONFIG_ENCRYPT_REQUEST;
	if ((d = db_open(&cfg, &err)) == NULL)
		fprintf(stderr, "check_worker: db_open %s: %s\n", db, err.text);
	return (d);
}

/* A connection as sa to database db, or fail the test. */
static struct db *
admin_open(const char *db)
{
	struct db *d = admin_connect(db);

	ck_assert(d != NULL);
	return (d);
}

/* Run SQL in the test database, or fail the test. */
static void
admin_run(const char *sql)
{
	struct db *d = admin_open(TEST_DB);

	ck_assert_msg(
	    db_run(d, sql) == 0, "%.200s: %s", sql, db_error(d)->text);
	db_close(d);
}

/* Run SQL in master, or fail the test. */
static void
admin_run_master(const char *sql)
{
	struct db *d = admin_open("master");

	ck_assert_msg(db_run(d, sql) == 0, "%s: %s", sql, db_error(d)->text);
	db_close(d);
}

/* Whether a batch succeeds in the test database (outside tests). */
static int
admin_try(const char *sql)
{
	struct db *d = admin_connect(TEST_DB);
	int rc;

	if (d == NULL)
		return (0);
	rc = db_run(d, sql);
	db_close(d);
	return (rc == 0);
}

/* Create the test database once; find what the simulator supports. */
static int
sim_prepare(void)
{
	struct db *d = admin_connect("master");

	if (d == NULL)
		return (-1);
	if (db_run(d, "CREATE DATABASE " TEST_DB) != 0)
		fprintf(stderr, "CREATE DATABASE: %s\n", db_error(d)->text);
	db_close(d);
	sim_has_ct = admin_try("SELECT CHANGE_TRACKING_CURRENT_VERSION()");
	sim_has_cdc = admin_try("EXEC sys.sp_cdc_enable_db");
	if (!sim_has_ct)
		fprintf(stderr,
		    "check_worker: the simulator has no Change "
		    "Tracking: end-to-end CT tests skipped\n");
	if (!sim_has_cdc)
		fprintf(stderr,
		    "check_worker: the simulator has no CDC: "
		    "end-to-end CDC tests skipped\n");
	return (0);
}

/*
 * Load a configuration for one binding; extra is more JSON keys at the
 * top level (with a trailing comma), binding more keys of the binding.
 */
static void
sup_config(
    struct sup *s, const char *extra, const char *table, const char *binding)
{
	struct config_errors errs;
	FILE *f;

	snprintf(s->cfgpath, sizeof(s->cfgpath), "%s/worker.%d.json", sim_dir,
	    (int)getpid());
	f = fopen(s->cfgpath, "w");
	ck_assert(f != NULL);
	fprintf(f,
	    "{\"address\": \"127.0.0.1:%d\", \"database\": \"" TEST_DB "\","
	    " \"user\": \"%s\", \"password\": \"%s\","
	    " \"tls\": {\"encrypt\": \"off\"}, %s"
	    " \"bindings\": [{\"namespace\": \"dbo\", \"stream\": \"%s\"%s}]}",
	    sim_port, test_user, test_password, extra != NULL ? extra : "",
	    table, binding != NULL ? binding : "");
	fclose(f);
	s->cfg = config_load(s->cfgpath, &errs);
	ck_assert_msg(
	    s->cfg != NULL, "config: %s", errs.n > 0 ? errs.msgs[0] : "?");
}

/* Start a worker for the binding (ops NULL: the real ones). */
static void
sup_start(struct sup *s, const struct worker_ops *ops)
{
	int sv[2];

	ck_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	s->pid = fork();
	ck_assert(s->pid != -1);
	if (s->pid == 0) {
		close(sv[0]);
		if (sv[1] != WORKER_FD) {
			dup2(sv[1], WORKER_FD);
			close(sv[1]);
		}
		log_init("check_worker",
		    getenv("CHECK_WORKER_DEBUG") != NULL ? LOG_LEVEL_DEBUG
							 : LOG_LEVEL_WARN,
		    0);
		_exit(worker_run(s->cfg, 0, 0, WORKER_FD, ops));
	}
	close(sv[1]);
	s->fd = sv[0];
	s->rd = frame_reader_create(0);
	s->done_rows = -1;
}

/* Read the next frame (PROGRESS skipped), failing after a timeout. */
static int
sup_next(struct sup *s, struct frame *f)
{
	struct pollfd pfd;
	char *cause = NULL;
	int rc;

	for (;;) {
		rc = frame_reader_pop(s->rd, f, &cause);
		ck_assert_msg(rc != -1, "bad frame: %s", cause);
		if (rc == 1 && f->hdr.type == FRAME_PROGRESS) {
			ck_assert_msg(
			    frame_decode_progress(f, &s->progress, &cause) == 0,
			    "%s", cause);
			s->nprogress++;
			continue;
		}
		if (rc == 1)
			return (1);
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, TEST_TIMEOUT_MS);
		ck_assert_msg(rc == 1, "no frame from the worker");
		rc = (int)frame_reader_read(s->rd, s->fd);
		if (rc == 0)
			return (0);
		ck_assert(rc > 0);
	}
}

/* Send a frame to the worker. */
static void
sup_send(struct sup *s, uint8_t *buf, size_t len)
{
	ck_assert(buf != NULL);
	ck_assert(write(s->fd, buf, len) == (ssize_t)len);
	free(buf);
}

/* Expect HELLO, then send START. */
static void
sup_hello(struct sup *s, enum frame_phase phase, const uint8_t *cursor,
    size_t cursorlen, const uint8_t *key, size_t keylen)
{
	struct frame_hello h;
	struct frame_start m;
	struct frame f;
	char *cause = NULL;
	uint8_t *buf;
	size_t len;

	ck_assert_int_eq(sup_next(s, &f), 1);
	ck_assert_msg(frame_decode_hello(&f, &h, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(h.version, PROTOCOL_VERSION);
	ck_assert_uint_eq(h.binding_id, 0);
	memset(&m, 0, sizeof(m));
	m.phase = phase;
	m.cursor = cursor;
	m.cursorlen = cursorlen;
	if (key != NULL)
		ck_assert(
		    frame_values_unpack(key, keylen, &m.key, &cause) == 0);
	buf = frame_pack_start(&m, 0, 0, &len);
	sup_send(s, buf, len);
	frame_values_free(&m.key);
}

/* One event as text: "op snap pos-ordinal|v1|v2|...". */
static char *
sup_event_text(const struct frame_schema *schema, const struct frame_event *ev)
{
	struct json_buf b;
	char head[64], *s;
	size_t i;

	json_buf_init(&b);
	snprintf(head, sizeof(head), "%c%s", ev->op, ev->snapshot ? "s" : "");
	json_add(&b, head, strlen(head));
	for (i = 0; i < schema->ncolumns; i++) {
		json_add(&b, "|", 1);
		if (ev->values[i].type == FRAME_VALUE_ABSENT)
			json_add(&b, "-", 1);
		else
			json_write_value(&b, &ev->values[i]);
	}
	s = xstrndup(b.data, b.len);
	json_buf_free(&b);
	return (s);
}

/* Handle one data frame; returns its type. */
static uint32_t
sup_take(struct sup *s, const struct frame *f)
{
	struct frame_events evs;
	struct frame_watermark wm;
	struct frame_backfill_done bd;
	struct frame_error er;
	char *cause = NULL;
	size_t i;

	switch (f->hdr.type) {
	case FRAME_SCHEMA:
		if (s->have_schema)
			frame_schema_free(&s->schema);
		ck_assert_msg(frame_decode_schema(f, &s->schema, &cause) == 0,
		    "%s", cause);
		s->have_schema = 1;
		break;
	case FRAME_EVENTS:
		ck_assert(s->have_schema);
		ck_assert_msg(
		    frame_decode_events(f, &s->schema, &evs, &cause) == 0, "%s",
		    cause);
		s->events = xreallocarray(
		    s->events, s->nevents + evs.n, sizeof(*s->events));
		for (i = 0; i < evs.n; i++) {
			if (s->wposlen != 0)
				ck_assert_msg(memcmp(evs.events[i].pos, s->wpos,
						  s->wposlen) > 0,
				    "event at or below the last watermark");
			s->events[s->nevents++] =
			    sup_event_text(&s->schema, &evs.events[i]);
		}
		frame_events_free(&evs);
		break;
	case FRAME_WATERMARK:
		ck_assert_msg(
		    frame_decode_watermark(f, &wm, &cause) == 0, "%s", cause);
		free(s->cursor);
		s->cursor = xmalloc(wm.cursorlen + 1);
		memcpy(s->cursor, wm.cursor, wm.cursorlen);
		s->cursorlen = wm.cursorlen;
		free(s->lastkey);
		s->lastkey = NULL;
		if (wm.key.n != 0)
			s->lastkey = frame_values_pack(&wm.key, &s->lastkeylen);
		memcpy(s->wpos, wm.pos, wm.poslen);
		s->wposlen = wm.poslen;
		s->nwatermarks++;
		frame_watermark_free(&wm);
		break;
	case FRAME_BACKFILL_DONE:
		ck_assert(frame_decode_backfill_done(f, &bd, &cause) == 0);
		s->done_rows = (int64_t)bd.rows;
		break;
	case FRAME_ERROR:
		ck_assert(frame_decode_error(f, &er, &cause) == 0);
		s->error_code = er.code;
		s->error = xstrdup(er.message);
		frame_error_free(&er);
		break;
	default:
		ck_abort_msg("unexpected %s", frame_type_name(f->hdr.type));
	}
	return (f->hdr.type);
}

/* Read frames until one of type (or EOF: 0). */
static uint32_t
sup_until(struct sup *s, uint32_t type)
{
	struct frame f;
	uint32_t t;

	while (sup_next(s, &f) == 1) {
		if ((t = sup_take(s, &f)) == type)
			return (t);
	}
	return (0);
}

/* Send STOP (or not) and wait for the worker; its exit status. */
static int
sup_finish(struct sup *s, int stop)
{
	uint8_t *buf;
	size_t len, i;
	int status;

	if (stop) {
		buf = frame_pack_stop(0, 0, &len);
		sup_send(s, buf, len);
		while (sup_until(s, FRAME_ERROR) != 0)
			;
	}
	close(s->fd);
	ck_assert(waitpid(s->pid, &status, 0) == s->pid);
	frame_reader_free(s->rd);
	if (s->have_schema)
		frame_schema_free(&s->schema);
	for (i = 0; i < s->nevents; i++)
		free(s->events[i]);
	free(s->events);
	free(s->cursor);
	free(s->lastkey);
	free(s->error);
	config_free(s->cfg);
	unlink(s->cfgpath);
	ck_assert(WIFEXITED(status));
	return (WEXITSTATUS(status));
}

/* A worker that must fail: its FRAME_ERROR message. */
static char *
sup_expect_error(const char *table, const char *binding)
{
	struct sup s;
	char *msg;

	memset(&s, 0, sizeof(s));
	sup_config(&s, NULL, table, binding);
	sup_start(&s, NULL);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	ck_assert_uint_eq(sup_until(&s, FRAME_ERROR), FRAME_ERROR);
	ck_assert_int_eq(s.error_code, FRAME_ERROR_FAILED);
	msg = xstrdup(s.error);
	ck_assert_int_eq(sup_finish(&s, 0), 1);
	return (msg);
}

/* Insert rows 1..n into dbo.<table> (region, id, amount, note). */
static void
fill_orders(const char *table, int n)
{
	static const char *regions[] = { "us", "eu", "ap", "sa" };
	char *sql = NULL, *row, *next;
	int i;

	for (i = 1; i <= n; i++) {
		if (sql == NULL)
			xasprintf(&sql,
			    "INSERT INTO dbo.%s (region, id, amount, "
			    "note) VALUES",
			    table);
		if (i % 7 == 0)
			xasprintf(&row, "(N'%s', %d, %d.%02d, NULL)",
			    regions[i % 4], i, i * 5 / 4, (i * 125) % 100);
		else
			xasprintf(&row, "(N'%s', %d, %d.%02d, 'n%d')",
			    regions[i % 4], i, i * 5 / 4, (i * 125) % 100, i);
		xasprintf(
		    &next, "%s%s %s", sql, (i - 1) % 500 == 0 ? "" : ",", row);
		free(sql);
		free(row);
		sql = next;
		if (i % 500 == 0 || i == n) {
			admin_run(sql);
			free(sql);
			sql = NULL;
		}
	}
}

/* The text sup_event_text() gives for row i of fill_orders(). */
static char *
order_text(int i)
{
	static const char *regions[] = { "us", "eu", "ap", "sa" };
	char *s;

	if (i % 7 == 0)
		xasprintf(&s, "cs|\"%s\"|%d|\"%d.%02d\"|null|%d",
		    regions[i % 4], i, i * 5 / 4, (i * 125) % 100, 2 * i);
	else
		xasprintf(&s, "cs|\"%s\"|%d|\"%d.%02d\"|\"n%d\"|%d",
		    regions[i % 4], i, i * 5 / 4, (i * 125) % 100, i, 2 * i);
	return (s);
}

/* Order of the key (region, id) for the fill: region, then id. */
static int
order_cmp(const void *a, const void *b)
{
	static const char *regions[] = { "us", "eu", "ap", "sa" };
	int x = *(const int *)a, y = *(const int *)b, c;

	c = strcmp(regions[x % 4], regions[y % 4]);
	return (c != 0 ? c : (x > y) - (x < y));
}

/* Create and fill dbo.<table> with n rows. */
static void
make_orders(const char *table, int n)
{
	char *sql;

	xasprintf(&sql,
	    "CREATE TABLE dbo.%s (region nvarchar(10) NOT NULL, id int NOT "
	    "NULL, amount decimal(10,2) NULL, note varchar(max) NULL, "
	    "twice AS (id * 2), PRIMARY KEY (region, id))",
	    table);
	admin_run(sql);
	free(sql);
	fill_orders(table, n);
}

/* Check the events are rows ids[from..n) of fill_orders in key order. */
static void
check_orders(struct sup *s, int n, int skip)
{
	int *ids, i;
	char *want;

	ids = xcalloc(n, sizeof(*ids));
	for (i = 0; i < n; i++)
		ids[i] = i + 1;
	qsort(ids, n, sizeof(*ids), order_cmp);
	ck_assert_uint_eq(s->nevents, (size_t)(n - skip));
	for (i = skip; i < n; i++) {
		want = order_text(ids[i]);
		ck_assert_msg(strcmp(s->events[i - skip], want) == 0,
		    "event %d: %s, want %s", i - skip, s->events[i - skip],
		    want);
		free(want);
	}
	free(ids);
}

START_TEST(test_schema_composite)
{
	struct sup s;
	const struct frame_column *c;

	admin_run("CREATE TABLE dbo.sch (a int NOT NULL, region nvarchar(10) "
		  "NOT NULL, id bigint NOT NULL, amount decimal(12,3) NULL, "
		  "t datetime2(3) NULL, secret varchar(20) NULL, twice AS "
		  "(id * 2), PRIMARY KEY (id, region))");
	memset(&s, 0, sizeof(s));
	sup_config(
	    &s, NULL, "sch", ", \"columns\": {\"exclude\": [\"secret\"]}");
	sup_start(&s, &stub_ops);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	ck_assert_uint_eq(sup_until(&s, FRAME_SCHEMA), FRAME_SCHEMA);
	ck_assert_str_eq(s.schema.db, TEST_DB);
	ck_assert_str_eq(s.schema.schema, "dbo");
	ck_assert_str_eq(s.schema.table, "sch");
	ck_assert_int_eq(s.schema.mode, FRAME_MODE_CT);
	ck_assert_uint_eq(s.schema.ncolumns, 6);
	c = s.schema.columns;
	ck_assert_str_eq(c[0].name, "a");
	ck_assert_str_eq(c[0].type_name, "int");
	ck_assert_uint_eq(c[0].type_id, 56);
	ck_assert_uint_eq(c[0].key_ordinal, 0);
	ck_assert_int_eq(c[0].nullable, 0);
	ck_assert_str_eq(c[1].name, "region");
	ck_assert_str_eq(c[1].type_name, "nvarchar");
	ck_assert_uint_eq(c[1].type_id, 231);
	ck_assert_int_eq(c[1].max_length, 20);
	ck_assert_uint_eq(c[1].key_ordinal, 2);
	ck_assert_str_eq(c[2].name, "id");
	ck_assert_uint_eq(c[2].type_id, 127);
	ck_assert_uint_eq(c[2].key_ordinal, 1);
	ck_assert_str_eq(c[3].name, "amount");
	ck_assert_uint_eq(c[3].type_id, 106);
	ck_assert_uint_eq(c[3].precision, 12);
	ck_assert_uint_eq(c[3].scale, 3);
	ck_assert_int_eq(c[3].nullable, 1);
	ck_assert_str_eq(c[4].name, "t");
	ck_assert_str_eq(c[4].type_name, "datetime2");
	ck_assert_uint_eq(c[4].scale, 3);
	ck_assert_str_eq(c[5].name, "twice");
	ck_assert_int_eq(c[5].computed, 1);
	/* An empty table: one chunk, no rows, done. */
	ck_assert_uint_eq(
	    sup_until(&s, FRAME_BACKFILL_DONE), FRAME_BACKFILL_DONE);
	ck_assert_int_eq(s.done_rows, 0);
	ck_assert_uint_eq(s.nevents, 0);
	ck_assert_int_eq(sup_finish(&s, 1), 0);
}
END_TEST

START_TEST(test_include)
{
	struct sup s;

	admin_run("CREATE TABLE dbo.inc (id int PRIMARY KEY, a int, b int, "
		  "c int)");
	memset(&s, 0, sizeof(s));
	sup_config(&s, NULL, "inc", ", \"columns\": {\"include\": [\"C\"]}");
	sup_start(&s, &stub_ops);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	ck_assert_uint_eq(sup_until(&s, FRAME_SCHEMA), FRAME_SCHEMA);
	ck_assert_uint_eq(s.schema.ncolumns, 2); /* the key is kept */
	ck_assert_str_eq(s.schema.columns[0].name, "id");
	ck_assert_str_eq(s.schema.columns[1].name, "c");
	ck_assert_int_eq(sup_finish(&s, 1), 0);
}
END_TEST

START_TEST(test_no_primary_key)
{
	char *msg;

	admin_run("CREATE TABLE dbo.nopk (id int, v int)");
	msg = sup_expect_error("nopk", NULL);
	ck_assert_msg(
	    strstr(msg, "dbo.nopk has no primary key") == msg, "%s", msg);
	free(msg);
}
END_TEST

START_TEST(test_missing_table)
{
	char *msg;

	msg = sup_expect_error("nosuch", NULL);
	ck_assert_msg(strstr(msg, "dbo.nosuch: ") == msg, "%s", msg);
	ck_assert_msg(strstr(msg, "(208)") != NULL, "%s", msg);
	free(msg);
}
END_TEST

START_TEST(test_not_tracked)
{
	char *msg;

	if (sim_has_ct)
		admin_run(
		    "IF DATABASEPROPERTYEX(DB_NAME(), "
		    "'IsChangeTrackingEnabled') = 0 ALTER DATABASE " TEST_DB
		    " SET CHANGE_TRACKING = ON");
	admin_run("CREATE TABLE dbo.plain (id int PRIMARY KEY, v int)");
	msg = sup_expect_error("plain", NULL);
	ck_assert_msg(strstr(msg,
			  "dbo.plain: neither CDC nor Change Tracking is "
			  "enabled; enable it with: ") == msg,
	    "%s", msg);
	ck_assert_msg(strstr(msg,
			  "ALTER TABLE [dbo].[plain] ENABLE "
			  "CHANGE_TRACKING") != NULL,
	    "%s", msg);
	if (!sim_has_ct)
		ck_assert_msg(strstr(msg,
				  "ALTER DATABASE [" TEST_DB "] SET "
				  "CHANGE_TRACKING = ON") != NULL,
		    "%s", msg);
	free(msg);
}
END_TEST

START_TEST(test_unknown_column)
{
	char *msg;

	admin_run("CREATE TABLE dbo.uc (id int PRIMARY KEY, v int)");
	msg = sup_expect_error("uc", ", \"columns\": {\"exclude\": [\"w\"]}");
	ck_assert_msg(
	    strstr(msg, "dbo.uc: columns.exclude names w") == msg, "%s", msg);
	free(msg);
}
END_TEST

START_TEST(test_backfill_chunks)
{
	struct sup s;
	int n = 2345;

	make_orders("bf", n);
	memset(&s, 0, sizeof(s));
	sup_config(
	    &s, "\"advanced\": {\"backfill_chunk_size\": 400},", "bf", NULL);
	sup_start(&s, &stub_ops);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	ck_assert_uint_eq(
	    sup_until(&s, FRAME_BACKFILL_DONE), FRAME_BACKFILL_DONE);
	ck_assert_int_eq(s.done_rows, n);
	check_orders(&s, n, 0);
	/* PROGRESS follows BACKFILL_DONE; a poll's watermark follows. */
	ck_assert_uint_eq(sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	ck_assert_int_ge(s.nprogress, 2);
	ck_assert_uint_eq(s.progress.rows_done, n);
	ck_assert_uint_eq(s.progress.rows_estimate, n);
	/* One watermark per chunk at least (6 chunks of 400). */
	ck_assert_int_ge(s.nwatermarks, 6);
	ck_assert_int_eq(sup_finish(&s, 1), 0);
}
END_TEST

START_TEST(test_backfill_resume)
{
	struct sup s;
	uint8_t *cursor, *key;
	size_t cursorlen, keylen;
	int n = 1200, i, *ids, seen;

	make_orders("rs", n);
	/* First run: stop after the first chunk's watermark. */
	memset(&s, 0, sizeof(s));
	sup_config(
	    &s, "\"advanced\": {\"backfill_chunk_size\": 300},", "rs", NULL);
	sup_start(&s, &stub_ops);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	while (s.lastkey == NULL)
		ck_assert_uint_eq(
		    sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	seen = (int)s.nevents;
	ck_assert_int_ge(seen, 300);
	cursor = xmalloc(s.cursorlen);
	memcpy(cursor, s.cursor, s.cursorlen);
	cursorlen = s.cursorlen;
	key = xmalloc(s.lastkeylen);
	memcpy(key, s.lastkey, s.lastkeylen);
	keylen = s.lastkeylen;
	/* The events up to the watermark are rows 0..seen in key order. */
	ids = xcalloc(n, sizeof(*ids));
	for (i = 0; i < n; i++)
		ids[i] = i + 1;
	qsort(ids, n, sizeof(*ids), order_cmp);
	kill(s.pid, SIGKILL);
	close(s.fd);
	s.fd = -1;
	waitpid(s.pid, NULL, 0);
	frame_reader_free(s.rd);
	frame_schema_free(&s.schema);
	for (i = 0; i < (int)s.nevents; i++)
		free(s.events[i]);
	free(s.events);
	free(s.cursor);
	free(s.lastkey);
	config_free(s.cfg);
	/* Second run: resumes right after the last key. */
	memset(&s, 0, sizeof(s));
	sup_config(
	    &s, "\"advanced\": {\"backfill_chunk_size\": 300},", "rs", NULL);
	sup_start(&s, &stub_ops);
	sup_hello(&s, FRAME_PHASE_BACKFILL, cursor, cursorlen, key, keylen);
	ck_assert_uint_eq(
	    sup_until(&s, FRAME_BACKFILL_DONE), FRAME_BACKFILL_DONE);
	ck_assert_int_eq(s.done_rows, n); /* counted across the restart */
	check_orders(&s, n, seen);
	ck_assert_int_eq(sup_finish(&s, 1), 0);
	free(ids);
	free(cursor);
	free(key);
}
END_TEST

START_TEST(test_skip_backfill)
{
	struct sup s;

	make_orders("sk", 50);
	memset(&s, 0, sizeof(s));
	sup_config(&s,
	    "\"advanced\": {\"skip_backfills\": \"dbo.other,dbo.sk\", "
	    "\"poll_interval_ms\": 50},",
	    "sk", NULL);
	sup_start(&s, &stub_ops);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	ck_assert_uint_eq(
	    sup_until(&s, FRAME_BACKFILL_DONE), FRAME_BACKFILL_DONE);
	ck_assert_int_eq(s.done_rows, 0);
	ck_assert_uint_eq(s.nevents, 0);
	ck_assert_int_eq(s.nwatermarks, 1);
	ck_assert(s.lastkey == NULL);
	/* Streaming: a watermark every poll even when idle. */
	ck_assert_uint_eq(sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	ck_assert_uint_eq(sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	ck_assert_uint_eq(s.nevents, 0);
	ck_assert_int_eq(sup_finish(&s, 1), 0);
}
END_TEST

START_TEST(test_stop_in_backfill)
{
	struct sup s;
	uint8_t *buf;
	size_t len;

	make_orders("st", 600);
	memset(&s, 0, sizeof(s));
	sup_config(
	    &s, "\"advanced\": {\"backfill_chunk_size\": 100},", "st", NULL);
	sup_start(&s, &stub_ops);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	ck_assert_uint_eq(sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	buf = frame_pack_stop(0, 0, &len);
	sup_send(&s, buf, len);
	while (sup_until(&s, FRAME_BACKFILL_DONE) != 0)
		;
	/* Stopped at a chunk boundary: a watermark covers what it sent. */
	ck_assert(
	    memcmp(s.cursor + 1 + FRAME_POS_CT_SIZE, "\0\0\0\0\0\0", 6) == 0);
	ck_assert_int_eq(sup_finish(&s, 0), 0);
}
END_TEST

START_TEST(test_permission_denied)
{
	struct db *d;
	char *msg;

	admin_run("CREATE TABLE dbo.perm (id int PRIMARY KEY, v int)");
	d = admin_open("master");
	ck_assert_msg(db_run(d,
			  "CREATE LOGIN capt_user WITH PASSWORD = "
			  "'Capt_user1'") == 0,
	    "%s", db_error(d)->text);
	db_close(d);
	admin_run("CREATE USER capt_user FOR LOGIN capt_user");
	admin_run("DENY SELECT ON dbo.perm TO capt_user");
	test_user = "capt_user";
	test_password = "Capt_user1";
	msg = sup_expect_error("perm", NULL);
	test_user = "sa";
	test_password = TEST_SA_PASSWORD;
	ck_assert_msg(strstr(msg, "dbo.perm: ") == msg, "%s", msg);
	ck_assert_msg(strstr(msg, "SELECT permission") != NULL, "%s", msg);
	ck_assert_msg(strstr(msg, "(229)") != NULL, "%s", msg);
	free(msg);
}
END_TEST

START_TEST(test_bad_login)
{
	char *msg;

	test_password = "wrong";
	msg = sup_expect_error("perm", NULL);
	test_password = TEST_SA_PASSWORD;
	ck_assert_msg(strstr(msg, "(18456)") != NULL, "%s", msg);
	free(msg);
}
END_TEST

START_TEST(test_resume_streaming)
{
	struct sup s;
	uint8_t cursor[1 + FRAME_POS_CT_SIZE + 8 + 1];

	admin_run("CREATE TABLE dbo.rsm (id int PRIMARY KEY, v int)");
	/* A cursor "done up to version 5", streaming. */
	memset(cursor, 0, sizeof(cursor));
	cursor[0] = 'T';
	cursor[8] = 5;
	memset(cursor + 9, 0xff, 8);
	cursor[sizeof(cursor) - 1] = WORKER_CURSOR_POS;
	memset(&s, 0, sizeof(s));
	sup_config(
	    &s, "\"advanced\": {\"poll_interval_ms\": 50},", "rsm", NULL);
	sup_start(&s, &stub_ops);
	sup_hello(&s, FRAME_PHASE_STREAMING, cursor, sizeof(cursor), NULL, 0);
	/* First a watermark at the resume position (merge.c rule 3). */
	ck_assert_uint_eq(sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	ck_assert_uint_eq(s.wposlen, FRAME_POS_CT_SIZE);
	ck_assert(memcmp(s.wpos, cursor + 1, FRAME_POS_CT_SIZE) == 0);
	ck_assert_uint_eq(s.cursorlen, sizeof(cursor));
	ck_assert(memcmp(s.cursor, cursor, sizeof(cursor)) == 0);
	/* Then the polls, up to the fence (stub: version 7); no backfill. */
	ck_assert_uint_eq(sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	ck_assert_int_eq(s.wpos[7], 7);
	ck_assert_int_eq(s.done_rows, -1);
	ck_assert_uint_eq(s.nevents, 0);
	ck_assert_int_eq(sup_finish(&s, 1), 0);
}
END_TEST

/*
 * Large values: batches are cut at about 1 MiB, so watermarks come in
 * the middle of a chunk, each with the key of the last row sent.
 */
START_TEST(test_backfill_large)
{
	struct sup s;
	char *sql, *want;
	size_t i, n = 24, size = 200000;

	admin_run("CREATE TABLE dbo.big (id int PRIMARY KEY, doc "
		  "varchar(max) NOT NULL)");
	for (i = 1; i <= n; i++) {
		xasprintf(&sql,
		    "INSERT INTO dbo.big VALUES (%zu, REPLICATE(CAST('%c' AS "
		    "varchar(max)), %zu))",
		    i, (int)('a' + i % 26), size + i);
		admin_run(sql);
		free(sql);
	}
	memset(&s, 0, sizeof(s));
	sup_config(&s, NULL, "big", NULL);
	sup_start(&s, &stub_ops);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	ck_assert_uint_eq(
	    sup_until(&s, FRAME_BACKFILL_DONE), FRAME_BACKFILL_DONE);
	ck_assert_uint_eq(s.nevents, n);
	for (i = 1; i <= n; i++) {
		want = xmalloc(size + i + 1);
		memset(want, 'a' + i % 26, size + i);
		want[size + i] = '\0';
		xasprintf(&sql, "cs|%zu|\"%s\"", i, want);
		ck_assert_msg(strcmp(s.events[i - 1], sql) == 0, "row %zu", i);
		free(sql);
		free(want);
	}
	/* 24 rows of 200 KB: about 5 batches, each covered at once. */
	ck_assert_int_ge(s.nwatermarks, 4);
	ck_assert_int_eq(sup_finish(&s, 1), 0);
}
END_TEST

/*
 * The server dies in the middle of a backfill and comes back: the
 * worker reconnects with backoff and resumes from its last watermark,
 * in process; every row arrives once, in order.
 */
START_TEST(test_reconnect)
{
	struct sup s;
	char dir[PATH_MAX + 16];
	pid_t pid;
	int port, port2, main_port = sim_port, status;

	snprintf(dir, sizeof(dir), "%s/reconnect", sim_dir);
	ck_assert(mkdir(dir, 0700) == 0);
	ck_assert(sim_spawn(dir, 0, &pid, &port));
	sim_port = port; /* admin_*() and sup_config() use it */
	admin_run_master("CREATE DATABASE " TEST_DB);
	make_orders("rc", 1000);
	memset(&s, 0, sizeof(s));
	sup_config(
	    &s, "\"advanced\": {\"backfill_chunk_size\": 100},", "rc", NULL);
	sup_start(&s, &stub_ops);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	while (s.lastkey == NULL)
		ck_assert_uint_eq(
		    sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	usleep(300 * 1000);
	ck_assert(sim_spawn(dir, port, &pid, &port2));
	ck_assert_int_eq(port2, port);
	ck_assert_uint_eq(
	    sup_until(&s, FRAME_BACKFILL_DONE), FRAME_BACKFILL_DONE);
	ck_assert_int_eq(s.done_rows, 1000);
	check_orders(&s, 1000, 0);
	ck_assert_int_eq(sup_finish(&s, 1), 0);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	sim_port = main_port;
}
END_TEST

/* Count the rows of dbo.kp at or below / above a key, in the server. */
static int64_t
count_pred(struct db *d, const struct table *t, int upper, const char *region,
    int64_t id)
{
	struct frame_values key;
	struct frame_value kv[2], v;
	struct db_param p[2];
	char *pred, *sql, text[DBVALUE_TEXT_MAX];
	int64_t n = -1;

	kv[0].type = FRAME_VALUE_STR;
	kv[0].v.s.ptr = (const uint8_t *)region;
	kv[0].v.s.len = strlen(region);
	kv[1].type = FRAME_VALUE_INT;
	kv[1].v.i = id;
	key.v = kv;
	key.n = 2;
	key.data = NULL;
	introspect_key_params(t, &key, p);
	/* The predicate takes @p1.., as the catch-up's takes @p3... */
	pred = introspect_key_pred(t, NULL, 1, upper);
	xasprintf(&sql, "SELECT COUNT(*) FROM dbo.kp WHERE %s", pred);
	ck_assert_msg(db_exec_params(d, sql, p, 2) == 0, "%s: %s", sql,
	    db_error(d)->text);
	ck_assert_int_eq(db_next_result(d), 1);
	while (db_next_row(d) == 1) {
		ck_assert(db_value(d, 0, &v, text) == 0);
		n = v.v.i;
	}
	ck_assert_int_eq(db_drain(d), 0);
	free(pred);
	free(sql);
	return (n);
}

/*
 * The key predicates of the catch-up ("key <= last key") and of the
 * chunks ("key > last key") split a composite key in the server's order.
 */
START_TEST(test_key_pred)
{
	static const char *regions[] = { "us", "eu", "ap", "sa" };
	struct frame_column c;
	struct table t;
	struct db *d;
	char *pred;
	int i, below = 0;

	make_orders("kp", 200);
	memset(&t, 0, sizeof(t));
	frame_schema_init(&t.fs, TEST_DB, "dbo", "kp", FRAME_MODE_CT);
	memset(&c, 0, sizeof(c));
	c.name = "region";
	c.type_name = "nvarchar";
	c.type_id = 231;
	c.max_length = 20;
	c.key_ordinal = 1;
	frame_schema_add_column(&t.fs, &c);
	c.name = "id";
	c.type_name = "int";
	c.type_id = 56;
	c.max_length = 4;
	c.key_ordinal = 2;
	frame_schema_add_column(&t.fs, &c);
	t.nkeys = 2;
	t.keys = xcalloc(2, sizeof(*t.keys));
	t.keys[0] = 0;
	t.keys[1] = 1;
	pred = introspect_key_pred(&t, "ct", 3, 1);
	ck_assert_str_eq(pred,
	    "((ct.[region] < @p3) OR (ct.[region] = @p3 AND ct.[id] <= @p4))");
	free(pred);
	for (i = 1; i <= 200; i++)
		if (strcmp(regions[i % 4], "eu") < 0 ||
		    (strcmp(regions[i % 4], "eu") == 0 && i <= 101))
			below++;
	d = admin_open(TEST_DB);
	ck_assert_int_eq(count_pred(d, &t, 1, "eu", 101), below);
	ck_assert_int_eq(count_pred(d, &t, 0, "eu", 101), 200 - below);
	/* Case-insensitive collation: 'EU' is 'eu' to the server. */
	ck_assert_int_eq(count_pred(d, &t, 1, "EU", 101), below);
	db_close(d);
	frame_schema_free(&t.fs);
	free(t.keys);
}
END_TEST

/* End to end with Change Tracking (pending simulator support). */
START_TEST(test_ct_stream)
{
	struct sup s;
	size_t i, n;

	if (!sim_has_ct) {
		fprintf(stderr,
		    "test_ct_stream: skipped (no CT in the "
		    "simulator)\n");
		return;
	}
	admin_run("IF DATABASEPROPERTYEX(DB_NAME(), "
		  "'IsChangeTrackingEnabled') = 0 ALTER DATABASE " TEST_DB
		  " SET CHANGE_TRACKING = ON");
	make_orders("cto", 1000);
	admin_run("ALTER TABLE dbo.cto ENABLE CHANGE_TRACKING");
	memset(&s, 0, sizeof(s));
	sup_config(&s,
	    "\"advanced\": {\"backfill_chunk_size\": 300, "
	    "\"poll_interval_ms\": 50},",
	    "cto", NULL);
	sup_start(&s, NULL);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	ck_assert_uint_eq(
	    sup_until(&s, FRAME_BACKFILL_DONE), FRAME_BACKFILL_DONE);
	check_orders(&s, 1000, 0);
	admin_run("INSERT INTO dbo.cto (region, id, amount, note) VALUES "
		  "(N'zz', 5000, 1.00, 'new')");
	admin_run("UPDATE dbo.cto SET note = 'upd' WHERE region = N'eu' AND "
		  "id = 1");
	admin_run("DELETE FROM dbo.cto WHERE region = N'ap' AND id = 2");
	n = s.nevents;
	while (s.nevents < n + 3)
		ck_assert_uint_eq(
		    sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	ck_assert_str_eq(s.events[n], "c|\"zz\"|5000|\"1.00\"|\"new\"|10000");
	ck_assert_str_eq(s.events[n + 1], "u|\"eu\"|1|\"1.25\"|\"upd\"|2");
	ck_assert_str_eq(s.events[n + 2], "d|\"ap\"|2|-|-|-");
	for (i = 0; i < n; i++)
		ck_assert(s.events[i][1] == 's');
	ck_assert_int_eq(sup_finish(&s, 1), 0);
}
END_TEST

/* Changes during a backfill converge (pending simulator CT). */
START_TEST(test_ct_interleave)
{
	struct sup s;

	if (!sim_has_ct) {
		fprintf(stderr,
		    "test_ct_interleave: skipped (no CT in the "
		    "simulator)\n");
		return;
	}
	admin_run("IF DATABASEPROPERTYEX(DB_NAME(), "
		  "'IsChangeTrackingEnabled') = 0 ALTER DATABASE " TEST_DB
		  " SET CHANGE_TRACKING = ON");
	make_orders("cti", 900);
	admin_run("ALTER TABLE dbo.cti ENABLE CHANGE_TRACKING");
	memset(&s, 0, sizeof(s));
	sup_config(&s,
	    "\"advanced\": {\"backfill_chunk_size\": 100, "
	    "\"poll_interval_ms\": 50},",
	    "cti", NULL);
	sup_start(&s, NULL);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	/* After the first chunk, change a copied row and a later one. */
	while (s.lastkey == NULL)
		ck_assert_uint_eq(
		    sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	admin_run("UPDATE dbo.cti SET note = 'early' WHERE region = N'ap' "
		  "AND id = 2");
	admin_run("UPDATE dbo.cti SET note = 'late' WHERE region = N'us' AND "
		  "id = 4");
	ck_assert_uint_eq(
	    sup_until(&s, FRAME_BACKFILL_DONE), FRAME_BACKFILL_DONE);
	/*
	 * The copied row's update comes as a stream event.  The later row
	 * is either copied with its new value (the backfill had not reached
	 * it when the update committed) or, if the backfill had already
	 * passed it, streamed after: which one depends on timing, so poll
	 * the stream for a while before deciding that it was lost.
	 */
	{
		size_t i;
		int early, late, polls;

		for (polls = 0;; polls++) {
			early = late = 0;
			for (i = 0; i < s.nevents; i++) {
				if (strstr(s.events[i], "\"early\"") != NULL &&
				    s.events[i][0] == 'u')
					early++;
				if (strstr(s.events[i], "\"late\"") != NULL)
					late++;
			}
			if ((early >= 1 && late >= 1) || polls == 200)
				break;
			ck_assert_uint_eq(
			    sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
		}
		ck_assert_int_eq(early, 1);
		ck_assert_int_ge(late, 1);
	}
	ck_assert_int_eq(sup_finish(&s, 1), 0);
}
END_TEST

/* End to end with CDC (pending simulator support). */
START_TEST(test_cdc_stream)
{
	struct sup s;
	size_t n;

	if (!sim_has_cdc) {
		fprintf(stderr,
		    "test_cdc_stream: skipped (no CDC in the "
		    "simulator)\n");
		return;
	}
	make_orders("cdo", 500);
	admin_run("EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', "
		  "@source_name = N'cdo', @role_name = NULL");
	memset(&s, 0, sizeof(s));
	sup_config(&s,
	    "\"advanced\": {\"backfill_chunk_size\": 200, "
	    "\"poll_interval_ms\": 50},",
	    "cdo", NULL);
	sup_start(&s, NULL);
	sup_hello(&s, FRAME_PHASE_BACKFILL, NULL, 0, NULL, 0);
	ck_assert_uint_eq(sup_until(&s, FRAME_SCHEMA), FRAME_SCHEMA);
	ck_assert_int_eq(s.schema.mode, FRAME_MODE_CDC);
	ck_assert_uint_eq(
	    sup_until(&s, FRAME_BACKFILL_DONE), FRAME_BACKFILL_DONE);
	n = s.nevents;
	ck_assert_uint_eq(n, 500);
	admin_run("UPDATE dbo.cdo SET note = 'a' WHERE region = N'eu' AND "
		  "id = 1");
	admin_run("UPDATE dbo.cdo SET note = 'b' WHERE region = N'eu' AND "
		  "id = 1");
	admin_run("DELETE FROM dbo.cdo WHERE region = N'eu' AND id = 1");
	admin_run("EXEC sys.sp_cdc_scan");
	while (s.nevents < n + 3)
		ck_assert_uint_eq(
		    sup_until(&s, FRAME_WATERMARK), FRAME_WATERMARK);
	/* Every intermediate state; computed columns are absent. */
	ck_assert_str_eq(s.events[n], "u|\"eu\"|1|\"1.25\"|\"a\"|-");
	ck_assert_str_eq(s.events[n + 1], "u|\"eu\"|1|\"1.25\"|\"b\"|-");
	ck_assert_str_eq(s.events[n + 2], "d|\"eu\"|1|\"1.25\"|\"b\"|-");
	ck_assert_int_eq(sup_finish(&s, 1), 0);
}
END_TEST

static Suite *
worker_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *tc;

	tc = tcase_create("introspection");
	tcase_add_test(tc, test_schema_composite);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_no_primary_key);
	tcase_add_test(tc, test_missing_table);
	tcase_add_test(tc, test_not_tracked);
	tcase_add_test(tc, test_unknown_column);
	tcase_add_test(tc, test_permission_denied);
	tcase_add_test(tc, test_bad_login);
	suite_add_tcase(s, tc);
	tc = tcase_create("backfill");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_backfill_chunks);
	tcase_add_test(tc, test_backfill_resume);
	tcase_add_test(tc, test_skip_backfill);
	tcase_add_test(tc, test_stop_in_backfill);
	tcase_add_test(tc, test_resume_streaming);
	tcase_add_test(tc, test_key_pred);
	tcase_add_test(tc, test_backfill_large);
	tcase_add_test(tc, test_reconnect);
	suite_add_tcase(s, tc);
	tc = tcase_create("ct");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ct_stream);
	tcase_add_test(tc, test_ct_interleave);
	suite_add_tcase(s, tc);
	tc = tcase_create("cdc");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cdc_stream);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	log_init("check_worker", LOG_LEVEL_WARN, 0);
	if (!sim_start()) {
		fprintf(stderr, "check_worker: no simulator: skipped\n");
		sim_stop();
		return (77);
	}
	if (sim_prepare() == -1) {
		sim_stop();
		return (1);
	}
	sr = srunner_create(worker_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sim_stop();
	return (failed == 0 ? 0 : 1);
}
