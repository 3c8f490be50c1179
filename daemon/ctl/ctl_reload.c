/* ctl_reload.c - `pipelinectl reload`: SIGHUP to the daemon whose pid is
 * in <stateDir>/pipelined.pid (written at startup, removed at exit).  A
 * signal, not an HTTP call: only a user allowed to signal the daemon's
 * process can make it re-read its configuration. */
#include "config.h"
#include "ctl.h"
#include "sysio.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

int cmd_reload(int argc, char **argv, const struct ctl_opts *opts)
{
	struct config *cfg = NULL;
	struct buf text = BUF_INIT, path = BUF_INIT;
	int64_t pid = 0;
	int rc = 2;

	if (argc > 1)
		return fprintf(stderr, "usage: pipelinectl reload\n"), 2;
	if (ctl_load_config(&cfg, opts) || !cfg) {
		if (!cfg)
			fprintf(stderr, "pipelinectl: reload needs the configuration (-c FILE)\n");
		goto out;
	}
	buf_printf(&path, "%s/pipelined.pid", cfg->daemon.state_dir);
	if (file_read(&text, path.data, 64)) {
		fprintf(stderr, "pipelinectl: cannot read '%s': is pipelined running?\n", path.data);
		goto out;
	}
	while (text.len && (text.data[text.len - 1] == '\n'))
		text.data[--text.len] = '\0';
	if (parse_i64(&pid, text.data, 2, 4194304)) {
		fprintf(stderr, "pipelinectl: '%s' holds no process id\n", path.data);
		goto out;
	}
	if (kill((pid_t)pid, SIGHUP)) {
		fprintf(stderr, "pipelinectl: cannot signal pipelined (pid %lld): %s\n",
			(long long)pid, strerror(errno));
		goto out;
	}
	printf("reload requested (pid %lld); see the daemon's log for the result\n",
	       (long long)pid);
	rc = 0;
out:
	buf_release(&text);
	buf_release(&path);
	config_free(cfg);
	return rc;
}
