// SPDX-License-Identifier: MIT
/*
 * sevmig: command-line front end of libsevmig, for operators and scripts.
 * Each subcommand lives in its own cmd-*.c file.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_cmd commands[] = {
	{ "probe", "show what this host offers for SEV live migration",
	  cmd_probe, cmd_probe_usage },
	{ "pdh-export", "write this platform's PDH and certificate chain",
	  cmd_pdh, cmd_pdh_usage },
	{ "cert", "show what an SEV or AMD certificate (chain) file says",
	  cmd_cert, cmd_cert_usage },
	{ "policy", "decode an SEV guest policy into words",
	  cmd_policy, cmd_policy_usage },
	{ "inspect", "say what a saved migration stream holds, or where it is damaged",
	  cmd_inspect, cmd_inspect_usage },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sevmig [--version] [--help] <command> [<args>]\n\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out,
		"\n'sevmig <command> --help' describes one command.\n\n"
		"exit codes:\n"
		"  0  success (for probe: the probe ran, whatever it found)\n"
		"  1  the operation failed; the reason is on stderr\n"
		"  2  bad command line\n"
		"  3  a verdict is \"no\": probe --require, cert verify's refusal,\n"
		"     inspect --require complete\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("sevmig %s (libsevmig %s)\n", SEVMIG_VERSION_STRING,
		       sevmig_version_string());
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		if (argc > 2 && (!strcmp(argv[2], "--help") ||
				 !strcmp(argv[2], "-h"))) {
			commands[i].usage(stdout);
			return CLI_EXIT_OK;
		}
		return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "sevmig: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
