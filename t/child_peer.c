/*
 * The other end of t/check_child.c: a worker stand-in, run as a real
 * process by supervisor/child.c exactly as mssql-capture runs its
 * workers ("<binary> -P worker -I <id> -c <config>", socket on fd 3).
 * It is not a model of SQL Server or of the real worker: it speaks the
 * frame protocol through common/proc.c and behaves as its binding id
 * says (child_peer.h), so the tests can make it crash, fail or
 * ignore a stop.
 *
 * Before anything else it checks what child.c promises a worker: fd 3
 * is a Unix stream socket, nothing else is open from fd 4 up, and
 * stdin and stdout are /dev/null.  If not, it exits with
 * PEER_EXIT_BAD_FDS before saying HELLO.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common.h"
#include "child_peer.h"

struct peer_state {
	struct proc_peer *peer;
	uint32_t id;
	int behaviour;
};

static int peer_fds_ok(void);
static int peer_is_null(int);
static void peer_dispatch(const struct frame *, void *);
static void peer_send_error(
    struct peer_state *, enum frame_error_code, const char *);
static __dead void peer_exit(struct peer_state *, int);

/* Is fd the null device? */
static int
peer_is_null(int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) == -1 || stat("/dev/null", &b) == -1)
		return (0);
	return (S_ISCHR(a.st_mode) && a.st_rdev == b.st_rdev);
}

/* fd 3 a stream socket, 4 and up closed, stdin and stdout null. */
static int
peer_fds_ok(void)
{
	int fd, type;
	socklen_t len = sizeof(type);

	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM)
		return (0);
	if (fcntl(3, F_GETFD) & FD_CLOEXEC)
		return (0);
	for (fd = 4; fd < 256; fd++) {
		if (fcntl(fd, F_GETFD) != -1) {
			fprintf(stderr, "child_peer: fd %d is open\n", fd);
			return (0);
		}
	}
	return (peer_is_null(STDIN_FILENO) && peer_is_null(STDOUT_FILENO));
}

/* Flush what is queued and exit. */
static __dead void
peer_exit(struct peer_state *ps, int status)
{
	proc_flush(ps->peer, 5000);
	exit(status);
}

/* Queue a FRAME_ERROR. */
static void
peer_send_error(
    struct peer_state *ps, enum frame_error_code code, const char *msg)
{
	struct frame_error e;
	uint8_t *data;
	size_t len;

	e.code = code;
	e.message = (char *)msg;
	data = frame_pack_error(&e, ps->id, (uint32_t)getpid(), &len);
	proc_send_frame(ps->peer, data, len);
}

/* Frames from the supervisor: STOP and EOF end the process (D5). */
static void
peer_dispatch(const struct frame *f, void *arg)
{
	struct peer_state *ps = arg;

	if (f == NULL)
		exit(0);
	if (f->hdr.type == FRAME_STOP && ps->behaviour != PEER_DEAF)
		peer_exit(ps, 0);
}

/* Entry point when check_child runs as "-P worker -I id ...". */
int
child_peer_main(int argc, char **argv)
{
	struct peer_state ps;
	struct frame_hello h;
	struct event_base *base;
	uint8_t *data;
	size_t len;
	int ch;

	memset(&ps, 0, sizeof(ps));
	while ((ch = getopt(argc, argv, "P:I:B:c:v")) != -1) {
		if (ch == 'I')
			ps.id = strtoul(optarg, NULL, 10);
	}
	log_init("child_peer", LOG_LEVEL_WARN, 0);
	if (!peer_fds_ok())
		return (PEER_EXIT_BAD_FDS);
	ps.behaviour = ps.id / 100;
	base = event_base_new();
	ps.peer = proc_add_peer(base, 3, peer_dispatch, &ps);
	h.version = PROTOCOL_VERSION;
	h.binding_id = ps.behaviour == PEER_BAD_HELLO ? ps.id + 1 : ps.id;
	data = frame_pack_hello(&h, ps.id, (uint32_t)getpid(), &len);
	proc_send_frame(ps.peer, data, len);
	switch (ps.behaviour) {
	case PEER_EXIT0:
		peer_exit(&ps, 0);
	case PEER_CRASH:
		peer_exit(&ps, 2);
	case PEER_FAILED:
		peer_send_error(&ps, FRAME_ERROR_FAILED, "no primary key");
		peer_exit(&ps, 1);
	case PEER_RETRY:
		peer_send_error(&ps, FRAME_ERROR_RETRYABLE, "server down");
		peer_exit(&ps, 1);
	}
	event_base_dispatch(base);
	return (0);
}
