/* run_now.h — the admin API's "run this check now" (POST
 * /api/v1/checks/NAME/run), from a server thread. */
#ifndef PHAROS_RUN_NOW_H
#define PHAROS_RUN_NOW_H

#include <stdbool.h>

struct probe_result;
struct shards;

/* Runs check name now on the loop that owns it (sh) and waits for its
 * result, at most as long as the run can take (its timeouts and retries)
 * plus 5 s. *stopping is the agent's flag (read atomically). Returns 0 with
 * out filled (the caller clears it), -1 no such check, -2 the agent is
 * stopping or the run did not end in time. */
int run_now(struct shards *sh, const bool *stopping, const char *name, struct probe_result *out);

#endif
