/* icmp.c — the icmp check type (being written). */
#include "probe.h"

/* probe_ops.start: not yet implemented. */
static int icmp_start(struct probe_run *run)
{
	probe_result_fail(&run->result, PROBE_ERR_INTERNAL, "icmp probe not implemented yet");
	return -1;
}

/* probe_ops.abort: nothing to release. */
static void icmp_abort(struct probe_run *run)
{
	run->impl = NULL;
}

const struct probe_ops probe_icmp_ops = {
	.name = "icmp",
	.start = icmp_start,
	.abort = icmp_abort,
};
