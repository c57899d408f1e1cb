#include "trace/trace.h"

#include <errno.h>

int trace_poll_open(const struct trace_opts *o, struct trace *t)
{
	return -ENOTSUP;
}
