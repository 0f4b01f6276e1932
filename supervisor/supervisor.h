/*
 * supervisor.h: the supervisor process and the command-line front end.
 * One section per file (STYLE.md A2).
 */

#ifndef SUPERVISOR_H
#define SUPERVISOR_H

#include "common.h"

/* Options parsed once by main() and handed to the command. */
struct cmd_opts {
	const char *config_path;
	int test_only; /* -n */
	int verbose; /* -v, repeatable */
	int once; /* run --once */
	int json; /* --json */
	int argc; /* operands after the command */
	char **argv;
};

/* cmd.c */
int cmd_dispatch(const char *, struct cmd_opts *);
int cmd_config_test(struct cmd_opts *);
void cmd_usage(FILE *);

#endif /* SUPERVISOR_H */
