/*
 * A commit round packed into a blob, so that another SQLite file can
 * carry a copy of it.
 *
 * Why: the replica (replica.c) and the state file (state.c) are two
 * SQLite files, and SQLite commits atomically only within one file in
 * WAL mode.  A round commits the output lines (written and synced
 * first), then the replica, then the state (output.c).  A kill -9
 * between the last two leaves the replica one round ahead of the
 * state.  Replaying stream events is harmless (the replica skips what
 * it has applied, by position), but a backfill resumed from the older
 * state does not replay: it reads the rows as they are now, so a row
 * the lost round copied and that was deleted since would stay in the
 * replica for ever.  So the replica stores, in the same transaction as
 * its rows, this blob: the round's state as output.c is about to
 * commit it.  At the next start the supervisor finds the replica one
 * round ahead and commits the blob to the state file first; the two
 * files agree again and nothing is captured twice or lost.
 *
 * The blob is msgpack:
 *	[uint round, uint seq, uint offset, array tables]
 * each table, the columns state_table_put() writes:
 *	[str binding, uint mode, uint phase, nil | bin cursor,
 *	 nil | bin backfill_key, nil | bin released, uint rows_backfilled,
 *	 uint restarts, nil | str last_error, nil | str failed_reason]
 * It is our own data, but it is still checked before use: a damaged
 * blob is an error naming what is wrong, never a wrong state.
 */

#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "common.h"
#include "state.h"

#define ROUND_TABLE_FIELDS 10

static void round_pack_bin(msgpack_packer *, const uint8_t *, size_t);
static void round_pack_str(msgpack_packer *, const char *);
static void round_pack_table(msgpack_packer *, const struct state_table *);
static int round_get_uint(const msgpack_object *, uint64_t, uint64_t *);
static int round_get_bin(const msgpack_object *, uint8_t **, size_t *);
static int round_get_str(const msgpack_object *, int, char **);
static struct state_table *round_unpack_table(const msgpack_object *);

static void
round_pack_bin(msgpack_packer *pk, const uint8_t *p, size_t len)
{
	if (p == NULL) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_bin(pk, len);
	msgpack_pack_bin_body(pk, p, len);
}

static void
round_pack_str(msgpack_packer *pk, const char *s)
{
	if (s == NULL) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

static void
round_pack_table(msgpack_packer *pk, const struct state_table *t)
{
	msgpack_pack_array(pk, ROUND_TABLE_FIELDS);
	round_pack_str(pk, t->binding);
	msgpack_pack_uint64(pk, t->mode);
	msgpack_pack_uint64(pk, t->phase);
	round_pack_bin(pk, t->cursor, t->cursorlen);
	round_pack_bin(pk, t->backfill_key, t->backfill_keylen);
	round_pack_bin(pk, t->released, t->releasedlen);
	msgpack_pack_uint64(pk, t->rows_backfilled);
	msgpack_pack_uint64(pk, t->restarts);
	round_pack_str(pk, t->last_error);
	round_pack_str(pk, t->failed_reason);
}

/* Pack the round: the output position and n tables.  Cannot fail. */
uint8_t *
state_round_pack(const struct state_output *so,
    struct state_table *const *tables, size_t n, size_t *lenp)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t i;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint64(&pk, so->round);
	msgpack_pack_uint64(&pk, so->seq);
	msgpack_pack_uint64(&pk, so->offset);
	msgpack_pack_array(&pk, n);
	for (i = 0; i < n; i++)
		round_pack_table(&pk, tables[i]);
	if (sb.data == NULL)
		fatalx("%s: msgpack_sbuffer out of memory", __func__);
	*lenp = sb.size;
	return ((uint8_t *)sb.data);
}

static int
round_get_uint(const msgpack_object *o, uint64_t max, uint64_t *vp)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
		return (-1);
	*vp = o->via.u64;
	return (0);
}

/* A nil or bin object: a copy (NULL for nil). */
static int
round_get_bin(const msgpack_object *o, uint8_t **pp, size_t *lenp)
{
	*pp = NULL;
	*lenp = 0;
	if (o->type == MSGPACK_OBJECT_NIL)
		return (0);
	if (o->type != MSGPACK_OBJECT_BIN)
		return (-1);
	*pp = xmalloc(o->via.bin.size == 0 ? 1 : o->via.bin.size);
	memcpy(*pp, o->via.bin.ptr, o->via.bin.size);
	*lenp = o->via.bin.size;
	return (0);
}

/* A str object (or nil when nil_ok): a NUL-terminated copy. */
static int
round_get_str(const msgpack_object *o, int nil_ok, char **sp)
{
	*sp = NULL;
	if (o->type == MSGPACK_OBJECT_NIL && nil_ok)
		return (0);
	if (o->type != MSGPACK_OBJECT_STR ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
		return (-1);
	*sp = xmalloc(o->via.str.size + 1);
	memcpy(*sp, o->via.str.ptr, o->via.str.size);
	(*sp)[o->via.str.size] = '\0';
	return (0);
}

static struct state_table *
round_unpack_table(const msgpack_object *o)
{
	const msgpack_object *f;
	struct state_table *t;
	uint64_t mode, phase, restarts;

	if (o->type != MSGPACK_OBJECT_ARRAY ||
	    o->via.array.size != ROUND_TABLE_FIELDS)
		return (NULL);
	f = o->via.array.ptr;
	t = xcalloc(1, sizeof(*t));
	if (round_get_str(&f[0], 0, &t->binding) != 0 ||
	    round_get_uint(&f[1], FRAME_MODE_MAX, &mode) != 0 ||
	    round_get_uint(&f[2], FRAME_PHASE_MAX, &phase) != 0 ||
	    round_get_bin(&f[3], &t->cursor, &t->cursorlen) != 0 ||
	    round_get_bin(&f[4], &t->backfill_key, &t->backfill_keylen) != 0 ||
	    round_get_bin(&f[5], &t->released, &t->releasedlen) != 0 ||
	    round_get_uint(&f[6], INT64_MAX, &t->rows_backfilled) != 0 ||
	    round_get_uint(&f[7], UINT32_MAX, &restarts) != 0 ||
	    round_get_str(&f[8], 1, &t->last_error) != 0 ||
	    round_get_str(&f[9], 1, &t->failed_reason) != 0) {
		state_table_free(t);
		return (NULL);
	}
	t->mode = mode;
	t->phase = phase;
	t->restarts = restarts;
	return (t);
}

/*
 * Unpack a blob of state_round_pack(): *so and a new array of tables
 * (state_tables_free()).  -1 and *cause if it is not one.
 */
int
state_round_unpack(const uint8_t *p, size_t len, struct state_output *so,
    struct state_table ***tablesp, size_t *np, char **cause)
{
	msgpack_unpacked u;
	const msgpack_object *top, *arr;
	struct state_table **tables = NULL;
	size_t off = 0, i, n = 0;

	*tablesp = NULL;
	*np = 0;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)p, len, &off) !=
		MSGPACK_UNPACK_SUCCESS ||
	    off != len)
		goto bad;
	top = &u.data;
	if (top->type != MSGPACK_OBJECT_ARRAY || top->via.array.size != 4 ||
	    round_get_uint(&top->via.array.ptr[0], INT64_MAX, &so->round) !=
		0 ||
	    round_get_uint(&top->via.array.ptr[1], INT64_MAX, &so->seq) != 0 ||
	    round_get_uint(&top->via.array.ptr[2], INT64_MAX, &so->offset) != 0)
		goto bad;
	arr = &top->via.array.ptr[3];
	if (arr->type != MSGPACK_OBJECT_ARRAY)
		goto bad;
	tables = xcalloc(arr->via.array.size + 1, sizeof(*tables));
	for (i = 0; i < arr->via.array.size; i++) {
		if ((tables[n] = round_unpack_table(&arr->via.array.ptr[i])) ==
		    NULL)
			goto bad;
		n++;
	}
	msgpack_unpacked_destroy(&u);
	*tablesp = tables;
	*np = n;
	return (0);

bad:
	msgpack_unpacked_destroy(&u);
	state_tables_free(tables, n);
	xasprintf(cause, "saved round: not a packed round (%zu bytes)", len);
	return (-1);
}
