#include "trace/trace.h"

#include <errno.h>
#include <stdlib.h>

int trace_open(const struct trace_opts *o, struct trace **ret, int *ret_ebpf_err)
{
	struct trace *t = calloc(1, sizeof(*t));
	int rc = -EINVAL, ebpf_err = 0;
	if (!t)
		return -ENOMEM;
	if (o->backend == TRACE_BACKEND_AUTO || o->backend == TRACE_BACKEND_EBPF) {
		rc = trace_bpf_open(o, t);
		if (rc < 0)
			ebpf_err = rc;
	}
	if (rc < 0 && (o->backend == TRACE_BACKEND_AUTO || o->backend == TRACE_BACKEND_POLL))
		rc = trace_poll_open(o, t);
	if (ret_ebpf_err)
		*ret_ebpf_err = ebpf_err;
	if (rc < 0) {
		free(t);
		return rc;
	}
	*ret = t;
	return 0;
}

enum trace_backend trace_backend(const struct trace *t)
{
	return t->backend;
}

int trace_poll(struct trace *t, int timeout_ms, trace_cb cb, void *ud)
{
	return t->ops->poll(t, timeout_ms, cb, ud);
}

int trace_drain(struct trace *t, trace_cb cb, void *ud)
{
	return t->ops->drain(t, cb, ud);
}

void trace_detach(struct trace *t)
{
	t->ops->detach(t);
}

int trace_counters(struct trace *t, struct trace_counters *ret)
{
	return t->ops->counters(t, ret);
}

const char *trace_blind_spots(const struct trace *t)
{
	return t->ops->blind_spots;
}

void trace_close(struct trace *t)
{
	if (!t)
		return;
	t->ops->close(t);
	free(t);
}
