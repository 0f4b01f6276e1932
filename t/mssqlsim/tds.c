/*
 * TDS 7.4 front end: one call of tds_serve() runs one client connection
 * from PRELOGIN to disconnect, in the caller's thread.
 *
 * Input.  A request is a message: packets with an 8-byte header (type,
 * status, big-endian length and SPID, packet id, window) until one has
 * the EOM status bit.  tds_read_message() reassembles the payload in
 * c->msg; only bulk loads (which can be hundreds of megabytes) are
 * parsed while they arrive, with conn_msg_more() pulling one more packet
 * whenever a row is incomplete.
 *
 * Output.  Every token is appended to c->out; whenever that holds more
 * than a few packets' worth, tds_flush() cuts it into packets of the
 * negotiated size and writes them with one send.  The reply's last
 * packet carries EOM.  A DONE token is never written at once: it is held
 * back until the next token shows that it needs DONE_MORE, or the end of
 * the request shows it is final (sim.h, struct sim_sink).
 *
 * Attention.  The client may send an Attention packet at any time while
 * we answer.  conn_poll_attn() looks at the socket without blocking (the
 * engine's cancelled() callback, and every 256 rows); once one is seen
 * the callbacks return -1, the engine stops, and the reply ends with a
 * DONE carrying DONE_ATTN.  An Attention that arrives after the reply
 * was complete is answered on its own by a DONE_ATTN.
 *
 * The connection opens with PRELOGIN, maybe TLS, and LOGIN7 (login.c);
 * once TLS is on (tls.c), conn_recv() and conn_send() go through it.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "tds.h"

static int conn_recv(struct tds_conn *, void *, size_t);
static int conn_read_packet(struct tds_conn *, unsigned char *, struct sbuf *);
static int conn_msg_more(struct tds_conn *);
static int conn_poll_attn(struct tds_conn *);
static int conn_send(struct tds_conn *, const void *, size_t);
static int tds_reply_end(struct tds_conn *);
static void tds_sink_init(struct tds_conn *);
static int tds_request(struct tds_conn *);

/*
 * Input.
 */

/* Read exactly len bytes; -1 on EOF or error. */
static int
conn_recv(struct tds_conn *c, void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;
	size_t k;

	while (len > 0) {
		if (c->ipos == c->ilen) {
			if (c->tls != NULL)
				n = tls_read(
				    c->tls, c->fd, c->ibuf, sizeof(c->ibuf));
			else
				n = recv(c->fd, c->ibuf, sizeof(c->ibuf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				c->dead = 1;
				return (-1);
			}
			c->ipos = 0;
			c->ilen = n;
		}
		k = c->ilen - c->ipos;
		if (k > len)
			k = len;
		memcpy(p, c->ibuf + c->ipos, k);
		c->ipos += k;
		p += k;
		len -= k;
	}
	return (0);
}

/* Read one packet: its header into hdr, its payload appended to dst. */
static int
conn_read_packet(struct tds_conn *c, unsigned char *hdr, struct sbuf *dst)
{
	size_t len;

	if (conn_recv(c, hdr, 8) == -1)
		return (-1);
	len = util_get_u16be(hdr + 2);
	if (len < 8) {
		c->dead = 1;
		return (-1);
	}
	sbuf_reserve(dst, len - 8);
	if (conn_recv(c, dst->data + dst->len, len - 8) == -1)
		return (-1);
	dst->len += len - 8;
	return (0);
}

/* Read the first packet of the next message into c->msg. */
static int
conn_read_first(struct tds_conn *c)
{
	unsigned char hdr[8];

	sbuf_reset(&c->msg);
	if (conn_read_packet(c, hdr, &c->msg) == -1)
		return (-1);
	c->mtype = hdr[0];
	c->mstatus = hdr[1];
	c->meom = (hdr[1] & TDS_ST_EOM) != 0;
	return (0);
}

/* Append the next packet of the current message; 0 when there is none. */
static int
conn_msg_more(struct tds_conn *c)
{
	unsigned char hdr[8];

	if (c->meom)
		return (0);
	if (conn_read_packet(c, hdr, &c->msg) == -1)
		return (-1);
	if (hdr[0] == TDS_PKT_ATTN)
		c->attn = 1;
	c->meom = (hdr[1] & TDS_ST_EOM) != 0;
	return (1);
}

/* Read a whole message into c->msg. */
int
tds_read_message(struct tds_conn *c)
{
	int rc;

	if (conn_read_first(c) == -1)
		return (-1);
	while ((rc = conn_msg_more(c)) == 1)
		;
	return (rc);
}

/*
 * Whether an Attention has arrived, without blocking: 1 if so (or if the
 * client went away), 0 if not.  Anything else the client sends while we
 * answer is a protocol error and is dropped.
 */
static int
conn_poll_attn(struct tds_conn *c)
{
	struct pollfd pfd;
	unsigned char hdr[8];
	struct sbuf junk;

	while (!c->attn && !c->dead) {
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (c->ipos == c->ilen &&
		    (c->tls == NULL || !tls_pending(c->tls)) &&
		    poll(&pfd, 1, 0) <= 0)
			break;
		sbuf_init(&junk);
		if (conn_read_packet(c, hdr, &junk) == 0 &&
		    hdr[0] == TDS_PKT_ATTN)
			c->attn = 1;
		sbuf_free(&junk);
	}
	return (c->attn || c->dead);
}

/*
 * Output.
 */

/* Write bytes to the client, through TLS if it is on. */
static int
conn_send(struct tds_conn *c, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	if (c->dead)
		return (-1);
	if (c->tls != NULL) {
		if (tls_write(c->tls, c->fd, buf, len) == -1)
			c->dead = 1;
		return (c->dead ? -1 : 0);
	}
	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->dead = 1;
			return (-1);
		}
		p += n;
		len -= n;
	}
	return (0);
}

/* Append one packet header to the wire buffer. */
static void
conn_put_header(struct tds_conn *c, size_t payload, int last)
{
	sbuf_u8(&c->wire, c->otype);
	sbuf_u8(&c->wire, last ? TDS_ST_EOM : 0);
	sbuf_u16be(&c->wire, payload + 8);
	sbuf_u16be(&c->wire, c->spid);
	sbuf_u8(&c->wire, c->pktid++);
	sbuf_u8(&c->wire, 0);
}

/*
 * Send c->out as packets of the negotiated size.  Without eom only whole
 * packets go and the rest stays in c->out; with eom everything goes and
 * the last packet (possibly empty) carries EOM.
 */
int
tds_flush(struct tds_conn *c, int eom)
{
	size_t body = c->pktsize - 8, off = 0, n;
	int last;

	sbuf_reset(&c->wire);
	while (c->out.len - off > body ||
	    (eom && (off < c->out.len || off == 0))) {
		n = c->out.len - off > body ? body : c->out.len - off;
		last = eom && off + n == c->out.len;
		conn_put_header(c, n, last);
		sbuf_add(&c->wire, c->out.data + off, n);
		off += n;
		if (last)
			break;
	}
	memmove(c->out.data, c->out.data + off, c->out.len - off);
	c->out.len -= off;
	if (c->wire.len == 0)
		return (0);
	return (conn_send(c, c->wire.data, c->wire.len));
}

/* Flush when enough output has piled up. */
static int
conn_maybe_flush(struct tds_conn *c)
{
	if (c->out.len >= TDS_FLUSH_AT && tds_flush(c, 0) == -1)
		return (-1);
	return (c->dead ? -1 : 0);
}

/* Send a whole message of one type. */
int
tds_send_message(struct tds_conn *c, int type, const void *p, size_t len)
{
	int otype = c->otype;

	c->otype = type;
	sbuf_add(&c->out, p, len);
	if (tds_flush(c, 1) == -1)
		return (-1);
	c->otype = otype;
	return (0);
}

/*
 * Token writers.
 */

/* Write the held-back DONE, now known not to be the last token. */
void
tds_put_held_done(struct tds_conn *c)
{
	if (!c->done_held)
		return;
	c->done_held = 0;
	tds_put_done(
	    c, c->done_kind, c->done_status | SIM_DONE_MORE, c->done_rows);
}

/* DONE, DONEPROC or DONEINPROC. */
void
tds_put_done(struct tds_conn *c, int kind, int status, uint64_t rows)
{
	sbuf_u8(&c->out, kind);
	sbuf_u16le(&c->out, status);
	sbuf_u16le(&c->out, 0);
	if (c->tdsver >= TDS_VER_72)
		sbuf_u64le(&c->out, rows);
	else
		sbuf_u32le(&c->out, (uint32_t)rows);
}

/* ERROR or INFO. */
void
tds_put_message(struct tds_conn *c, const struct sim_error *e, int is_error)
{
	size_t at;

	tds_put_held_done(c);
	sbuf_u8(&c->out, is_error ? TDS_TOK_ERROR : TDS_TOK_INFO);
	at = c->out.len;
	sbuf_u16le(&c->out, 0);
	sbuf_u32le(&c->out, e->number);
	sbuf_u8(&c->out, e->state);
	sbuf_u8(&c->out, e->class);
	sbuf_usvarchar(&c->out, e->msg);
	sbuf_bvarchar(&c->out, c->server_name);
	sbuf_bvarchar(&c->out, "");
	sbuf_u32le(&c->out, e->line);
	c->out.data[at] = (c->out.len - at - 2) & 0xff;
	c->out.data[at + 1] = (c->out.len - at - 2) >> 8;
}

/* ENVCHANGE with B_VARCHAR values. */
void
tds_put_envchange_str(
    struct tds_conn *c, int type, const char *newval, const char *oldval)
{
	size_t at;

	tds_put_held_done(c);
	sbuf_u8(&c->out, TDS_TOK_ENVCHANGE);
	at = c->out.len;
	sbuf_u16le(&c->out, 0);
	sbuf_u8(&c->out, type);
	sbuf_bvarchar(&c->out, newval != NULL ? newval : "");
	sbuf_bvarchar(&c->out, oldval != NULL ? oldval : "");
	c->out.data[at] = (c->out.len - at - 2) & 0xff;
	c->out.data[at + 1] = (c->out.len - at - 2) >> 8;
}

/* ENVCHANGE with B_VARBYTE values. */
void
tds_put_envchange_bin(struct tds_conn *c, int type, const unsigned char *newval,
    size_t newlen, const unsigned char *oldval, size_t oldlen)
{
	tds_put_held_done(c);
	newlen = newlen > 255 ? 255 : newlen;
	oldlen = oldlen > 255 ? 255 : oldlen;
	sbuf_u8(&c->out, TDS_TOK_ENVCHANGE);
	sbuf_u16le(&c->out, 3 + newlen + oldlen);
	sbuf_u8(&c->out, type);
	sbuf_u8(&c->out, newlen);
	sbuf_add(&c->out, newval, newlen);
	sbuf_u8(&c->out, oldlen);
	sbuf_add(&c->out, oldval, oldlen);
}

/*
 * Bytes a NULL takes in a ROW token of this wire form; a fixed-length
 * form (NOT NULL column) has no NULL, only NBCROW can carry one.
 */
static int
tds_null_cost(const struct sim_type *t, int wire)
{
	if (wire != tdstype_wire(t, 1))
		return (1000);
	if (t->maxlen == -1 || t->id == SIMT_XML)
		return (8); /* PLP */
	switch (t->id) {
	case SIMT_VARCHAR:
	case SIMT_CHAR:
	case SIMT_NVARCHAR:
	case SIMT_NCHAR:
	case SIMT_VARBINARY:
	case SIMT_BINARY:
	case SIMT_TIMESTAMP:
		return (2);
	case SIMT_SQL_VARIANT:
		return (4);
	default:
		return (1);
	}
}

/*
 * One column's description, as COLMETADATA and RETURNVALUE carry it,
 * in the given wire form; text, ntext and image add a (here empty)
 * table name.
 */
static void
tok_column_info(struct tds_conn *c, const struct sim_column *col, int wire)
{
	int flags = 0;

	if (c->tdsver >= TDS_VER_72)
		sbuf_u32le(&c->out, col->type.id == SIMT_TIMESTAMP ? 0x50 : 0);
	else
		sbuf_u16le(&c->out, col->type.id == SIMT_TIMESTAMP ? 0x50 : 0);
	if (col->nullable)
		flags |= 0x01;
	if (col->updateable)
		flags |= 0x08;
	if (col->identity)
		flags |= 0x10;
	if (col->computed)
		flags |= 0x20;
	sbuf_u16le(&c->out, flags);
	tdstype_write_info_wire(&c->out, &col->type, wire);
	if (wire & TDS_WIRE_TEXTPTR)
		tdstype_write_tablename(&c->out, NULL, NULL);
}

/*
 * Sink callbacks (struct sim_sink): the engine's results become tokens.
 */

/* Common tail of every callback: stop when the client is gone or the
 * request was cancelled. */
static int
sink_status(struct tds_conn *c)
{
	if (conn_maybe_flush(c) == -1)
		return (-1);
	return (c->attn || c->dead ? -1 : 0);
}

static int
sink_colmetadata(void *arg, int n, const struct sim_column *cols)
{
	struct tds_conn *c = arg;
	int i;

	tds_put_held_done(c);
	free(c->cols);
	c->cols = util_xmalloc(sizeof(*c->cols) * (n > 0 ? n : 1));
	c->ncols = n;
	sbuf_u8(&c->out, TDS_TOK_COLMETADATA);
	sbuf_u16le(&c->out, n == 0 ? 0xffff : n);
	for (i = 0; i < n; i++) {
		c->cols[i].type = cols[i].type;
		c->cols[i].wire = tdstype_wire(&cols[i].type, cols[i].nullable);
		c->cols[i].nullcost =
		    tds_null_cost(&cols[i].type, c->cols[i].wire);
		tok_column_info(c, &cols[i], c->cols[i].wire);
		sbuf_bvarchar(&c->out, cols[i].name);
	}
	return (sink_status(c));
}

/* Whether this row is shorter as an NBCROW. */
static int
tds_row_use_nbc(struct tds_conn *c, int n, sqlite3_value **vals)
{
	int i, saved = 0;

	if (c->tdsver < TDS_VER_73A)
		return (0);
	for (i = 0; i < n; i++)
		if (sqlite3_value_type(vals[i]) == SQLITE_NULL)
			saved += c->cols[i].nullcost;
	return (saved > (n + 7) / 8);
}

/* Encode one row; -1 (and an ERROR token) if a value does not fit. */
static int
tok_row(struct tds_conn *c, int n, sqlite3_value **vals)
{
	struct sim_error err;
	size_t start = c->out.len, bm;
	int i, nbc;

	nbc = tds_row_use_nbc(c, n, vals);
	sbuf_u8(&c->out, nbc ? TDS_TOK_NBCROW : TDS_TOK_ROW);
	bm = c->out.len;
	if (nbc) {
		sbuf_reserve(&c->out, (n + 7) / 8);
		memset(c->out.data + bm, 0, (n + 7) / 8);
		c->out.len += (n + 7) / 8;
	}
	for (i = 0; i < n; i++) {
		if (nbc && sqlite3_value_type(vals[i]) == SQLITE_NULL) {
			c->out.data[bm + i / 8] |= 1 << (i % 8);
			continue;
		}
		if (tdstype_write_value_wire(&c->out, &c->cols[i].type,
			c->cols[i].wire, vals[i], &err) == -1) {
			c->out.len = start;
			tds_put_message(c, &err, 1);
			return (-1);
		}
	}
	return (0);
}

static int
sink_row(void *arg, int n, sqlite3_value **vals)
{
	struct tds_conn *c = arg;

	tds_put_held_done(c);
	if (n > c->ncols)
		n = c->ncols;
	if (tok_row(c, n, vals) == -1)
		return (-1);
	if (++c->rows % TDS_ATTN_EVERY == 0)
		conn_poll_attn(c);
	return (sink_status(c));
}

static int
sink_done(void *arg, int kind, int status, uint64_t rows)
{
	struct tds_conn *c = arg;

	tds_put_held_done(c);
	c->done_held = 1;
	c->done_kind = kind;
	c->done_status = status & ~SIM_DONE_MORE;
	c->done_rows = rows;
	return (sink_status(c));
}

static int
sink_message(void *arg, const struct sim_error *e, int is_error)
{
	struct tds_conn *c = arg;

	tds_put_message(c, e, is_error);
	return (sink_status(c));
}

static int
sink_envchange_str(void *arg, int type, const char *newval, const char *oldval)
{
	struct tds_conn *c = arg;

	tds_put_envchange_str(c, type, newval, oldval);
	return (sink_status(c));
}

static int
sink_envchange_bin(void *arg, int type, const unsigned char *newval,
    size_t newlen, const unsigned char *oldval, size_t oldlen)
{
	struct tds_conn *c = arg;

	tds_put_envchange_bin(c, type, newval, newlen, oldval, oldlen);
	return (sink_status(c));
}

static int
sink_returnstatus(void *arg, int32_t status)
{
	struct tds_conn *c = arg;

	tds_put_held_done(c);
	sbuf_u8(&c->out, TDS_TOK_RETURNSTATUS);
	sbuf_u32le(&c->out, (uint32_t)status);
	return (sink_status(c));
}

static int
sink_returnvalue(void *arg, const struct sim_param *p, int ordinal)
{
	struct tds_conn *c = arg;
	struct sim_column col;
	struct sim_error err;
	int wire = tdstype_wire(&p->type, 1) & ~TDS_WIRE_TEXTPTR;

	tds_put_held_done(c);
	memset(&col, 0, sizeof(col));
	col.type = p->type;
	col.nullable = 1;
	sbuf_u8(&c->out, TDS_TOK_RETURNVALUE);
	sbuf_u16le(&c->out, ordinal);
	sbuf_bvarchar(&c->out, p->name);
	sbuf_u8(&c->out, 0x01); /* an output parameter */
	tok_column_info(c, &col, wire);
	if (tdstype_write_simval(&c->out, &p->type, wire, &p->value, &err) ==
	    -1) {
		tds_put_message(c, &err, 1);
		return (-1);
	}
	return (sink_status(c));
}

static int
sink_cancelled(void *arg)
{
	return (conn_poll_attn(arg));
}

/* Point the sink at this connection. */
static void
tds_sink_init(struct tds_conn *c)
{
	c->sink.arg = c;
	c->sink.colmetadata = sink_colmetadata;
	c->sink.row = sink_row;
	c->sink.done = sink_done;
	c->sink.message = sink_message;
	c->sink.envchange_str = sink_envchange_str;
	c->sink.envchange_bin = sink_envchange_bin;
	c->sink.returnstatus = sink_returnstatus;
	c->sink.returnvalue = sink_returnvalue;
	c->sink.cancelled = sink_cancelled;
}

/*
 * End a reply: the held-back DONE is the last token, or an Attention
 * turns the end into DONE_ATTN.
 */
static int
tds_reply_end(struct tds_conn *c)
{
	if (c->attn) {
		tds_put_held_done(c);
		tds_put_done(c, SIM_DONE, SIM_DONE_ATTN, 0);
	} else if (c->done_held) {
		c->done_held = 0;
		tds_put_done(c, c->done_kind, c->done_status, c->done_rows);
	} else
		tds_put_done(c, SIM_DONE, SIM_DONE_FINAL, 0);
	c->attn = 0;
	c->rows = 0;
	return (tds_flush(c, 1));
}

/* Answer a request we cannot run with an error and a DONE. */
static int
tds_reply_error(struct tds_conn *c, const struct sim_error *e)
{
	tds_put_message(c, e, 1);
	tds_put_held_done(c);
	c->done_held = 1;
	c->done_kind = SIM_DONE;
	c->done_status = SIM_DONE_ERROR;
	c->done_rows = 0;
	return (tds_reply_end(c));
}

/* Protocol error text, as SQL Server words it. */
static void
tds_error_protocol(struct sim_error *e, const char *what)
{
	sim_error_set(e, 4002, 16, 1,
	    "The incoming tabular data stream (TDS) protocol stream is "
	    "incorrect. %s",
	    what);
}

/*
 * Requests.
 */

/* Skip ALL_HEADERS (TDS 7.2+); -1 if malformed. */
static int
tds_skip_headers(struct tds_conn *c, size_t *pos)
{
	uint32_t total;

	if (c->tdsver < TDS_VER_72)
		return (0);
	if (c->msg.len < 4)
		return (-1);
	total = util_get_u32le(c->msg.data);
	if (total < 4 || total > c->msg.len)
		return (-1);
	*pos = total;
	return (0);
}

/* SQLBatch: UCS-2 text after ALL_HEADERS. */
static int
tds_do_batch(struct tds_conn *c)
{
	struct sim_error e;
	size_t pos = 0;
	char *sql;

	if (tds_skip_headers(c, &pos) == -1 ||
	    util_ucs2_to_utf8(
		c->msg.data + pos, c->msg.len - pos, &sql, NULL) == -1) {
		tds_error_protocol(&e, "The batch text is malformed.");
		return (tds_reply_error(c, &e));
	}
	engine_exec_batch(c->sess, sql, &c->sink);
	free(sql);
	return (tds_reply_end(c));
}

/* Names of the procedures RPC may give by number. */
static const char *
tds_proc_name(int id)
{
	static const char *names[] = { NULL, "sp_cursor", "sp_cursoropen",
		"sp_cursorprepare", "sp_cursorexecute", "sp_cursorprepexec",
		"sp_cursorunprepare", "sp_cursorfetch", "sp_cursoroption",
		"sp_cursorclose", "sp_executesql", "sp_prepare", "sp_execute",
		"sp_prepexec", "sp_prepexecrpc", "sp_unprepare" };

	if (id <= 0 || id >= (int)(sizeof(names) / sizeof(names[0])))
		return (NULL);
	return (names[id]);
}

/* Read a UCS-2 string of n characters at *pos. */
static int
tds_get_ucs2(
    struct tds_conn *c, size_t *pos, size_t n, char *dst, size_t dstlen)
{
	char *s;

	if (*pos + n * 2 > c->msg.len ||
	    util_ucs2_to_utf8(c->msg.data + *pos, n * 2, &s, NULL) == -1)
		return (-1);
	snprintf(dst, dstlen, "%s", s);
	free(s);
	*pos += n * 2;
	return (0);
}

/* Whether the byte at pos ends one RPC of a batch of several. */
static int
tds_rpc_separator(struct tds_conn *c, size_t pos)
{
	int b = c->msg.data[pos];

	if (c->tdsver >= TDS_VER_72)
		return (b == 0xff || b == 0xfe);
	return (b == 0x80 || b == 0xff || b == 0xfe);
}

/* Read one RPC parameter at *pos. */
static int
tds_rpc_param(
    struct tds_conn *c, size_t *pos, struct sim_param *p, struct sim_error *e)
{
	size_t n;
	int status;

	memset(p, 0, sizeof(*p));
	p->value.kind = SQLITE_NULL;
	if (*pos + 2 > c->msg.len)
		goto bad;
	n = c->msg.data[(*pos)++];
	if (tds_get_ucs2(c, pos, n, p->name, sizeof(p->name)) == -1 ||
	    *pos >= c->msg.len)
		goto bad;
	status = c->msg.data[(*pos)++];
	p->output = (status & 0x01) != 0;
	if (tdstype_read_info(c->msg.data, c->msg.len, pos, &p->type, e) ==
		-1 ||
	    tdstype_read_value(
		c->msg.data, c->msg.len, pos, &p->type, &p->value, e) == -1)
		return (-1);
	return (0);
bad:
	tds_error_protocol(e, "A parameter is malformed.");
	return (-1);
}

static void
tds_rpc_free_params(struct sim_param *params, int n)
{
	int i;

	for (i = 0; i < n; i++)
		simval_free(&params[i].value);
	free(params);
}

/* Parse and run one RPC of the message at *pos. */
static int
tds_rpc_one(struct tds_conn *c, size_t *pos, struct sim_error *e)
{
	struct sim_param *params = NULL;
	char name[300];
	const char *pname;
	size_t n;
	int np = 0, cap = 0;

	if (*pos + 4 > c->msg.len)
		goto bad;
	n = util_get_u16le(c->msg.data + *pos);
	*pos += 2;
	if (n == 0xffff) {
		if ((pname = tds_proc_name(
			 util_get_u16le(c->msg.data + *pos))) == NULL)
			goto bad;
		snprintf(name, sizeof(name), "%s", pname);
		*pos += 2;
	} else if (tds_get_ucs2(c, pos, n, name, sizeof(name)) == -1)
		goto bad;
	*pos += 2; /* OptionFlags */
	while (*pos < c->msg.len && !tds_rpc_separator(c, *pos)) {
		if (np == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			params = util_xrealloc(params, sizeof(*params) * cap);
		}
		if (tds_rpc_param(c, pos, &params[np], e) == -1) {
			tds_rpc_free_params(params, np + 1);
			return (-1);
		}
		np++;
	}
	if (*pos > c->msg.len)
		goto bad;
	engine_exec_rpc(c->sess, name, params, np, &c->sink);
	tds_rpc_free_params(params, np);
	return (0);
bad:
	tds_rpc_free_params(params, np);
	tds_error_protocol(e, "The remote procedure call is malformed.");
	return (-1);
}

/* RPC: one or several procedure calls. */
static int
tds_do_rpc(struct tds_conn *c)
{
	struct sim_error e;
	size_t pos = 0;

	if (tds_skip_headers(c, &pos) == -1) {
		tds_error_protocol(&e, "The headers are malformed.");
		return (tds_reply_error(c, &e));
	}
	while (pos < c->msg.len && !c->attn && !c->dead) {
		if (tds_rpc_one(c, &pos, &e) == -1)
			return (tds_reply_error(c, &e));
		if (pos < c->msg.len)
			pos++; /* the separator */
	}
	return (tds_reply_end(c));
}

/* Skip a B_VARCHAR at *pos. */
static int
tds_skip_bvarchar(struct tds_conn *c, size_t *pos)
{
	if (*pos >= c->msg.len)
		return (-1);
	*pos += 1 + c->msg.data[*pos] * 2;
	return (*pos <= c->msg.len ? 0 : -1);
}

/* Transaction Manager: begin, commit, rollback. */
static int
tds_do_tm(struct tds_conn *c)
{
	struct sim_error e;
	size_t pos = 0;
	int type, flags = 0, iso = 0;

	if (tds_skip_headers(c, &pos) == -1 || pos + 2 > c->msg.len)
		goto bad;
	type = util_get_u16le(c->msg.data + pos);
	pos += 2;
	switch (type) {
	case 5: /* TM_BEGIN_XACT: isolation level, name */
		if (pos >= c->msg.len)
			goto bad;
		iso = c->msg.data[pos];
		engine_tm_begin(c->sess, iso, &c->sink);
		break;
	case 7: /* TM_COMMIT_XACT: name, flags [, isolation, name] */
	case 8: /* TM_ROLLBACK_XACT */
		if (tds_skip_bvarchar(c, &pos) == -1)
			goto bad;
		if (pos < c->msg.len)
			flags = c->msg.data[pos];
		if (type == 7)
			engine_tm_commit(c->sess, flags & 1, &c->sink);
		else
			engine_tm_rollback(c->sess, flags & 1, &c->sink);
		break;
	default:
		sim_error_set(&e, 8180, 16, 1,
		    "Transaction manager request %d is not supported.", type);
		return (tds_reply_error(c, &e));
	}
	return (tds_reply_end(c));
bad:
	tds_error_protocol(&e, "The transaction manager request is malformed.");
	return (tds_reply_error(c, &e));
}

/*
 * Bulk load: COLMETADATA, ROW tokens, DONE, parsed as packets arrive.
 */

struct tds_bulk {
	struct sim_column *cols;
	int *wire; /* wire form of each column, as read */
	int ncols;
	struct simval *vals;
	size_t pos; /* parse position in c->msg */
	int failed;
	struct sim_error err;
};

/* Drop the parsed part of c->msg when it is large. */
static void
tds_bulk_compact(struct tds_conn *c, struct tds_bulk *b)
{
	if (b->pos < 65536)
		return;
	memmove(c->msg.data, c->msg.data + b->pos, c->msg.len - b->pos);
	c->msg.len -= b->pos;
	b->pos = 0;
}

/* Parse the bulk COLMETADATA at b->pos. */
static int
tds_bulk_colmeta(struct tds_conn *c, struct tds_bulk *b, size_t *pos)
{
	const unsigned char *p = c->msg.data;
	size_t len = c->msg.len;
	struct sim_column *col;
	size_t namelen, utlen;
	int i, flags, n;

	if (*pos + 3 > len || p[*pos] != TDS_TOK_COLMETADATA)
		return (-1);
	n = util_get_u16le(p + *pos + 1);
	*pos += 3;
	free(b->cols);
	b->cols = util_xmalloc(sizeof(*b->cols) * (n > 0 ? n : 1));
	memset(b->cols, 0, sizeof(*b->cols) * (n > 0 ? n : 1));
	free(b->wire);
	b->wire = util_xmalloc(sizeof(*b->wire) * (n > 0 ? n : 1));
	for (i = 0; i < n && n != 0xffff; i++) {
		col = &b->cols[i];
		utlen = c->tdsver >= TDS_VER_72 ? 4 : 2;
		if (*pos + utlen + 2 > len)
			return (-1);
		flags = util_get_u16le(p + *pos + utlen);
		*pos += utlen + 2;
		col->nullable = flags & 0x01;
		col->identity = (flags & 0x10) != 0;
		col->computed = (flags & 0x20) != 0;
		if (tdstype_read_info_wire(
			p, len, pos, &col->type, &b->wire[i], &b->err) == -1)
			return (-1);
		if (tdstype_wire(&col->type, 1) & TDS_WIRE_TEXTPTR) {
			/* FreeTDS sends the table name as one US_VARCHAR. */
			b->wire[i] |= TDS_WIRE_TEXTPTR;
			if (*pos + 2 > len)
				return (-1);
			*pos += 2 + util_get_u16le(p + *pos) * 2;
		}
		if (*pos >= len)
			return (-1);
		namelen = p[(*pos)++];
		if (tds_get_ucs2(
			c, pos, namelen, col->name, sizeof(col->name)) == -1)
			return (-1);
	}
	b->ncols = n == 0xffff ? 0 : n;
	return (0);
}

/* Parse one ROW or NBCROW at *pos into b->vals. */
static int
tds_bulk_row(struct tds_conn *c, struct tds_bulk *b, size_t *pos)
{
	const unsigned char *p = c->msg.data, *bm = NULL;
	size_t len = c->msg.len;
	int i;

	if (p[*pos] == TDS_TOK_NBCROW) {
		bm = p + *pos + 1;
		*pos += 1 + (b->ncols + 7) / 8;
		if (*pos > len)
			return (-1);
	} else
		(*pos)++;
	for (i = 0; i < b->ncols; i++) {
		simval_free(&b->vals[i]);
		if (bm != NULL && (bm[i / 8] & (1 << (i % 8))))
			continue;
		if (tdstype_read_value_wire(p, len, pos, &b->cols[i].type,
			b->wire[i], &b->vals[i], &b->err) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Parse the next token at b->pos, reading more packets while it is
 * incomplete.  Returns 1 for a row in b->vals, 0 at the end of the
 * data, -1 when the stream is broken or the client is gone.
 */
static int
tds_bulk_next(struct tds_conn *c, struct tds_bulk *b)
{
	size_t pos;
	int rc, more;

	for (;;) {
		tds_bulk_compact(c, b);
		pos = b->pos;
		if (pos >= c->msg.len)
			rc = -1;
		else if (c->msg.data[pos] == TDS_TOK_ROW ||
		    c->msg.data[pos] == TDS_TOK_NBCROW)
			rc = tds_bulk_row(c, b, &pos) == -1 ? -1 : 1;
		else if (c->msg.data[pos] == SIM_DONE)
			return (0);
		else
			rc = -1;
		if (rc == 1) {
			b->pos = pos;
			return (1);
		}
		if ((more = conn_msg_more(c)) == -1)
			return (-1);
		if (more == 0)
			return (pos >= c->msg.len ? 0 : -1);
	}
}

/* Read the bulk COLMETADATA, reading packets while it is incomplete. */
static int
tds_bulk_start(struct tds_conn *c, struct tds_bulk *b)
{
	size_t pos;
	int more;

	for (;;) {
		pos = 0;
		memset(&b->err, 0, sizeof(b->err));
		if (tds_bulk_colmeta(c, b, &pos) == 0) {
			b->pos = pos;
			return (0);
		}
		if ((more = conn_msg_more(c)) <= 0)
			return (-1);
	}
}

/* Read the rest of the message and throw it away. */
static int
tds_bulk_drain(struct tds_conn *c)
{
	int rc;

	do {
		sbuf_reset(&c->msg);
		rc = conn_msg_more(c);
	} while (rc == 1);
	return (rc);
}

/* Feed every row to the engine. */
static int
tds_bulk_rows(struct tds_conn *c, struct tds_bulk *b)
{
	int rc;

	while ((rc = tds_bulk_next(c, b)) == 1) {
		if (engine_bulk_row(c->sess, b->vals, b->ncols, &b->err) ==
		    -1) {
			b->failed = 1;
			return (tds_bulk_drain(c));
		}
	}
	if (rc == -1 && !c->dead) {
		if (b->err.number == 0)
			tds_error_protocol(&b->err, "A bulk row is malformed.");
		b->failed = 1;
		return (tds_bulk_drain(c));
	}
	return (rc);
}

/* Bulk load (0x07). */
static int
tds_do_bulk(struct tds_conn *c)
{
	struct tds_bulk b;
	int i, begun = 1;

	memset(&b, 0, sizeof(b));
	if (tds_bulk_start(c, &b) == -1) {
		if (c->dead || tds_bulk_drain(c) == -1)
			return (-1);
		if (b.err.number == 0)
			tds_error_protocol(&b.err,
			    "The bulk metadata is "
			    "malformed.");
		free(b.cols);
		free(b.wire);
		return (tds_reply_error(c, &b.err));
	}
	b.vals = util_xmalloc(sizeof(*b.vals) * (b.ncols + 1));
	for (i = 0; i < b.ncols; i++)
		b.vals[i].kind = SQLITE_NULL, b.vals[i].p = NULL;
	if (engine_bulk_begin(c->sess, b.cols, b.ncols, &b.err) == -1) {
		begun = 0;
		b.failed = 1;
		if (tds_bulk_drain(c) == -1)
			c->dead = 1;
	} else if (tds_bulk_rows(c, &b) == -1)
		c->dead = 1;
	for (i = 0; i < b.ncols; i++)
		simval_free(&b.vals[i]);
	free(b.vals);
	free(b.cols);
	free(b.wire);
	if (c->dead)
		return (-1);
	if (!begun)
		return (tds_reply_error(c, &b.err));
	/* A bad row ends the load; the engine reports what it kept. */
	if (b.failed)
		tds_put_message(c, &b.err, 1);
	engine_bulk_end(c->sess, &c->sink);
	return (tds_reply_end(c));
}

/*
 * RESETCONNECTION: acknowledged with ENVCHANGE 18, then the session is
 * reset as sp_reset_connection does.  RESETCONNECTIONSKIPTRAN would keep
 * an open transaction; the engine cannot reset around one, so that
 * variant is only acknowledged.
 */
static void
tds_reset(struct tds_conn *c)
{
	tds_put_envchange_bin(c, SIM_ENV_RESETACK, NULL, 0, NULL, 0);
	if ((c->mstatus & TDS_ST_RESET) && c->sess != NULL)
		engine_session_reset(c->sess, &c->sink);
}

/*
 * Read one request and answer it; -1 when the connection ends.  Bulk
 * loads are read as they are parsed; every other message whole.
 */
static int
tds_request(struct tds_conn *c)
{
	int rc;

	if (conn_read_first(c) == -1)
		return (-1);
	if (c->mtype != TDS_PKT_BULK) {
		while ((rc = conn_msg_more(c)) == 1)
			;
		if (rc == -1)
			return (-1);
	}
	c->otype = TDS_PKT_REPLY;
	c->attn = 0;
	if (c->mstatus & (TDS_ST_RESET | TDS_ST_RESETSKIPTRAN))
		tds_reset(c);
	switch (c->mtype) {
	case TDS_PKT_BATCH:
		return (tds_do_batch(c));
	case TDS_PKT_RPC:
		return (tds_do_rpc(c));
	case TDS_PKT_TM:
		return (tds_do_tm(c));
	case TDS_PKT_BULK:
		return (tds_do_bulk(c));
	case TDS_PKT_ATTN:
		c->attn = 1;
		return (tds_reply_end(c));
	default:
		return (-1);
	}
}

/* Serve one client connection until it closes; the caller closes fd. */
void
tds_serve(struct sim_server *srv, struct sim_tlsctx *tlsctx, int fd,
    const char *server_name)
{
	struct tds_conn *c;
	int enc;

	c = util_xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->srv = srv;
	c->tlsctx = tlsctx;
	c->server_name = server_name;
	c->pktsize = TDS_DEFAULT_PKTSIZE;
	c->tdsver = TDS_VER_74;
	c->otype = TDS_PKT_REPLY;
	sbuf_init(&c->msg);
	sbuf_init(&c->out);
	sbuf_init(&c->wire);
	tds_sink_init(c);
	if ((enc = login_prelogin(c)) != -1 && login_login7(c, enc) == 0) {
		while (tds_request(c) == 0)
			;
	}
	if (c->sess != NULL)
		engine_session_free(c->sess);
	tls_free(c->tls);
	sbuf_free(&c->msg);
	sbuf_free(&c->out);
	sbuf_free(&c->wire);
	free(c->cols);
	free(c);
}
