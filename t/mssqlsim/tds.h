/*
 * tds.h: what tds.c (packets, requests, tokens) and login.c (PRELOGIN,
 * TLS negotiation, LOGIN7) share: the protocol constants and the
 * connection they both work on.  Private to the TDS front end; the rest
 * of mssqlsim sees only tds_serve() in sim.h.
 */

#ifndef TDS_H
#define TDS_H

/* Packet types. */
#define TDS_PKT_BATCH 0x01
#define TDS_PKT_RPC 0x03
#define TDS_PKT_REPLY 0x04
#define TDS_PKT_ATTN 0x06
#define TDS_PKT_BULK 0x07
#define TDS_PKT_TM 0x0e
#define TDS_PKT_LOGIN7 0x10
#define TDS_PKT_SSPI 0x11
#define TDS_PKT_PRELOGIN 0x12

/* Packet status bits. */
#define TDS_ST_EOM 0x01
#define TDS_ST_RESET 0x08
#define TDS_ST_RESETSKIPTRAN 0x10

/* Tokens. */
#define TDS_TOK_RETURNSTATUS 0x79
#define TDS_TOK_COLMETADATA 0x81
#define TDS_TOK_ERROR 0xaa
#define TDS_TOK_INFO 0xab
#define TDS_TOK_RETURNVALUE 0xac
#define TDS_TOK_LOGINACK 0xad
#define TDS_TOK_ROW 0xd1
#define TDS_TOK_NBCROW 0xd2
#define TDS_TOK_ENVCHANGE 0xe3

/* PRELOGIN options and ENCRYPTION values. */
#define TDS_PL_VERSION 0
#define TDS_PL_ENCRYPTION 1
#define TDS_PL_INSTOPT 2
#define TDS_PL_THREADID 3
#define TDS_PL_MARS 4
#define TDS_PL_END 0xff
#define TDS_ENC_OFF 0
#define TDS_ENC_ON 1
#define TDS_ENC_NOT_SUP 2
#define TDS_ENC_REQ 3

#define TDS_VER_71 0x71000001
#define TDS_VER_72 0x72090002
#define TDS_VER_73A 0x730a0003
#define TDS_VER_74 0x74000004

#define TDS_DEFAULT_PKTSIZE 4096
#define TDS_MAX_PKTSIZE 32767
#define TDS_FLUSH_AT (64 * 1024)
#define TDS_ATTN_EVERY 256

/* Our version, as PRELOGIN and LOGINACK give it: 15.0.2000. */
#define TDS_SRV_MAJOR 15
#define TDS_SRV_MINOR 0
#define TDS_SRV_BUILD 2000

/* A column of the current result set, as ROW tokens need it. */
struct tds_col {
	struct sim_type type;
	int wire; /* tdstype_wire() */
	int nullcost; /* bytes a NULL takes in a ROW token */
};

struct tds_conn {
	int fd;
	struct sim_server *srv;
	struct sim_tlsctx *tlsctx;
	struct sim_tls *tls;
	const char *server_name;
	struct sim_session *sess;
	char user[129];
	int spid;
	uint32_t tdsver;
	size_t pktsize;
	int dead; /* the client went away */

	/* Input. */
	unsigned char ibuf[16384];
	size_t ipos;
	size_t ilen;
	struct sbuf msg; /* payload of the current request */
	int mtype;
	int mstatus;
	int meom; /* the message's last packet has been read */
	int attn; /* Attention received during this request */

	/* Output. */
	struct sbuf out;
	struct sbuf wire;
	int otype;
	uint8_t pktid;
	int done_held;
	int done_kind;
	int done_status;
	uint64_t done_rows;
	struct tds_col *cols;
	int ncols;
	unsigned rows;
	struct sim_sink sink;
};

/* tds.c */
int tds_read_message(struct tds_conn *);
int tds_send_message(struct tds_conn *, int, const void *, size_t);
int tds_flush(struct tds_conn *, int);
void tds_put_held_done(struct tds_conn *);
void tds_put_done(struct tds_conn *, int, int, uint64_t);
void tds_put_message(struct tds_conn *, const struct sim_error *, int);
void tds_put_envchange_str(struct tds_conn *, int, const char *, const char *);
void tds_put_envchange_bin(struct tds_conn *, int, const unsigned char *,
    size_t, const unsigned char *, size_t);

/* login.c */
int login_prelogin(struct tds_conn *);
int login_login7(struct tds_conn *, int);

#endif /* TDS_H */
