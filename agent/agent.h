/* agent.h — the running agent (`pharos run`): wires the loop, scheduler,
 * store and HTTP server together, handles signals, and stops cleanly. */
#ifndef PHAROS_AGENT_H
#define PHAROS_AGENT_H

#include "conf/conf.h"

/* Runs until SIGTERM/SIGINT. Takes the caller's reference to conf. Returns the
 * process exit code: 0 after a clean stop, 1 when the agent could not start
 * (database or listen address unusable; the reason is logged). */
int agent_run(struct conf *conf);

#endif
