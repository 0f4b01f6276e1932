/*
 * main() only parses the command line and hands over to cmd.c
 * (STYLE.md A3): everything it calls is linkable into tests.
 */

#include "config.h"

#include <sys/types.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

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
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	struct cmd_opts opts;
	const char *command = NULL;
	int ch;

	memset(&opts, 0, sizeof(opts));
	while ((ch = getopt_long(argc, argv, "c:nvhV", longopts, NULL)) != -1) {
		switch (ch) {
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
		default:
			cmd_usage(stderr);
			return (2);
		}
	}
	if (optind < argc)
		command = argv[optind++];
	opts.argc = argc - optind;
	opts.argv = argv + optind;
	return (cmd_dispatch(command, &opts));
}
