/*
 * mssqlsim: options, the listening socket, one detached thread per
 * client connection (tds.c does the talking), and shutdown.
 *
 * SIGTERM and SIGINT are blocked in every thread; only the accept loop
 * takes them, atomically with its wait (ppoll), so a connection thread
 * is never interrupted by them.  Shutdown closes the listener, shuts
 * down every client socket so that their threads return, waits for
 * them a few seconds and then closes the engine.
 *
 * With port 0 the kernel chooses the port and "port N" is printed on
 * stdout, so that tests can start the simulator without races.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* ppoll, accept4 */
#endif

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

/* One live client connection. */
struct main_client {
	int fd;
	struct main_client *next;
	struct main_client *prev;
};

static pthread_mutex_t main_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t main_cond = PTHREAD_COND_INITIALIZER;
static struct main_client *main_clients;
static int main_nclients;
static volatile sig_atomic_t main_stop;
static struct sim_server *main_srv;
static struct sim_tlsctx *main_tls;
static char main_server_name[128];

static void main_usage(void) __attribute__((__noreturn__));

static void
main_usage(void)
{
	fprintf(stderr,
	    "usage: mssqlsim --listen host:port --data dir "
	    "[--tls-cert file --tls-key file]\n"
	    "\t[--users file] [--sa-password password] "
	    "[--cdc-polling-interval-ms n]\n"
	    "\t[--clock-file file] [--pid-file file]\n");
	exit(2);
}

/* Handle SIGTERM and SIGINT. */
static void
main_signal(int sig)
{
	(void)sig;
	main_stop = 1;
}

/* Open the listening socket on host:port. */
static int
main_listen(const char *spec)
{
	struct sockaddr_in sin;
	char host[64];
	const char *colon;
	int fd, on = 1;

	if ((colon = strrchr(spec, ':')) == NULL ||
	    (size_t)(colon - spec) >= sizeof(host))
		return (-1);
	memcpy(host, spec, colon - spec);
	host[colon - spec] = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, host[0] == '\0' ? "0.0.0.0" : host,
		&sin.sin_addr) != 1)
		return (-1);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 128) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Print the port we listen on. */
static void
main_print_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		printf("port %d\n", ntohs(sin.sin_port));
	fflush(stdout);
}

/* Run one connection, then forget it. */
static void *
main_client_thread(void *arg)
{
	struct main_client *mc = arg;

	tds_serve(main_srv, main_tls, mc->fd, main_server_name);
	pthread_mutex_lock(&main_lock);
	if (mc->prev != NULL)
		mc->prev->next = mc->next;
	else
		main_clients = mc->next;
	if (mc->next != NULL)
		mc->next->prev = mc->prev;
	main_nclients--;
	close(mc->fd);
	pthread_cond_broadcast(&main_cond);
	pthread_mutex_unlock(&main_lock);
	free(mc);
	return (NULL);
}

/* Start a thread for a new connection. */
static void
main_client_add(int fd)
{
	struct main_client *mc;
	pthread_attr_t attr;
	pthread_t tid;
	int on = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	mc = util_xmalloc(sizeof(*mc));
	mc->fd = fd;
	mc->prev = NULL;
	pthread_mutex_lock(&main_lock);
	mc->next = main_clients;
	if (main_clients != NULL)
		main_clients->prev = mc;
	main_clients = mc;
	main_nclients++;
	pthread_mutex_unlock(&main_lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, main_client_thread, mc) != 0) {
		fprintf(stderr, "mssqlsim: pthread_create failed\n");
		main_client_thread(mc); /* serve it here rather than drop */
	}
	pthread_attr_destroy(&attr);
}

/* Accept connections until a signal asks us to stop. */
static void
main_accept_loop(int lfd, const sigset_t *waitmask)
{
	struct pollfd pfd;
	int fd;

	pfd.fd = lfd;
	pfd.events = POLLIN;
	while (!main_stop) {
		if (ppoll(&pfd, 1, NULL, waitmask) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1)
			continue;
		main_client_add(fd);
	}
}

/*
 * Disconnect every client and wait (at most 5 s) for their threads;
 * returns how many are still running.
 */
static int
main_drain(void)
{
	struct main_client *mc;
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&main_lock);
	for (mc = main_clients; mc != NULL; mc = mc->next)
		shutdown(mc->fd, SHUT_RDWR);
	while (main_nclients > 0)
		if (pthread_cond_timedwait(&main_cond, &main_lock, &ts) ==
		    ETIMEDOUT)
			break;
	n = main_nclients;
	pthread_mutex_unlock(&main_lock);
	return (n);
}

/* Block the stop signals everywhere but in ppoll, and catch them. */
static void
main_signals(sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = main_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
}

/* Parse the command line into o; returns the other settings. */
static void
main_options(int argc, char **argv, struct sim_options *o, const char **listen,
    const char **cert, const char **key, const char **pidfile)
{
	static const struct option longopts[] = { { "listen", required_argument,
						      NULL, 'l' },
		{ "data", required_argument, NULL, 'd' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "users", required_argument, NULL, 'u' },
		{ "sa-password", required_argument, NULL, 'p' },
		{ "cdc-polling-interval-ms", required_argument, NULL, 'i' },
		{ "clock-file", required_argument, NULL, 't' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 } };
	int ch;

	memset(o, 0, sizeof(*o));
	o->cdc_polling_interval_ms = 5000;
	o->sa_password = getenv("MSSQL_SA_PASSWORD");
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			*listen = optarg;
			break;
		case 'd':
			o->data_dir = optarg;
			break;
		case 'c':
			*cert = optarg;
			break;
		case 'k':
			*key = optarg;
			break;
		case 'u':
			o->users_file = optarg;
			break;
		case 'p':
			o->sa_password = optarg;
			break;
		case 'i':
			o->cdc_polling_interval_ms = atol(optarg);
			break;
		case 't':
			o->clock_file = optarg;
			break;
		case 'P':
			*pidfile = optarg;
			break;
		default:
			main_usage();
		}
	}
	if (optind != argc || *listen == NULL || o->data_dir == NULL ||
	    (*cert == NULL) != (*key == NULL))
		main_usage();
}

/* Write our pid to a file. */
static int
main_write_pid(const char *path)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		return (-1);
	fprintf(f, "%ld\n", (long)getpid());
	return (fclose(f) == 0 ? 0 : -1);
}

int
main(int argc, char **argv)
{
	struct sim_options o;
	struct sim_error e;
	const char *listen = NULL, *cert = NULL, *key = NULL, *pidfile = NULL;
	sigset_t waitmask;
	int lfd;

	main_options(argc, argv, &o, &listen, &cert, &key, &pidfile);
	if (gethostname(main_server_name, sizeof(main_server_name)) != 0)
		snprintf(
		    main_server_name, sizeof(main_server_name), "mssqlsim");
	main_server_name[sizeof(main_server_name) - 1] = '\0';
	o.server_name = main_server_name;
	main_signals(&waitmask);
	if (cert != NULL && (main_tls = tls_ctx_new(cert, key)) == NULL)
		return (1);
	memset(&e, 0, sizeof(e));
	clock_init(o.clock_file);
	if ((main_srv = engine_open(&o, &e)) == NULL) {
		fprintf(stderr, "mssqlsim: %s\n", e.msg);
		return (1);
	}
	if ((lfd = main_listen(listen)) == -1) {
		fprintf(stderr, "mssqlsim: cannot listen on %s: %s\n", listen,
		    strerror(errno));
		return (1);
	}
	if (pidfile != NULL && main_write_pid(pidfile) == -1) {
		fprintf(stderr, "mssqlsim: %s: %s\n", pidfile, strerror(errno));
		return (1);
	}
	if (strrchr(listen, ':') != NULL && atoi(strrchr(listen, ':') + 1) == 0)
		main_print_port(lfd);
	main_accept_loop(lfd, &waitmask);
	close(lfd);
	if (main_drain() == 0)
		engine_close(main_srv); /* else a thread may still use it */
	if (main_tls != NULL)
		tls_ctx_free(main_tls);
	if (pidfile != NULL)
		unlink(pidfile);
	return (0);
}
