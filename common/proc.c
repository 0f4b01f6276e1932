/*
 * Peers: one end of a socketpair carrying frames (proto.h), for both the
 * supervisor (one peer per worker) and a worker (its peer on fd 3).
 * Modelled on tmux proc.c and OpenSMTPD mproc.c (STYLE.md D2, D3).
 *
 * A peer owns its descriptor (made non-blocking), an incremental
 * frame_reader and a queue of packed frames to write.  One libevent
 * callback serves both directions:
 *
 *  - Read: read(2) once, then hand every complete frame to the dispatch
 *    callback in order.  The frame's body points into the reader and is
 *    valid only until the callback returns: the dispatcher owns the
 *    frame, the handler copies what it keeps (the frame_decode_*()
 *    functions do), STYLE.md C3.  EOF, a read error or a malformed
 *    stream (a frame over the limit, EOF inside a frame) is reported
 *    once as a NULL frame; after that the peer is inert until the owner
 *    calls proc_remove_peer().
 *  - Write: EV_WRITE is requested only while the queue is non-empty
 *    (tmux proc_update_event()), so an idle peer costs no wake-ups.
 *    Writes use sendmsg(MSG_NOSIGNAL): a dead peer is an EPIPE reported
 *    as NULL, never a SIGPIPE.
 *
 * Backpressure is "stop reading" (mproc_disable()): proc_pause_reading()
 * stops both reading the socket and dispatching frames already buffered,
 * so a paused peer delivers nothing; the kernel's socket buffer fills
 * and the sender's writes stall.  proc_resume_reading() delivers what
 * was buffered from the event loop, never from inside the call.
 *
 * A handler may call proc_remove_peer() on its own peer, even while the
 * peer is dispatching a burst of frames: the peer is then only marked
 * dead and freed once the callback returns, and no further frame of the
 * burst is delivered.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "common.h"

#define PROC_IOV_MAX 64

/* What one read(2) gave. */
#define PROC_READ_AGAIN 0
#define PROC_READ_DATA 1
#define PROC_READ_EOF 2

/* One packed frame waiting to be written. */
struct proc_msg {
	uint8_t *data;
	size_t len;
	size_t off; /* bytes already written */
	TAILQ_ENTRY(proc_msg) entry;
};
TAILQ_HEAD(proc_msgs, proc_msg);

struct proc_peer {
	struct event_base *base;
	int fd;
	struct event ev;
	struct frame_reader *rd;
	struct proc_msgs queue;
	size_t queued; /* bytes */
	char *name;
	int flags;
#define PROC_PEER_PAUSED 0x1
#define PROC_PEER_DONE 0x2 /* NULL reported, inert */
#define PROC_PEER_DISPATCHING 0x4
#define PROC_PEER_DEAD 0x8 /* removed while dispatching */
#define PROC_PEER_EOF 0x10 /* end of stream read */
#define PROC_PEER_BACKLOG 0x20 /* complete frames may be buffered */
	proc_dispatch_cb dispatchcb;
	void *arg;
};

static void proc_event_cb(int, short, void *);
static void proc_update_event(struct proc_peer *);
static int proc_deliver(struct proc_peer *, const struct frame *);
static int proc_dispatch_frames(struct proc_peer *);
static int proc_read(struct proc_peer *);
static int proc_check_eof(struct proc_peer *);
static int proc_write(struct proc_peer *);
static int proc_report_end(struct proc_peer *);
static void proc_enqueue(struct proc_peer *, uint8_t *, size_t);
static void proc_free(struct proc_peer *);

/* Start serving fd (which the peer owns from now on). */
struct proc_peer *
proc_add_peer(
    struct event_base *base, int fd, proc_dispatch_cb dispatchcb, void *arg)
{
	struct proc_peer *peer;
	int flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal("%s: fcntl", __func__);
	peer = xcalloc(1, sizeof(*peer));
	peer->base = base;
	peer->fd = fd;
	peer->rd = frame_reader_create(0);
	TAILQ_INIT(&peer->queue);
	peer->name = xstrdup("peer");
	peer->dispatchcb = dispatchcb;
	peer->arg = arg;
	event_assign(&peer->ev, base, fd, 0, proc_event_cb, peer);
	proc_update_event(peer);
	return (peer);
}

/* Free what a peer holds and close its descriptor. */
static void
proc_free(struct proc_peer *peer)
{
	struct proc_msg *msg;

	event_del(&peer->ev);
	while ((msg = TAILQ_FIRST(&peer->queue)) != NULL) {
		TAILQ_REMOVE(&peer->queue, msg, entry);
		free(msg->data);
		free(msg);
	}
	frame_reader_free(peer->rd);
	close(peer->fd);
	free(peer->name);
	free(peer);
}

/* Stop serving a peer: close it and drop what was not written. */
void
proc_remove_peer(struct proc_peer *peer)
{
	if (peer == NULL)
		return;
	if (peer->flags & PROC_PEER_DISPATCHING) {
		peer->flags |= PROC_PEER_DEAD;
		event_del(&peer->ev);
		return;
	}
	proc_free(peer);
}

/* Name the peer in log lines ("worker dbo.orders (pid 42)"). */
void
proc_set_name(struct proc_peer *peer, const char *name)
{
	free(peer->name);
	peer->name = xstrdup(name);
}

/* Return the peer's name. */
const char *
proc_get_name(const struct proc_peer *peer)
{
	return (peer->name);
}

/* Ask for exactly the events the peer can use now (tmux proc.c). */
static void
proc_update_event(struct proc_peer *peer)
{
	short events = 0;

	event_del(&peer->ev);
	if (peer->flags & (PROC_PEER_DONE | PROC_PEER_DEAD))
		return;
	if (!(peer->flags & (PROC_PEER_PAUSED | PROC_PEER_EOF)))
		events |= EV_READ;
	if (!TAILQ_EMPTY(&peer->queue))
		events |= EV_WRITE;
	event_assign(
	    &peer->ev, peer->base, peer->fd, events, proc_event_cb, peer);
	if (events != 0 && event_add(&peer->ev, NULL) != 0)
		fatalx("%s: event_add failed", peer->name);
	/*
	 * Frames left buffered by a pause, or an end of stream not yet
	 * reported, wait for no more bytes: deliver them from the loop.
	 */
	if (!(peer->flags & (PROC_PEER_PAUSED | PROC_PEER_DISPATCHING)) &&
	    (peer->flags & (PROC_PEER_BACKLOG | PROC_PEER_EOF)))
		event_active(&peer->ev, EV_READ, 0);
}

/*
 * Call the handler with a frame (NULL: the end).  Returns -1 if the
 * handler removed the peer, which is then freed.
 */
static int
proc_deliver(struct proc_peer *peer, const struct frame *f)
{
	peer->flags |= PROC_PEER_DISPATCHING;
	peer->dispatchcb(f, peer->arg);
	peer->flags &= ~PROC_PEER_DISPATCHING;
	if (peer->flags & PROC_PEER_DEAD) {
		proc_free(peer);
		return (-1);
	}
	return (0);
}

/* Report the end of the peer once.  Returns -1 if the peer is gone. */
static int
proc_report_end(struct proc_peer *peer)
{
	if (peer->flags & PROC_PEER_DONE)
		return (0);
	peer->flags |= PROC_PEER_DONE;
	event_del(&peer->ev);
	return (proc_deliver(peer, NULL));
}

/*
 * Deliver every complete frame buffered, unless paused.  Returns -1 if
 * the peer is gone or has ended (the caller must not touch it).
 */
static int
proc_dispatch_frames(struct proc_peer *peer)
{
	struct frame f;
	char *cause = NULL;
	int rc;

	peer->flags |= PROC_PEER_BACKLOG;
	while (!(peer->flags & (PROC_PEER_PAUSED | PROC_PEER_DONE))) {
		rc = frame_reader_pop(peer->rd, &f, &cause);
		if (rc == 0) {
			peer->flags &= ~PROC_PEER_BACKLOG;
			return (0);
		}
		if (rc == -1) {
			log_warnx(
			    "%s: bad frame stream: %s", peer->name, cause);
			free(cause);
			proc_report_end(peer);
			return (-1);
		}
		log_debug("%s: received %s (%u bytes)", peer->name,
		    frame_type_name(f.hdr.type), f.hdr.len);
		if (proc_deliver(peer, &f) != 0)
			return (-1);
	}
	return (peer->flags & PROC_PEER_DONE) ? -1 : 0;
}

/*
 * Read once: PROC_READ_DATA, PROC_READ_AGAIN (nothing now), PROC_READ_EOF,
 * or -1 if the peer has ended (an error, reported).
 */
static int
proc_read(struct proc_peer *peer)
{
	ssize_t n;

	n = frame_reader_read(peer->rd, peer->fd);
	if (n > 0)
		return (PROC_READ_DATA);
	if (n == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return (PROC_READ_AGAIN);
	if (n == -1) {
		log_warn("%s: read", peer->name);
		proc_report_end(peer);
		return (-1);
	}
	peer->flags |= PROC_PEER_EOF;
	return (PROC_READ_EOF);
}

/* Write as much of the queue as the socket takes; -1 on error. */
static int
proc_write(struct proc_peer *peer)
{
	struct iovec iov[PROC_IOV_MAX];
	struct msghdr mh;
	struct proc_msg *msg;
	ssize_t n;
	int i = 0;

	TAILQ_FOREACH(msg, &peer->queue, entry)
	{
		if (i == PROC_IOV_MAX)
			break;
		iov[i].iov_base = msg->data + msg->off;
		iov[i++].iov_len = msg->len - msg->off;
	}
	if (i == 0)
		return (0);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = i;
	if ((n = sendmsg(peer->fd, &mh, MSG_NOSIGNAL)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return (0);
		log_warn("%s: write", peer->name);
		return (-1);
	}
	peer->queued -= n;
	while ((msg = TAILQ_FIRST(&peer->queue)) != NULL && n > 0) {
		if ((size_t)n < msg->len - msg->off) {
			msg->off += n;
			break;
		}
		n -= msg->len - msg->off;
		TAILQ_REMOVE(&peer->queue, msg, entry);
		free(msg->data);
		free(msg);
	}
	return (0);
}

/*
 * Finish after end of stream once every buffered frame is delivered (a
 * pause can leave some).  Returns -1 if the peer has ended.
 */
static int
proc_check_eof(struct proc_peer *peer)
{
	if (!(peer->flags & PROC_PEER_EOF) || (peer->flags & PROC_PEER_PAUSED))
		return (0);
	if (frame_reader_pending(peer->rd) != 0)
		log_warnx("%s: end of stream inside a frame (%zu bytes)",
		    peer->name, frame_reader_pending(peer->rd));
	proc_report_end(peer);
	return (-1);
}

/* The one callback of a peer: read and dispatch, then write. */
static void
proc_event_cb(int fd, short events, void *arg)
{
	struct proc_peer *peer = arg;

	if ((events & EV_READ) && !(peer->flags & PROC_PEER_PAUSED)) {
		if (!(peer->flags & PROC_PEER_EOF) && proc_read(peer) == -1)
			return;
		if (proc_dispatch_frames(peer) != 0 ||
		    proc_check_eof(peer) != 0)
			return;
	}
	if ((events & EV_WRITE) && proc_write(peer) != 0) {
		proc_report_end(peer);
		return;
	}
	proc_update_event(peer);
}

/* Append a packed frame to the output queue (which takes it). */
static void
proc_enqueue(struct proc_peer *peer, uint8_t *data, size_t len)
{
	struct proc_msg *msg;
	struct frame_header hdr;

	frame_header_read(data, &hdr);
	log_debug("%s: sending %s (%u bytes)", peer->name,
	    frame_type_name(hdr.type), hdr.len);
	msg = xcalloc(1, sizeof(*msg));
	msg->data = data;
	msg->len = len;
	TAILQ_INSERT_TAIL(&peer->queue, msg, entry);
	peer->queued += len;
	proc_update_event(peer);
}

/*
 * Queue a frame made of a header and len bytes of body (copied).
 * Returns -1 if it is too large or the peer has ended.
 */
int
proc_send(struct proc_peer *peer, uint32_t type, uint32_t peerid, uint32_t pid,
    const void *body, size_t len)
{
	struct frame_header hdr;
	uint8_t *data;

	if (peer->flags & (PROC_PEER_DONE | PROC_PEER_DEAD))
		return (-1);
	if (len > FRAME_MAX_SIZE - FRAME_HEADER_SIZE)
		return (-1);
	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.pid = pid;
	data = xmalloc(FRAME_HEADER_SIZE + len);
	frame_header_write(data, &hdr);
	if (len != 0)
		memcpy(data + FRAME_HEADER_SIZE, body, len);
	proc_enqueue(peer, data, FRAME_HEADER_SIZE + len);
	return (0);
}

/*
 * Queue a frame packed by frame_pack_*(), which the peer takes (and
 * frees on error).  NULL (the packer refused) is an error.
 */
int
proc_send_frame(struct proc_peer *peer, uint8_t *data, size_t len)
{
	if (data == NULL || len < FRAME_HEADER_SIZE ||
	    (peer->flags & (PROC_PEER_DONE | PROC_PEER_DEAD))) {
		free(data);
		return (-1);
	}
	proc_enqueue(peer, data, len);
	return (0);
}

/* Bytes queued and not yet written. */
size_t
proc_queued(const struct proc_peer *peer)
{
	return (peer->queued);
}

/* Stop reading and dispatching (backpressure). */
void
proc_pause_reading(struct proc_peer *peer)
{
	if (peer->flags & PROC_PEER_PAUSED)
		return;
	peer->flags |= PROC_PEER_PAUSED;
	proc_update_event(peer);
}

/* Read again; frames buffered meanwhile are delivered from the loop. */
void
proc_resume_reading(struct proc_peer *peer)
{
	if (!(peer->flags & PROC_PEER_PAUSED))
		return;
	peer->flags &= ~PROC_PEER_PAUSED;
	proc_update_event(peer);
}

/* Is reading paused? */
int
proc_paused(const struct proc_peer *peer)
{
	return ((peer->flags & PROC_PEER_PAUSED) != 0);
}

/*
 * Read and deliver everything the socket holds now, paused or not, up
 * to end of stream (reported as NULL) or until it would block.  For a
 * peer whose process has exited: all it wrote is in the socket.
 * Returns -1 if the peer has ended (or is gone).
 */
int
proc_drain(struct proc_peer *peer)
{
	int paused = peer->flags & PROC_PEER_PAUSED, rc = PROC_READ_DATA;

	if (peer->flags & (PROC_PEER_DONE | PROC_PEER_DEAD))
		return (-1);
	while (rc == PROC_READ_DATA) {
		peer->flags &= ~PROC_PEER_PAUSED;
		if (!(peer->flags & PROC_PEER_EOF) &&
		    (rc = proc_read(peer)) == -1)
			return (-1);
		do {
			/* A handler pausing now does not stop the drain. */
			paused |= peer->flags & PROC_PEER_PAUSED;
			peer->flags &= ~PROC_PEER_PAUSED;
			if (proc_dispatch_frames(peer) != 0)
				return (-1);
		} while (peer->flags & PROC_PEER_PAUSED);
		if (proc_check_eof(peer) != 0)
			return (-1);
	}
	peer->flags |= paused;
	proc_update_event(peer);
	return (0);
}

/*
 * Write the whole queue now, waiting up to timeout_ms (a worker about
 * to exit after FRAME_ERROR).  Returns 0 once empty, -1 on error or
 * timeout.
 */
int
proc_flush(struct proc_peer *peer, int timeout_ms)
{
	struct pollfd pfd;
	struct timespec start, now;
	int left;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!TAILQ_EMPTY(&peer->queue)) {
		if (proc_write(peer) != 0)
			return (-1);
		if (TAILQ_EMPTY(&peer->queue))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms -
		    (int)((now.tv_sec - start.tv_sec) * 1000 +
			(now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return (-1);
		pfd.fd = peer->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, left) == -1 && errno != EINTR)
			return (-1);
	}
	proc_update_event(peer);
	return (0);
}
