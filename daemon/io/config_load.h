/* config_load.h - the edge of the configuration: reads pipelines.conf and
 * hands its bytes, the environment and a way to look at other files to the
 * pure config_parse() (core/config.h). */
#ifndef PIPELINED_CONFIG_LOAD_H
#define PIPELINED_CONFIG_LOAD_H

#include "config.h"

/* Read path (at most CONFIG_MAX_BYTES) and config_parse() it with
 * $CREDENTIALS_DIRECTORY, $HOME, included files read from disk and every
 * named file checked.  Returns and reports as config_parse(), and
 * "file: message\n" when the file as a whole cannot be read. */
int config_load(struct config **out, const char *path, struct buf *errors);

#endif
