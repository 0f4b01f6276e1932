/*
 * The opening of a TDS connection: PRELOGIN, the TLS handshake it may
 * agree on, and LOGIN7 with SQL Server's answer.
 *
 * PRELOGIN.  We answer with VERSION, ENCRYPTION, INSTOPT, THREADID and
 * MARS, always MARS off: FreeTDS falls back to TDS 7.1 when the option is
 * missing.  ENCRYPTION is NOT_SUP without a certificate; with one, a
 * client that says OFF gets OFF (TLS for the LOGIN7 packet only), ON or
 * REQ gets ON (TLS for the whole connection), NOT_SUP stays plain.  The
 * handshake records travel inside PRELOGIN packets, one flight per
 * message each way (pytds reads exactly one message per flight).
 *
 * LOGIN7.  Offsets and lengths (in characters) of UCS-2 strings; the
 * password is obfuscated by swapping the nibbles of each byte and XORing
 * 0xA5, which we undo in the other order.  A successful login is answered
 * with the tokens SQL Server sends, in its order (SQLSERVER.md 4.4); a
 * failed one with ERROR 18456 (after 4060 if the database was the
 * problem) and a DONE with DONE_ERROR, then the connection closes.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "tds.h"

static void login_put_loginack(struct tds_conn *);
static int login_tls_handshake(struct tds_conn *);

/* LOGINACK. */
static void
login_put_loginack(struct tds_conn *c)
{
	size_t at;

	tds_put_held_done(c);
	sbuf_u8(&c->out, TDS_TOK_LOGINACK);
	at = c->out.len;
	sbuf_u16le(&c->out, 0);
	sbuf_u8(&c->out, 1); /* interface: SQL_TSQL */
	sbuf_u32be(&c->out, c->tdsver);
	sbuf_bvarchar(&c->out, "Microsoft SQL Server");
	sbuf_u8(&c->out, TDS_SRV_MAJOR);
	sbuf_u8(&c->out, TDS_SRV_MINOR);
	sbuf_u16be(&c->out, TDS_SRV_BUILD);
	c->out.data[at] = (c->out.len - at - 2) & 0xff;
	c->out.data[at + 1] = (c->out.len - at - 2) >> 8;
}

/*
 * PRELOGIN and TLS.
 */

/* Find a PRELOGIN option in the client's message. */
static int
login_prelogin_option(const unsigned char *p, size_t len, int token,
    const unsigned char **val, size_t *vlen)
{
	size_t i, off, n;

	for (i = 0; i < len && p[i] != TDS_PL_END; i += 5) {
		if (i + 5 > len)
			return (-1);
		if (p[i] != token)
			continue;
		off = util_get_u16be(p + i + 1);
		n = util_get_u16be(p + i + 3);
		if (off + n > len)
			return (-1);
		*val = p + off;
		*vlen = n;
		return (0);
	}
	return (-1);
}

/* Our ENCRYPTION answer to the client's. */
static int
login_encryption(struct tds_conn *c, int client)
{
	if (c->tlsctx == NULL)
		return (TDS_ENC_NOT_SUP);
	switch (client) {
	case TDS_ENC_OFF:
		return (TDS_ENC_OFF);
	case TDS_ENC_ON:
	case TDS_ENC_REQ:
		return (TDS_ENC_ON);
	default:
		return (TDS_ENC_NOT_SUP);
	}
}

/* Build the PRELOGIN reply: VERSION, ENCRYPTION, INSTOPT, THREADID, MARS. */
static void
login_prelogin_reply(struct sbuf *b, int enc)
{
	static const int tok[] = { TDS_PL_VERSION, TDS_PL_ENCRYPTION,
		TDS_PL_INSTOPT, TDS_PL_THREADID, TDS_PL_MARS };
	static const int len[] = { 6, 1, 1, 0, 1 };
	size_t i, off = 5 * 5 + 1;

	for (i = 0; i < 5; i++) {
		sbuf_u8(b, tok[i]);
		sbuf_u16be(b, off);
		sbuf_u16be(b, len[i]);
		off += len[i];
	}
	sbuf_u8(b, TDS_PL_END);
	sbuf_u8(b, TDS_SRV_MAJOR);
	sbuf_u8(b, TDS_SRV_MINOR);
	sbuf_u16be(b, TDS_SRV_BUILD);
	sbuf_u16be(b, 0);
	sbuf_u8(b, enc);
	sbuf_u8(b, 0); /* INSTOPT: the default instance */
	sbuf_u8(b, 0); /* MARS off, always: FreeTDS drops to 7.1 without */
}

/*
 * Answer PRELOGIN and run the TLS handshake if one was agreed.  Returns
 * the agreed ENCRYPTION value, -1 when the client is gone, or -2 when
 * the client skipped PRELOGIN and c->msg already holds its LOGIN7.
 */
int
login_prelogin(struct tds_conn *c)
{
	const unsigned char *v;
	struct sbuf reply;
	size_t vlen;
	int client = TDS_ENC_NOT_SUP, enc, rc;

	if (tds_read_message(c) == -1)
		return (-1);
	if (c->mtype == TDS_PKT_LOGIN7)
		return (-2);
	if (c->mtype != TDS_PKT_PRELOGIN)
		return (-1);
	if (login_prelogin_option(
		c->msg.data, c->msg.len, TDS_PL_ENCRYPTION, &v, &vlen) == 0 &&
	    vlen >= 1)
		client = v[0];
	enc = login_encryption(c, client);
	sbuf_init(&reply);
	login_prelogin_reply(&reply, enc);
	rc = tds_send_message(c, TDS_PKT_REPLY, reply.data, reply.len);
	sbuf_free(&reply);
	if (rc == -1)
		return (-1);
	if (enc != TDS_ENC_NOT_SUP && login_tls_handshake(c) == -1)
		return (-1);
	return (enc);
}

/* The TLS handshake, its records wrapped in PRELOGIN packets. */
static int
login_tls_handshake(struct tds_conn *c)
{
	struct sim_tls *t;
	struct sbuf out;
	int rc;

	if ((t = tls_new(c->tlsctx)) == NULL)
		return (-1);
	sbuf_init(&out);
	do {
		if (tds_read_message(c) == -1 || c->mtype != TDS_PKT_PRELOGIN) {
			rc = -1;
			break;
		}
		sbuf_reset(&out);
		rc = tls_handshake(t, c->msg.data, c->msg.len, &out);
		if (rc != -1 && out.len > 0 &&
		    tds_send_message(c, TDS_PKT_PRELOGIN, out.data, out.len) ==
			-1)
			rc = -1;
	} while (rc == 0);
	sbuf_free(&out);
	if (rc == -1) {
		tls_free(t);
		return (-1);
	}
	c->tls = t;
	return (0);
}

/*
 * LOGIN7.
 */

/* A LOGIN7 field: (offset, length in characters) at position at. */
static char *
login_string(const unsigned char *p, size_t len, size_t at, int pass)
{
	unsigned char *tmp;
	size_t off, n, i;
	char *s;

	off = util_get_u16le(p + at);
	n = util_get_u16le(p + at + 2) * 2;
	if (off + n > len)
		return (NULL);
	tmp = util_xmalloc(n + 1);
	memcpy(tmp, p + off, n);
	/* Password bytes: XOR 0xA5, then swap the nibbles. */
	for (i = 0; pass && i < n; i++) {
		tmp[i] ^= 0xa5;
		tmp[i] = (tmp[i] << 4) | (tmp[i] >> 4);
	}
	if (util_ucs2_to_utf8(tmp, n, &s, NULL) == -1)
		s = NULL;
	free(tmp);
	return (s);
}

struct tds_login7 {
	uint32_t version;
	uint32_t pktsize;
	char *user;
	char *password;
	char *app;
	char *database;
};

/* Parse the LOGIN7 record in c->msg. */
static int
login_parse(struct tds_conn *c, struct tds_login7 *l)
{
	const unsigned char *p = c->msg.data;
	size_t len = c->msg.len;

	memset(l, 0, sizeof(*l));
	if (len < 94)
		return (-1);
	l->version = util_get_u32le(p + 4);
	l->pktsize = util_get_u32le(p + 8);
	l->user = login_string(p, len, 40, 0);
	l->password = login_string(p, len, 44, 1);
	l->app = login_string(p, len, 48, 0);
	l->database = login_string(p, len, 68, 0);
	if (l->user == NULL || l->password == NULL || l->app == NULL ||
	    l->database == NULL)
		return (-1);
	return (0);
}

static void
login_free(struct tds_login7 *l)
{
	free(l->user);
	free(l->password);
	free(l->app);
	free(l->database);
}

/* The version we speak: the client's, at most 7.4. */
static uint32_t
login_version(uint32_t client)
{
	if (client >= TDS_VER_74 || client < TDS_VER_71)
		return (TDS_VER_74);
	return (client);
}

/* Refuse a login: 4060 first when the database is the problem. */
static int
login_fail(struct tds_conn *c, const char *user, const struct sim_error *e)
{
	struct sim_error fail;

	if (e->number != 18456)
		tds_put_message(c, e, 1);
	if (e->number == 18456)
		fail = *e;
	else
		sim_error_set(
		    &fail, 18456, 14, 1, "Login failed for user '%s'.", user);
	tds_put_message(c, &fail, 1);
	tds_put_done(c, SIM_DONE, SIM_DONE_ERROR, 0);
	tds_flush(c, 1);
	return (-1);
}

/* The tokens of a successful login (SQLSERVER.md 4.4). */
static void
login_reply(struct tds_conn *c, size_t pktsize)
{
	static const unsigned char collation[5] = { 0x09, 0x04, 0xd0, 0x00,
		0x34 };
	struct sim_error e;
	const char *db = engine_session_database(c->sess);
	char newsz[16], oldsz[16];

	tds_put_envchange_str(c, SIM_ENV_DATABASE, db, "master");
	sim_error_set(&e, 5701, 0, 2, "Changed database context to '%s'.", db);
	tds_put_message(c, &e, 0);
	tds_put_envchange_str(c, SIM_ENV_LANGUAGE, "us_english", "");
	sim_error_set(
	    &e, 5703, 0, 1, "Changed language setting to us_english.");
	tds_put_message(c, &e, 0);
	tds_put_envchange_bin(c, SIM_ENV_COLLATION, collation, 5, NULL, 0);
	login_put_loginack(c);
	snprintf(newsz, sizeof(newsz), "%zu", pktsize);
	snprintf(oldsz, sizeof(oldsz), "%d", TDS_DEFAULT_PKTSIZE);
	tds_put_envchange_str(c, SIM_ENV_PACKETSIZE, newsz, oldsz);
	tds_put_done(c, SIM_DONE, SIM_DONE_FINAL, 0);
}

/*
 * Read LOGIN7 (already in c->msg when enc is -2: no PRELOGIN) and log
 * in.  With login-only encryption TLS ends once LOGIN7 is read.
 */
int
login_login7(struct tds_conn *c, int enc)
{
	struct tds_login7 l;
	struct sim_error e;
	size_t pktsize;
	int rc;

	if (enc != -2 && tds_read_message(c) == -1)
		return (-1);
	if (enc == TDS_ENC_OFF) {
		tls_free(c->tls);
		c->tls = NULL;
	}
	if (c->mtype != TDS_PKT_LOGIN7 || login_parse(c, &l) == -1) {
		if (c->mtype == TDS_PKT_LOGIN7)
			login_free(&l);
		return (-1);
	}
	c->tdsver = login_version(l.version);
	snprintf(c->user, sizeof(c->user), "%s", l.user);
	pktsize = l.pktsize == 0 ? TDS_DEFAULT_PKTSIZE : l.pktsize;
	if (pktsize < 512)
		pktsize = 512;
	if (pktsize > TDS_MAX_PKTSIZE)
		pktsize = TDS_MAX_PKTSIZE;
	pktsize &= ~(size_t)3;
	memset(&e, 0, sizeof(e));
	rc = engine_login(
	    c->srv, l.user, l.password, l.database, l.app, &c->sess, &e);
	if (rc == -1) {
		rc = login_fail(c, l.user, &e);
		login_free(&l);
		return (rc);
	}
	login_free(&l);
	c->spid = engine_session_spid(c->sess);
	login_reply(c, pktsize);
	if (tds_flush(c, 1) == -1)
		return (-1);
	c->pktsize = pktsize;
	return (0);
}
