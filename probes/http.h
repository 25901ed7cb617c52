/* http.h — what the files of the http check type share: the run (http.c)
 * and the descriptor (http_type.c). Nothing outside probes/http*.c includes
 * it; the rest of pharos knows the type by probe_type_http. */
#ifndef PHAROS_PROBES_HTTP_H
#define PHAROS_PROBES_HTTP_H

struct probe_run;

/* The descriptor's start and abort (see struct probe_type). */
int http_run_start(struct probe_run *run);
void http_run_abort(struct probe_run *run);

#endif
