/*
 * TLS for the TDS front end, server side, on OpenSSL.
 *
 * TDS does not start TLS on a bare socket.  The client's handshake
 * records arrive wrapped in PRELOGIN (0x12) packets and the server's
 * answer goes back the same way; only once the handshake is over do TLS
 * records travel raw on the socket (and with "login-only" encryption
 * only until the LOGIN7 packet has been read).  So the SSL object never
 * touches the socket: it sits between two memory BIOs, tds.c hands the
 * unwrapped handshake bytes to tls_handshake() and sends what comes
 * back, and afterwards tls_read()/tls_write() move raw records between
 * the BIOs and the socket themselves.
 *
 * Only TLS 1.2 is offered: TLS 1.3 sends session tickets after the
 * handshake, which would arrive where a TDS client expects a packet.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sim.h"

struct sim_tls {
	SSL *ssl;
	BIO *rbio; /* records from the client */
	BIO *wbio; /* records for the client */
};

static int tls_drain(struct sim_tls *, int);
static int tls_fill(struct sim_tls *, int);

/* Load the certificate and key; NULL (and a message) on failure. */
struct sim_tlsctx *
tls_ctx_new(const char *cert, const char *key)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	return ((struct sim_tlsctx *)ctx);
fail:
	fprintf(stderr, "mssqlsim: TLS setup (%s, %s) failed: %s\n", cert, key,
	    ERR_error_string(ERR_get_error(), NULL));
	SSL_CTX_free(ctx);
	return (NULL);
}

/* Release a context. */
void
tls_ctx_free(struct sim_tlsctx *ctx)
{
	SSL_CTX_free((SSL_CTX *)ctx);
}

/* Start the server side of one connection. */
struct sim_tls *
tls_new(struct sim_tlsctx *ctx)
{
	struct sim_tls *t;

	t = util_xmalloc(sizeof(*t));
	if ((t->ssl = SSL_new((SSL_CTX *)ctx)) == NULL) {
		free(t);
		return (NULL);
	}
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_accept_state(t->ssl);
	return (t);
}

/* End TLS on a connection (no close_notify: TDS never sends one). */
void
tls_free(struct sim_tls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);
	free(t);
}

/* Move everything the SSL object wants to send into a buffer. */
static void
tls_take_output(struct sim_tls *t, struct sbuf *out)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(t->wbio, buf, sizeof(buf))) > 0)
		sbuf_add(out, buf, n);
}

/*
 * Feed one unwrapped PRELOGIN payload of handshake records; the records
 * to answer with are appended to out.  Returns 1 when the handshake is
 * complete, 0 when more client records are needed, -1 on failure.
 */
int
tls_handshake(
    struct sim_tls *t, const unsigned char *in, size_t len, struct sbuf *out)
{
	int rc;

	if (len > 0 && BIO_write(t->rbio, in, len) != (int)len)
		return (-1);
	rc = SSL_do_handshake(t->ssl);
	tls_take_output(t, out);
	if (rc == 1)
		return (1);
	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return (0);
	default:
		fprintf(stderr, "mssqlsim: TLS handshake failed: %s\n",
		    ERR_error_string(ERR_get_error(), NULL));
		return (-1);
	}
}

/* Send every pending record to the socket. */
static int
tls_drain(struct sim_tls *t, int fd)
{
	char buf[16384];
	ssize_t w;
	int n, off;

	while ((n = BIO_read(t->wbio, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += w) {
			w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				return (-1);
		}
	}
	return (0);
}

/* Read raw records from the socket into the SSL object; 0 on EOF. */
static int
tls_fill(struct sim_tls *t, int fd)
{
	char buf[16384];
	ssize_t n;

	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return (n == 0 ? 0 : -1);
	return (BIO_write(t->rbio, buf, n) == n ? 1 : -1);
}

/* Read up to len decrypted bytes; 0 on EOF, -1 on error. */
ssize_t
tls_read(struct sim_tls *t, int fd, void *buf, size_t len)
{
	int n, rc;

	for (;;) {
		n = SSL_read(t->ssl, buf, len > 65536 ? 65536 : (int)len);
		if (n > 0)
			return (n);
		switch (SSL_get_error(t->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			if (tls_drain(t, fd) == -1)
				return (-1);
			if ((rc = tls_fill(t, fd)) <= 0)
				return (rc);
			break;
		case SSL_ERROR_ZERO_RETURN:
			return (0);
		default:
			return (-1);
		}
	}
}

/* Encrypt and send len bytes; -1 on error. */
int
tls_write(struct sim_tls *t, int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t chunk;
	int n;

	while (len > 0) {
		chunk = len > 16384 ? 16384 : len;
		if ((n = SSL_write(t->ssl, p, chunk)) <= 0)
			return (-1);
		p += n;
		len -= n;
		if (tls_drain(t, fd) == -1)
			return (-1);
	}
	return (0);
}

/* Whether decrypted or raw input is already buffered. */
int
tls_pending(struct sim_tls *t)
{
	return (SSL_pending(t->ssl) > 0 || BIO_ctrl_pending(t->rbio) > 0);
}
