/* initconf.h - what `pipelinectl init` infers from a repository's Helm
 * values files: which file serves which deploy stage, the scalars that look
 * like image tags (keys named tag, 40-hex commit ids, image references
 * REPO:TAG), the images, the registry and the explicit tag mapping of
 * pipelines.conf(5) (a shared path, per-image templates such as
 * services.{image}.image.tag, [image] paths, digest = true where digests
 * sit beside the tags), rendered as a commented pipelines.conf.
 *
 * Pure: paths and bytes in, text out.  No git, no files, no logging; the
 * edge (ctl_init.c) lists the tree, reads the files and runs the check of
 * the result.  It guesses; the check says whether the guess holds. */
#ifndef PIPELINED_INITCONF_H
#define PIPELINED_INITCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "stage.h"
#include "util.h"

#define INITCONF_MAX_FILES 64			/* values files considered */
#define INITCONF_MAX_FILE_BYTES (1u << 20)	/* bytes of one values file */

/* A Helm values file: .yaml/.yml, named values... or under a values/
 * directory; never under templates/ or a dot directory. */
bool initconf_is_values_file(const char *path);

/* Does path name deploy stage s ("values-beta.yaml", "prod/values.yaml"
 * for live, "staging" for beta)? */
bool initconf_names_stage(const char *path, enum stage s);

/* One deploy stage's values file. */
struct initconf_file {
	const char *path;	/* in the repository; NULL: no file names the stage */
	const char *data;	/* its bytes; NULL when it could not be read */
	size_t len;
	const char *error;	/* why it could not be read (data NULL) */
};

struct initconf_opts {
	const char *url;	/* [repository] url to write */
	const char *branch;
	const char *source;	/* what was read, for the header comment */
	bool for_check;		/* leave out sshKey/knownHosts (files that may not
				 * exist yet), for loading the text to check it */
};

/* The commented pipelines.conf for files[STAGE_COUNT] (only the deploy
 * stages' entries are read) into *out (initialised).  0, or ERR_NOMEM. */
int initconf_render(struct buf *out, const struct initconf_file files[STAGE_COUNT],
		    const struct initconf_opts *o);

#endif
