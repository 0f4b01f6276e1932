/*
 * Unit tests for common/proc.c.
 *
 * Everything goes over a real socketpair and a real event loop: one end
 * is a peer, the other end is either a second peer or a raw descriptor
 * the test writes bytes to, so that it decides how frames are cut into
 * reads (many frames in one read, one frame over many reads).  The
 * promises checked: frames arrive whole, in order and unchanged; the
 * end of the stream is reported once as NULL; pausing stops both the
 * delivery and the reading (the socket fills up); a handler may pause
 * or remove its peer in the middle of a burst.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common.h"

#define MAX_SEEN 4096

/* What a peer's handler saw. */
struct seen {
	struct proc_peer *peer;
	uint32_t types[MAX_SEEN];
	uint32_t peerids[MAX_SEEN];
	size_t lens[MAX_SEEN];
	size_t n;
	int ends; /* NULL frames */
	size_t pause_at; /* pause after this many frames (0: never) */
	size_t remove_at; /* remove the peer after this many */
	uint8_t *last_body;
	size_t last_len;
};

static struct event_base *base;
static int sv[2];

static void setup(void);
static void teardown(void);
static void record_cb(const struct frame *, void *);
static void loop_until(struct seen *, size_t, int);
static uint8_t *pack_hello(uint32_t, size_t *);
static void set_nonblock(int);

/* A fresh loop and socketpair per test. */
static void
setup(void)
{
	log_init("check_proc", LOG_LEVEL_WARN, 0);
	signal(SIGPIPE, SIG_DFL); /* proc must not need SIG_IGN */
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void
teardown(void)
{
	event_base_free(base);
}

/* Record each frame; pause or remove the peer when asked to. */
static void
record_cb(const struct frame *f, void *arg)
{
	struct seen *s = arg;

	if (f == NULL) {
		s->ends++;
		proc_remove_peer(s->peer);
		s->peer = NULL;
		return;
	}
	ck_assert_uint_lt(s->n, MAX_SEEN);
	s->types[s->n] = f->hdr.type;
	s->peerids[s->n] = f->hdr.peerid;
	s->lens[s->n] = f->hdr.len;
	free(s->last_body);
	s->last_body = xmalloc(f->hdr.len + 1);
	memcpy(s->last_body, f->body, f->hdr.len);
	s->last_len = f->hdr.len;
	s->n++;
	if (s->pause_at != 0 && s->n == s->pause_at)
		proc_pause_reading(s->peer);
	if (s->remove_at != 0 && s->n == s->remove_at) {
		proc_remove_peer(s->peer);
		s->peer = NULL;
	}
}

/* Run the loop until n frames (or an end) were seen, or tries run out. */
static void
loop_until(struct seen *s, size_t n, int tries)
{
	while (tries-- > 0 && s->n < n && s->ends == 0)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* A packed HELLO for table id. */
static uint8_t *
pack_hello(uint32_t id, size_t *lenp)
{
	struct frame_hello h = { PROTOCOL_VERSION, id };

	return (frame_pack_hello(&h, id, 42, lenp));
}

static void
set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Two peers: frames sent one way arrive whole and in order. */
START_TEST(test_roundtrip)
{
	struct seen a, b;
	uint8_t body[3000], *p;
	size_t len, i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.peer = proc_add_peer(base, sv[0], record_cb, &a);
	b.peer = proc_add_peer(base, sv[1], record_cb, &b);
	for (i = 0; i < sizeof(body); i++)
		body[i] = i * 7;
	p = pack_hello(5, &len);
	ck_assert_int_eq(proc_send_frame(a.peer, p, len), 0);
	ck_assert_int_eq(
	    proc_send(a.peer, FRAME_PROGRESS, 6, 0, body, sizeof(body)), 0);
	ck_assert_int_eq(proc_send(a.peer, FRAME_STOP, 7, 0, NULL, 0), 0);
	ck_assert_uint_gt(proc_queued(a.peer), sizeof(body));
	loop_until(&b, 3, 1000);
	ck_assert_uint_eq(b.n, 3);
	ck_assert_uint_eq(proc_queued(a.peer), 0);
	ck_assert_uint_eq(b.types[0], FRAME_HELLO);
	ck_assert_uint_eq(b.peerids[0], 5);
	ck_assert_uint_eq(b.types[1], FRAME_PROGRESS);
	ck_assert_uint_eq(b.lens[1], sizeof(body));
	ck_assert_uint_eq(b.types[2], FRAME_STOP);
	ck_assert_uint_eq(b.last_len, 0);
	/* And back. */
	p = pack_hello(9, &len);
	ck_assert_int_eq(proc_send_frame(b.peer, p, len), 0);
	loop_until(&a, 1, 1000);
	ck_assert_uint_eq(a.n, 1);
	ck_assert_uint_eq(a.peerids[0], 9);
	ck_assert_int_eq(proc_send_frame(a.peer, NULL, 0), -1);
	proc_remove_peer(a.peer);
	proc_remove_peer(b.peer);
	free(a.last_body);
	free(b.last_body);
}
END_TEST

/* A large frame goes out in many writes and in many reads. */
START_TEST(test_large_frame)
{
	struct seen a, b;
	size_t big = 4 * 1024 * 1024, i;
	uint8_t *body;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.peer = proc_add_peer(base, sv[0], record_cb, &a);
	b.peer = proc_add_peer(base, sv[1], record_cb, &b);
	body = xmalloc(big);
	for (i = 0; i < big; i++)
		body[i] = (uint8_t)(i ^ (i >> 8));
	ck_assert_int_eq(proc_send(a.peer, FRAME_EVENTS, 1, 2, body, big), 0);
	loop_until(&b, 1, 100000);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(b.last_len, big);
	ck_assert(memcmp(b.last_body, body, big) == 0);
	free(body);
	proc_remove_peer(a.peer);
	proc_remove_peer(b.peer);
	free(a.last_body);
	free(b.last_body);
}
END_TEST

/* Many frames arriving in one read are all delivered by one callback. */
START_TEST(test_many_in_one_read)
{
	struct seen s;
	uint8_t buf[8192], *p;
	size_t len, off = 0, i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 100; i++) {
		p = pack_hello(i, &len);
		ck_assert_uint_le(off + len, sizeof(buf));
		memcpy(buf + off, p, len);
		off += len;
		free(p);
	}
	ck_assert_int_eq(write(sv[1], buf, off), (ssize_t)off);
	s.peer = proc_add_peer(base, sv[0], record_cb, &s);
	event_base_loop(base, EVLOOP_ONCE);
	ck_assert_uint_eq(s.n, 100);
	for (i = 0; i < 100; i++)
		ck_assert_uint_eq(s.peerids[i], i);
	proc_remove_peer(s.peer);
	close(sv[1]);
	free(s.last_body);
}
END_TEST

/* One frame split over many reads is delivered once, when complete. */
START_TEST(test_split_frame)
{
	struct seen s;
	uint8_t *p;
	size_t len, i;

	memset(&s, 0, sizeof(s));
	s.peer = proc_add_peer(base, sv[0], record_cb, &s);
	p = pack_hello(77, &len);
	for (i = 0; i < len; i++) {
		ck_assert_int_eq(write(sv[1], p + i, 1), 1);
		event_base_loop(base, EVLOOP_ONCE);
		ck_assert_uint_eq(s.n, i + 1 == len ? 1 : 0);
	}
	ck_assert_uint_eq(s.peerids[0], 77);
	/* A second frame, cut in the middle of its header. */
	ck_assert_int_eq(write(sv[1], p, 7), 7);
	event_base_loop(base, EVLOOP_ONCE);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_int_eq(write(sv[1], p + 7, len - 7), (ssize_t)(len - 7));
	event_base_loop(base, EVLOOP_ONCE);
	ck_assert_uint_eq(s.n, 2);
	free(p);
	proc_remove_peer(s.peer);
	close(sv[1]);
	free(s.last_body);
}
END_TEST

/* End of stream: frames before it first, then NULL exactly once. */
START_TEST(test_eof)
{
	struct seen s;
	uint8_t *p;
	size_t len;

	memset(&s, 0, sizeof(s));
	s.peer = proc_add_peer(base, sv[0], record_cb, &s);
	p = pack_hello(3, &len);
	ck_assert_int_eq(write(sv[1], p, len), (ssize_t)len);
	free(p);
	close(sv[1]);
	loop_until(&s, 2, 100);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_int_eq(s.ends, 1);
	ck_assert_ptr_null(s.peer);
	free(s.last_body);
}
END_TEST

/* End of stream inside a frame, or a bad header, also ends the peer. */
START_TEST(test_bad_stream)
{
	struct seen s;
	uint8_t *p, hdr[FRAME_HEADER_SIZE];
	struct frame_header h = { FRAME_EVENTS, FRAME_MAX_SIZE, 1, 1 };
	size_t len;
	int sv2[2];

	memset(&s, 0, sizeof(s));
	s.peer = proc_add_peer(base, sv[0], record_cb, &s);
	p = pack_hello(3, &len);
	ck_assert_int_eq(write(sv[1], p, len - 1), (ssize_t)(len - 1));
	free(p);
	close(sv[1]);
	loop_until(&s, 1, 100);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(s.ends, 1);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
	memset(&s, 0, sizeof(s));
	s.peer = proc_add_peer(base, sv2[0], record_cb, &s);
	frame_header_write(hdr, &h);
	ck_assert_int_eq(write(sv2[1], hdr, sizeof(hdr)), sizeof(hdr));
	loop_until(&s, 1, 100);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(s.ends, 1);
	close(sv2[1]);
}
END_TEST

/* Writing to a closed socket ends the peer, without SIGPIPE. */
START_TEST(test_write_to_closed)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	s.peer = proc_add_peer(base, sv[0], record_cb, &s);
	proc_pause_reading(s.peer); /* so only the write can end it */
	close(sv[1]);
	ck_assert_int_eq(proc_send(s.peer, FRAME_STOP, 1, 0, NULL, 0), 0);
	loop_until(&s, 1, 100);
	ck_assert_int_eq(s.ends, 1);
}
END_TEST

/*
 * Backpressure: a paused peer neither delivers nor reads, so the
 * writer's socket fills up; on resume everything arrives in order.
 */
START_TEST(test_pause)
{
	struct seen s;
	uint8_t *p;
	size_t len, sent = 0, i;
	ssize_t n;

	memset(&s, 0, sizeof(s));
	s.peer = proc_add_peer(base, sv[0], record_cb, &s);
	proc_pause_reading(s.peer);
	ck_assert_int_eq(proc_paused(s.peer), 1);
	set_nonblock(sv[1]);
	for (;;) {
		p = pack_hello(sent, &len);
		n = write(sv[1], p, len);
		free(p);
		if (n == -1) {
			ck_assert_int_eq(errno, EAGAIN);
			break;
		}
		ck_assert_int_eq(n, (ssize_t)len); /* hello is tiny */
		sent++;
		if (sent % 64 == 0)
			for (i = 0; i < 4; i++)
				event_base_loop(
				    base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		ck_assert_uint_lt(sent, MAX_SEEN);
	}
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_gt(sent, 10);
	proc_resume_reading(s.peer);
	ck_assert_int_eq(proc_paused(s.peer), 0);
	loop_until(&s, sent, 10000);
	ck_assert_uint_eq(s.n, sent);
	for (i = 0; i < sent; i++)
		ck_assert_uint_eq(s.peerids[i], i);
	proc_remove_peer(s.peer);
	close(sv[1]);
	free(s.last_body);
}
END_TEST

/*
 * A handler pausing in the middle of a burst stops delivery there, even
 * with the rest buffered and the stream ended; resume delivers the
 * rest, then the end.
 */
START_TEST(test_pause_in_burst)
{
	struct seen s;
	uint8_t buf[4096], *p;
	size_t len, off = 0, i;
	int k;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 10; i++) {
		p = pack_hello(i, &len);
		memcpy(buf + off, p, len);
		off += len;
		free(p);
	}
	ck_assert_int_eq(write(sv[1], buf, off), (ssize_t)off);
	close(sv[1]);
	s.pause_at = 3;
	s.peer = proc_add_peer(base, sv[0], record_cb, &s);
	for (k = 0; k < 20; k++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_int_eq(s.ends, 0);
	s.pause_at = 0;
	proc_resume_reading(s.peer);
	ck_assert_uint_eq(s.n, 3); /* from the loop, not from resume */
	loop_until(&s, 11, 100);
	ck_assert_uint_eq(s.n, 10);
	ck_assert_int_eq(s.ends, 1);
	for (i = 0; i < 10; i++)
		ck_assert_uint_eq(s.peerids[i], i);
	free(s.last_body);
}
END_TEST

/* A handler may remove its peer in the middle of a burst. */
START_TEST(test_remove_in_burst)
{
	struct seen s;
	uint8_t buf[4096], *p;
	size_t len, off = 0, i;
	int k;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 10; i++) {
		p = pack_hello(i, &len);
		memcpy(buf + off, p, len);
		off += len;
		free(p);
	}
	ck_assert_int_eq(write(sv[1], buf, off), (ssize_t)off);
	s.remove_at = 2;
	s.peer = proc_add_peer(base, sv[0], record_cb, &s);
	for (k = 0; k < 10; k++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_int_eq(s.ends, 0);
	close(sv[1]);
	free(s.last_body);
}
END_TEST

/* proc_flush() writes the queue without the loop; proc_drain() reads. */
START_TEST(test_flush_and_drain)
{
	struct seen a, b;
	uint8_t *p;
	size_t len, i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.peer = proc_add_peer(base, sv[0], record_cb, &a);
	b.peer = proc_add_peer(base, sv[1], record_cb, &b);
	for (i = 0; i < 5; i++) {
		p = pack_hello(i, &len);
		ck_assert_int_eq(proc_send_frame(a.peer, p, len), 0);
	}
	ck_assert_int_eq(proc_flush(a.peer, 1000), 0);
	ck_assert_uint_eq(proc_queued(a.peer), 0);
	proc_remove_peer(a.peer); /* the other end sees EOF */
	proc_pause_reading(b.peer);
	ck_assert_int_eq(proc_drain(b.peer), -1);
	ck_assert_uint_eq(b.n, 5);
	ck_assert_int_eq(b.ends, 1);
	free(b.last_body);
}
END_TEST

/*
 * Resuming, then sending before the loop runs again, still delivers
 * the frames a pause left buffered although no byte arrives after.
 */
START_TEST(test_resume_then_send)
{
	struct seen s;
	uint8_t buf[4096], *p;
	size_t len, off = 0, i;
	int k;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 10; i++) {
		p = pack_hello(i, &len);
		memcpy(buf + off, p, len);
		off += len;
		free(p);
	}
	ck_assert_int_eq(write(sv[1], buf, off), (ssize_t)off);
	s.pause_at = 4;
	s.peer = proc_add_peer(base, sv[0], record_cb, &s);
	for (k = 0; k < 5; k++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(s.n, 4);
	s.pause_at = 0;
	proc_resume_reading(s.peer);
	ck_assert_int_eq(proc_send(s.peer, FRAME_STOP, 1, 0, NULL, 0), 0);
	loop_until(&s, 10, 100);
	ck_assert_uint_eq(s.n, 10);
	ck_assert_int_eq(s.ends, 0);
	proc_remove_peer(s.peer);
	close(sv[1]);
	free(s.last_body);
}
END_TEST

/* proc_drain() delivers everything even if the handler pauses. */
START_TEST(test_drain_ignores_pause)
{
	struct seen s;
	uint8_t buf[4096], *p;
	size_t len, off = 0, i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 10; i++) {
		p = pack_hello(i, &len);
		memcpy(buf + off, p, len);
		off += len;
		free(p);
	}
	ck_assert_int_eq(write(sv[1], buf, off), (ssize_t)off);
	close(sv[1]);
	s.pause_at = 3;
	s.peer = proc_add_peer(base, sv[0], record_cb, &s);
	ck_assert_int_eq(proc_drain(s.peer), -1);
	ck_assert_uint_eq(s.n, 10);
	ck_assert_int_eq(s.ends, 1);
	free(s.last_body);
}
END_TEST

static Suite *
proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("proc");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_large_frame);
	tcase_add_test(tc, test_many_in_one_read);
	tcase_add_test(tc, test_split_frame);
	tcase_add_test(tc, test_eof);
	tcase_add_test(tc, test_bad_stream);
	tcase_add_test(tc, test_write_to_closed);
	tcase_add_test(tc, test_pause);
	tcase_add_test(tc, test_pause_in_burst);
	tcase_add_test(tc, test_remove_in_burst);
	tcase_add_test(tc, test_resume_then_send);
	tcase_add_test(tc, test_drain_ignores_pause);
	tcase_add_test(tc, test_flush_and_drain);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner *sr = srunner_create(proc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
