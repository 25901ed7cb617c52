/* assets.h — the static files of the status page (the CSS, JS and SVG files
 * of dashboards/), embedded into the binary at build time: scripts/embed-assets
 * generates build/assets.c from them, so a running agent reads no files. */
#ifndef PHAROS_ASSETS_H
#define PHAROS_ASSETS_H

#include <stddef.h>

struct asset {
	const char *name;               /* base name: "style.css" */
	const unsigned char *data;      /* len bytes, followed by a NUL */
	size_t len;
	const char *content_type;       /* "text/css; charset=utf-8" */
	const char *etag;               /* checksum of the content, hex: cache busting */
};

/* The embedded file named name, or NULL. The result is static. */
const struct asset *assets_find(const char *name);

#endif
