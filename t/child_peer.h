/*
 * child_peer.h: the worker side of t/check_child.c, run in a real
 * process that check_child starts as "-P worker -I <id> ..." through
 * child.c (t/child_peer.c).
 */

#ifndef CHILD_PEER_H
#define CHILD_PEER_H

/* What the peer does, chosen by its binding id / 100. */
#define PEER_OK 0 /* HELLO, then exit 0 on FRAME_STOP or EOF */
#define PEER_EXIT0 1 /* HELLO, exit 0 */
#define PEER_CRASH 2 /* HELLO, exit 2 without FRAME_ERROR */
#define PEER_FAILED 3 /* HELLO, FRAME_ERROR FAILED, exit 1 */
#define PEER_RETRY 4 /* HELLO, FRAME_ERROR RETRYABLE, exit 1 */
#define PEER_BAD_HELLO 5 /* HELLO naming another binding */
#define PEER_DEAF 6 /* HELLO, then ignore FRAME_STOP */

/* Exit status when fd 3, fds >= 4 or stdin/stdout are not as promised. */
#define PEER_EXIT_BAD_FDS 3

int child_peer_main(int, char **);

#endif /* CHILD_PEER_H */
