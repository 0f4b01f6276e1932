/*
 * bench_replica: throughput of replica_apply_event() (state/replica.c),
 * and the loader of the verify benchmark.  Built on demand ("make
 * t/bench/bench_replica"), never by make check; t/bench/replica_apply.sh
 * runs it.
 *
 *	bench_replica apply [EVENTS]
 *		a fresh replica in $TMPDIR; EVENTS inserts, then EVENTS
 *		updates of the same keys, then EVENTS deletes, each in
 *		transactions closed when replica_batch_full() says so,
 *		as the supervisor will; prints events/s of each.
 *	bench_replica fill CONFIG
 *		copies the source table dbo.bench_verify (t/bench/
 *		replica_apply.sh creates it) into the replica of CONFIG
 *		through worker/db.c and replica_apply_event().
 *
 * The table has the ten mixed columns of t/bench/sim_bcp.sh.
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "state.h"
#include "worker.h"

#define BENCH_NCOLS 10
#define BENCH_VARIANTS 4096

static const struct {
	const char *name;
	const char *type;
	uint32_t type_id;
} bench_cols[BENCH_NCOLS] = {
	{ "id", "int", 56 },
	{ "b", "bigint", 127 },
	{ "d", "decimal", 106 },
	{ "f", "float", 62 },
	{ "s", "varchar", 167 },
	{ "n", "nvarchar", 231 },
	{ "t", "datetime2", 42 },
	{ "x", "bit", 104 },
	{ "dt", "date", 40 },
	{ "v", "varbinary", 165 },
};

static void bench_schema(struct frame_schema *, const char *);
static double bench_now(void);
static void bench_pos(struct frame_event *, uint64_t);
static void bench_apply_one(struct replica *, struct replica_table *,
    const struct frame_schema *, struct frame_event *);
static void bench_row(struct frame_value *, char (*)[64], int64_t, int);
static double bench_cpu(void);
static void bench_phase(struct replica *, struct replica_table *,
    const struct frame_schema *, enum frame_op, long, uint64_t *);
static int bench_apply(long);
static int bench_fill(const char *);

/* The schema of dbo.bench_verify in database db. */
static void
bench_schema(struct frame_schema *s, const char *db)
{
	struct frame_column c;
	size_t i;

	frame_schema_init(s, db, "dbo", "bench_verify", FRAME_MODE_CT);
	for (i = 0; i < BENCH_NCOLS; i++) {
		memset(&c, 0, sizeof(c));
		c.name = (char *)bench_cols[i].name;
		c.type_name = (char *)bench_cols[i].type;
		c.type_id = bench_cols[i].type_id;
		c.key_ordinal = i == 0;
		frame_schema_add_column(s, &c);
	}
}

/* Monotonic seconds. */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* A CT position for version v. */
static void
bench_pos(struct frame_event *ev, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		ev->pos[i] = (uint8_t)(v >> (56 - 8 * i));
	memset(ev->pos + 8, 0, 8);
	ev->poslen = FRAME_POS_CT_SIZE;
}

/* Apply one event; commit when the batch is full. */
static void
bench_apply_one(struct replica *r, struct replica_table *rt,
    const struct frame_schema *s, struct frame_event *ev)
{
	char *cause = NULL;

	if (replica_apply_event(rt, s, ev, NULL, &cause) != 0)
		fatalx("apply: %s", cause);
	if (replica_batch_full(r)) {
		if (replica_commit(r, &cause) != 0 ||
		    replica_begin(r, &cause) != 0)
			fatalx("commit: %s", cause);
	}
}

/*
 * Values of row id (gen changes them for updates).  The text values
 * come from BENCH_VARIANTS preformatted ones, as frames bring them
 * formatted: the benchmark measures the replica, not snprintf.
 */
static void
bench_row(struct frame_value *v, char (*buf)[64], int64_t id, int gen)
{
	static const uint8_t bin[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static char text[BENCH_VARIANTS][5][48];
	static int ready;
	static const int cols[5] = { 2, 4, 5, 6, 8 };
	int i, k, j;

	for (; !ready && ready < 1; ready = 1)
		for (j = 0; j < BENCH_VARIANTS; j++) {
			snprintf(text[j][0], 48, "%d.%04d", j * 7, j);
			snprintf(text[j][1], 48, "some text %d", j);
			snprintf(text[j][2], 48, "\xc3\xa9t\xc3\xa9 %d", j);
			snprintf(text[j][3], 48,
			    "2024-%02d-%02dT%02d:%02d:%02d.1234567Z",
			    j % 12 + 1, j % 28 + 1, j % 24, j % 60,
			    (j * 7) % 60);
			snprintf(text[j][4], 48, "2024-%02d-%02d", j % 12 + 1,
			    j % 28 + 1);
		}
	(void)buf;
	k = (int)((id + gen) % BENCH_VARIANTS);
	v[0].type = v[1].type = FRAME_VALUE_INT;
	v[0].v.i = id;
	v[1].v.i = id * 7919 + gen;
	v[3].type = FRAME_VALUE_FLOAT;
	v[3].v.flt = id + 0.25 + gen;
	v[7].type = FRAME_VALUE_BOOL;
	v[7].v.b = (id + gen) % 2;
	for (i = 0; i < 5; i++) {
		v[cols[i]].type = FRAME_VALUE_STR;
		v[cols[i]].v.s.ptr = (const uint8_t *)text[k][i];
		v[cols[i]].v.s.len = strlen(text[k][i]);
	}
	v[9].type = FRAME_VALUE_BIN;
	v[9].v.s.ptr = bin;
	v[9].v.s.len = sizeof(bin);
}

/* Process CPU seconds. */
static double
bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* n events of one kind; prints events/s (wall) and per CPU second. */
static void
bench_phase(struct replica *r, struct replica_table *rt,
    const struct frame_schema *s, enum frame_op op, long n, uint64_t *ver)
{
	struct frame_value v[BENCH_NCOLS];
	struct frame_event ev;
	char buf[BENCH_NCOLS][64], *cause = NULL;
	double t0, c0;
	long i;

	memset(&ev, 0, sizeof(ev));
	ev.op = op;
	ev.values = v;
	snprintf(ev.ts, sizeof(ev.ts), "2026-01-01T00:00:00.000Z");
	t0 = bench_now();
	c0 = bench_cpu();
	if (replica_begin(r, &cause) != 0)
		fatalx("begin: %s", cause);
	for (i = 1; i <= n; i++) {
		bench_pos(&ev, ++*ver);
		bench_row(v, buf, i, op == FRAME_OP_UPDATE);
		if (op == FRAME_OP_DELETE) /* a CT delete: the key only */
			memset(v + 1, 0, sizeof(v[0]) * (BENCH_NCOLS - 1));
		bench_apply_one(r, rt, s, &ev);
	}
	if (replica_commit(r, &cause) != 0)
		fatalx("commit: %s", cause);
	printf("  %-7s %ld events: %.0f events/s, %.0f events per CPU "
	       "second\n",
	    op == FRAME_OP_CREATE       ? "inserts"
		: op == FRAME_OP_UPDATE ? "updates"
					: "deletes",
	    n, n / (bench_now() - t0), n / (bench_cpu() - c0));
}

/* The apply benchmark. */
static int
bench_apply(long n)
{
	struct frame_schema s;
	struct replica *r;
	struct replica_table *rt;
	const char *base = getenv("TMPDIR");
	char dir[256], cmd[300], path[300], *cause = NULL;
	uint64_t ver = 0;

	snprintf(dir, sizeof(dir), "%s/bench_replica.XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	snprintf(path, sizeof(path), "%s/replica.db", dir);
	if ((r = replica_open(path, 0, &cause)) == NULL)
		fatalx("%s", cause);
	bench_schema(&s, "bench");
	if ((rt = replica_apply_schema(r, &s, &cause)) == NULL)
		fatalx("%s", cause);
	printf("replica apply (%s, synchronous=FULL, %d events or %d ms "
	       "per transaction):\n",
	    path, REPLICA_BATCH_EVENTS, REPLICA_BATCH_MS);
	bench_phase(r, rt, &s, FRAME_OP_CREATE, n, &ver);
	bench_phase(r, rt, &s, FRAME_OP_UPDATE, n, &ver);
	bench_phase(r, rt, &s, FRAME_OP_DELETE, n, &ver);
	replica_close(r);
	frame_schema_free(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return (system(cmd) == 0 ? 0 : 1);
}

/* Copy dbo.bench_verify into the replica of a configuration. */
static int
bench_fill(const char *cfgpath)
{
	struct config_errors errs;
	struct config *cfg;
	struct frame_schema s;
	struct frame_value v[BENCH_NCOLS];
	struct frame_event ev;
	struct replica *r;
	struct replica_table *rt;
	struct db_error err;
	struct db *db;
	char text[BENCH_NCOLS][DBVALUE_TEXT_MAX], *cause = NULL;
	uint64_t ver = 0;
	double t0;
	int i;

	if ((cfg = config_load(cfgpath, &errs)) == NULL)
		fatalx("%s: %s", cfgpath, errs.n > 0 ? errs.msgs[0] : "");
	if ((db = db_open(cfg, &err)) == NULL)
		fatalx("connect: %s", err.text);
	if ((r = replica_open(cfg->replica.path, 0, &cause)) == NULL)
		fatalx("%s", cause);
	bench_schema(&s, cfg->database);
	if ((rt = replica_apply_schema(r, &s, &cause)) == NULL)
		fatalx("%s", cause);
	if (db_exec(db,
		"SELECT id, b, d, f, s, n, t, x, dt, v FROM "
		"dbo.bench_verify") != 0 ||
	    db_next_result(db) != 1)
		fatalx("select: %s", db_error(db)->text);
	memset(&ev, 0, sizeof(ev));
	ev.op = FRAME_OP_CREATE;
	ev.snapshot = 1;
	ev.values = v;
	snprintf(ev.ts, sizeof(ev.ts), "2026-01-01T00:00:00Z");
	t0 = bench_now();
	if (replica_begin(r, &cause) != 0)
		fatalx("%s", cause);
	while (db_next_row(db) == 1) {
		for (i = 0; i < BENCH_NCOLS; i++)
			if (db_value(db, i, &v[i], text[i]) != 0)
				fatalx("value: %s", db_error(db)->text);
		bench_pos(&ev, ++ver);
		bench_apply_one(r, rt, &s, &ev);
	}
	if (db_next_result(db) != 0 || replica_commit(r, &cause) != 0)
		fatalx("fill: %s", cause != NULL ? cause : db_error(db)->text);
	printf("fill: %llu rows read and applied in %.2f s\n",
	    (unsigned long long)ver, bench_now() - t0);
	replica_close(r);
	db_close(db);
	frame_schema_free(&s);
	config_free(cfg);
	return (0);
}

int
main(int argc, char **argv)
{
	log_init("bench_replica", LOG_LEVEL_WARN, 0);
	if (argc >= 2 && strcmp(argv[1], "apply") == 0)
		return (bench_apply(argc > 2 ? atol(argv[2]) : 1000000));
	if (argc == 3 && strcmp(argv[1], "fill") == 0)
		return (bench_fill(argv[2]));
	fprintf(stderr,
	    "usage: bench_replica apply [EVENTS]\n"
	    "       bench_replica fill CONFIG\n");
	return (2);
}
