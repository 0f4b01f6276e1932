/*
 * Command dispatch: the table of subcommands and the small ones that
 * need no daemon.
 *
 * Exit statuses follow one rule across commands: 0 success, 1 the
 * command ran and found a problem (drift, failed check), 2 usage or
 * configuration error.  A command that needs a configuration gets it
 * loaded and validated here, so every command reports config problems
 * the same way.
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"
#include "worker.h" /* check and discover talk to the source */

struct cmd_entry {
	const char *name;
	int (*fn)(struct cmd_opts *);
	const char *usage;
};

/* In the order an operator meets them. */
static const struct cmd_entry cmd_table[] = {
	{ "config-test", cmd_config_test,
	    "config-test -c FILE   validate FILE and print the effective "
	    "settings" },
	{ "check", cmd_check,
	    "check -c FILE [--json]   check connection, permissions and "
	    "the Change Tracking/CDC setup of the tables" },
	{ "discover", cmd_discover,
	    "discover -c FILE   list the capturable tables as JSON" },
	{ "run", cmd_run,
	    "run -c FILE [--once] [--pidfile FILE] [--daemonize]   capture "
	    "changes (--once: up to the source position at start, then "
	    "exit)" },
	{ "status", cmd_status,
	    "status -c FILE [--json]   per table: phase, backfill progress, "
	    "cursor, lag, errors; is a daemon running" },
	{ "reset", cmd_reset,
	    "reset -c FILE SCHEMA.TABLE   backfill one table again (a "
	    "running daemon picks it up)" },
	{ "verify", cmd_verify,
	    "verify -c FILE [TABLE...]   compare source tables and replica" },
};

/* Print the usage message. */
void
cmd_usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: %s -c FILE -n\n", PACKAGE_NAME);
	fprintf(fp, "       %s [-v] [-c FILE] COMMAND [ARGS]\n", PACKAGE_NAME);
	fprintf(
	    fp, "       %s --help | --version\n\ncommands:\n", PACKAGE_NAME);
	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		fprintf(fp, "  %s\n", cmd_table[i].usage);
	fprintf(fp,
	    "\nSee mssql-capture(8), mssql-capture.conf(5) and "
	    "mssql-capture(7).\n");
}

/* Run the named command; -n without a command tests the configuration. */
int
cmd_dispatch(const char *command, struct cmd_opts *opts)
{
	size_t i;

	log_init("mssql-capture", LOG_LEVEL_INFO + opts->verbose, 0);
	if (command == NULL) {
		if (opts->test_only)
			return (cmd_config_test(opts));
		cmd_usage(stderr);
		return (2);
	}
	if (daemon_check_command(command, opts) != 0)
		return (2);
	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++) {
		if (strcmp(cmd_table[i].name, command) == 0)
			return (cmd_table[i].fn(opts));
	}
	fprintf(stderr, "%s: unknown command '%s'\n", PACKAGE_NAME, command);
	cmd_usage(stderr);
	return (2);
}

/* Load, validate and print the configuration (like nginx -t). */
int
cmd_config_test(struct cmd_opts *opts)
{
	struct config *cfg;
	struct config_errors errs;
	size_t i;

	if (opts->config_path == NULL) {
		fprintf(stderr, "%s: no configuration file: use -c FILE\n",
		    PACKAGE_NAME);
		return (2);
	}
	cfg = config_load(opts->config_path, &errs);
	if (cfg == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr,
		    "%s: configuration file %s test failed "
		    "(%zu problem%s)\n",
		    PACKAGE_NAME, opts->config_path, errs.n,
		    errs.n == 1 ? "" : "s");
		config_errors_free(&errs);
		return (2);
	}
	config_print(cfg, stdout);
	fprintf(stderr, "%s: configuration file %s test is successful\n",
	    PACKAGE_NAME, opts->config_path);
	config_free(cfg);
	return (0);
}

/* Run the daemon (supervisor.c); no operands. */
int
cmd_run(struct cmd_opts *opts)
{
	if (opts->argc != 0) {
		fprintf(stderr, "%s: run: unexpected argument '%s'\n",
		    PACKAGE_NAME, opts->argv[0]);
		return (2);
	}
	return (supervisor_run(opts));
}
