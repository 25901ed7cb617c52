/* routes.h — the HTTP routes of the layers above the web server (status
 * page, badges, heartbeat pushes), handed to httpd_start in httpd_ops. */
#ifndef PHAROS_ROUTES_H
#define PHAROS_ROUTES_H

#include <stddef.h>

#include "web/router.h"

extern const struct httpd_route agent_routes[];
extern const size_t agent_n_routes;

#endif
