/* web_assets.h - the dashboard's files (web/), compiled in at build time
 * by cmake/embed_web.cmake into the generated web_assets.c. */
#ifndef PIPELINED_WEB_ASSETS_H
#define PIPELINED_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *name;		/* file name under web/, e.g. "app.js" */
	const unsigned char *data;
	size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

#endif
