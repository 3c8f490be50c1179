/* pipelinectl - the operator's and developer's command-line client.
 *
 * A thin dispatcher: global options, then a command table (smtpctl, git's
 * commands[]).  Each command parses its own arguments. */
#include "ctl.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static int cmd_help(int argc, char **argv, const struct ctl_opts *opts);

static const struct {
	const char *name;
	ctl_cmd_fn *fn;
	const char *usage;
} commands[] = {
	{ "help", cmd_help, "help                     this list" },
	{ "window", cmd_window, "window [--at RFC3339] [--calendar FILE]  market open or closed, why, next change" },
	{ "edit", cmd_edit, "edit FILE TAGPATH... --tag TAG [-i] [-v]\n"
			    "     | edit --stage S FILE --tag TAG [--digest IMAGE=DIGEST]... [-i] [-v]\n"
			    "                           print (-i: write) FILE with the tags set" },
	{ "check", cmd_check, "check [--stage S] [--repo DIR] [--json]\n"
			      "                           every tag scalar a promotion would edit, per stage" },
	{ "init", cmd_init, "init URL|DIR [-o FILE] [--force]\n"
			    "                           write a pipelines.conf for a repository's values files" },
	{ "promote", cmd_promote, "promote STAGE TAG [--notes TEXT] [--break-glass TEXT] [--name NAME] [--dry-run]\n"
				  "                           open a promotion request (branch promote/STAGE/NAME)" },
	{ "approve", cmd_approve, "approve STAGE/NAME [--signing-key FILE] [--dry-run]\n"
				  "                           sign an approval of a request (two-person rule)" },
	{ "freeze", cmd_freeze, "freeze STAGE[,STAGE]|all --reason TEXT [--until TIME] [--from TIME]\n"
				"       [--allow-break-glass|--no-break-glass] [--id ID] [--dry-run]\n"
				"     | freeze --lift ID | freeze --check FILE\n"
				"                           stop the line: a freeze committed to the freeze file" },
	{ "rollback", cmd_rollback, "rollback STAGE [--to TAG] --reason TEXT [--notes TEXT] [--break-glass TEXT] [--dry-run]\n"
				    "                           request a release STAGE ran before (default: the one before its current)" },
	{ "log", cmd_log, "log [--stage S] [-n N] [--repo DIR [REV]]  promotion history from git trailers" },
	{ "audit", cmd_audit, "audit [RANGE] [--repo DIR] [--no-checkpoint]  re-check history against policy (exit 1: violations)" },
	{ "status", cmd_status, "status [--json]          stages, current tags, requests, window, errors" },
	{ "reload", cmd_reload, "reload                   make the daemon re-read its configuration" },
	{ "check-config", cmd_check_config, "check-config             check the configuration file (-c)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pipelinectl [-c FILE] [--json] <command> [args]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "\nlog, audit and check read the configured repository (the daemon's mirror "
		"when\nit is current, else a fetch into ~/.cache/pipelined), never the current\n"
		"directory's checkout unless --repo names it.\n");
}

static int cmd_help(int argc, char **argv, const struct ctl_opts *opts)
{
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl_opts opts = { .json = false, .config = NULL, .config_given = false };
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			opts.json = true;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			opts.config = argv[++i];
			opts.config_given = true;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("pipelinectl %s\n", PIPELINED_VERSION);
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "pipelinectl: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	if (!opts.config)
		opts.config = ctl_default_config();
	for (size_t c = 0; c < ARRAY_SIZE(commands); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].fn(argc - i, argv + i, &opts);
	fprintf(stderr, "pipelinectl: '%s' is not a command; see 'pipelinectl help'\n", argv[i]);
	return 2;
}
