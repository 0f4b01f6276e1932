/*
 * main() only parses the command line and hands over to cmd.c
 * (STYLE.md A3): everything it calls is linkable into tests.
 *
 * "-P worker -I <binding id>" are internal options: the supervisor
 * starts each worker as a fork+exec of this binary with them
 * (supervisor/child.c, STYLE.md D1; httpd's -P/-I), and such a run goes
 * straight to worker_main().
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"
#include "worker.h"

/* Long options without a short form (supervisor/daemon.c). */
enum { MAIN_OPT_PIDFILE = 256, MAIN_OPT_DAEMONIZE };

static int main_parse_id(const char *, uint32_t *);
static int main_worker(struct cmd_opts *, int);

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { { "config", required_argument,
						      NULL, 'c' },
		{ "test", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "pidfile", required_argument, NULL, MAIN_OPT_PIDFILE },
		{ "daemonize", no_argument, NULL, MAIN_OPT_DAEMONIZE },
		{ NULL, 0, NULL, 0 } };
	struct cmd_opts opts;
	const char *command = NULL;
	int ch, have_id = 0;

	memset(&opts, 0, sizeof(opts));
	while ((ch = getopt_long(argc, argv, "c:nvhVP:I:B:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'P':
			opts.proc_name = optarg;
			break;
		case 'I':
			if (main_parse_id(optarg, &opts.binding_id) != 0)
				return (2);
			have_id = 1;
			break;
		case 'B':
			opts.binding_name = optarg;
			break;
		case 'c':
			opts.config_path = optarg;
			break;
		case 'n':
			opts.test_only = 1;
			break;
		case 'v':
			opts.verbose++;
			break;
		case 'h':
			cmd_usage(stdout);
			return (0);
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return (0);
		case 'o':
			opts.once = 1;
			break;
		case 'j':
			opts.json = 1;
			break;
		case MAIN_OPT_PIDFILE:
			opts.pidfile = optarg;
			break;
		case MAIN_OPT_DAEMONIZE:
			opts.daemonize = 1;
			break;
		default:
			cmd_usage(stderr);
			return (2);
		}
	}
	if (opts.proc_name != NULL)
		return (main_worker(&opts, have_id));
	if (optind < argc)
		command = argv[optind++];
	opts.argc = argc - optind;
	opts.argv = argv + optind;
	return (cmd_dispatch(command, &opts));
}

/* Parse -I: a binding id, decimal. */
static int
main_parse_id(const char *s, uint32_t *idp)
{
	unsigned long id;
	char *end;

	errno = 0;
	id = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
	    id > UINT32_MAX) {
		fprintf(
		    stderr, "%s: -I %s: not a binding id\n", PACKAGE_NAME, s);
		return (-1);
	}
	*idp = id;
	return (0);
}

/* "-P worker -I id": this process is a worker (supervisor/child.c). */
static int
main_worker(struct cmd_opts *opts, int have_id)
{
	if (strcmp(opts->proc_name, "worker") != 0 || !have_id) {
		fprintf(stderr,
		    "%s: -P worker -I ID is internal: the supervisor "
		    "starts workers with it\n",
		    PACKAGE_NAME);
		return (2);
	}
	log_init("worker", LOG_LEVEL_INFO + opts->verbose, daemon_log_syslog());
	return (worker_main(opts));
}
