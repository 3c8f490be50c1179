/* pipelined - the promotion daemon.  Entry point: options, configuration,
 * then the event loop (engine.c). */
#include "config.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: pipelined [-n] [-d] [-c pipelines.conf]\n"
		   "  -n  check the configuration and exit\n"
		   "  -d  debug logging\n"
		   "  -c  configuration file (default %s/pipelines.conf)\n",
		PIPELINED_SYSCONFDIR);
}

/* -n: report every problem in the file, "configuration OK" otherwise. */
static int check_config(const char *path)
{
	struct buf errors = BUF_INIT;
	struct config *cfg = NULL;
	int rc = config_load(&cfg, path, &errors);

	if (rc == 0)
		printf("configuration OK\n");
	else if (errors.len)
		fputs(errors.data, stderr);
	else
		fprintf(stderr, "pipelined: out of memory reading '%s'\n", path);
	buf_release(&errors);
	config_free(cfg);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *config = PIPELINED_SYSCONFDIR "/pipelines.conf";
	int check_only = 0, opt;

	while ((opt = getopt(argc, argv, "nc:dhV")) != -1) {
		switch (opt) {
		case 'n': check_only = 1; break;
		case 'c': config = optarg; break;
		case 'd': log_set_level(LOG_LVL_DEBUG); break;
		case 'V': printf("pipelined %s\n", PIPELINED_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check_only)
		return check_config(config);
	log_err("main", "the daemon is not built yet");
	return 1;
}
