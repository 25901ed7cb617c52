/* tls.c — the tls check type (being written). */
#include "probe.h"

/* probe_ops.start: not yet implemented. */
static int tls_start(struct probe_run *run)
{
	probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "tls probe not implemented yet");
	return -1;
}

/* probe_ops.abort: nothing to release. */
static void tls_abort(struct probe_run *run)
{
	run->impl = NULL;
}

const struct probe_ops probe_tls_ops = {
	.name = "tls",
	.start = tls_start,
	.abort = tls_abort,
};
