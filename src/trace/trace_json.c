#include "trace/trace_json.h"

#include "core/util.h"
#include "trace/watch.h"

static const char *result_reason(int r)
{
	switch (r) {
	case OWL_CONN_REFUSED: return "connection refused";
	case OWL_CONN_TIMEDOUT: return "timed out";
	case OWL_CONN_UNREACHABLE: return "unreachable";
	case OWL_CONN_ABORTED: return "abandoned by the program";
	case OWL_CONN_OTHER: return "socket error";
	default: return NULL;
	}
}

void trace_json_event(struct jsonw *w, const struct owl_record *rec)
{
	const struct trace_info *t = rec->trace;
	char buf[40];
	if (!t)
		return;
	if (t->has_duration) {
		owl_format_time(t->time_ns - t->duration_ns, buf, sizeof(buf));
		jsonw_str(w, "start", buf);
		owl_format_time(t->time_ns, buf, sizeof(buf));
		jsonw_str(w, "end", buf);
		jsonw_u64(w, "duration", t->duration_ns);
	}
	if (t->action == WATCH_ESTABLISHED || t->action == WATCH_ACCEPTED)
		jsonw_str(w, "outcome", "success");
	if (t->action == WATCH_FAILED) {
		jsonw_str(w, "outcome", "failure");
		if (result_reason(t->result))
			jsonw_str(w, "reason", result_reason(t->result));
		if (t->err)
			jsonw_i64(w, "code", t->err);
	}
}

void trace_json_endpoint(struct jsonw *w, const struct owl_record *rec, bool destination)
{
	const struct trace_info *t = rec->trace;
	if (!t)
		return;
	if (destination && t->domain[0])
		jsonw_str(w, "domain", t->domain);
	if (t->has_bytes)
		jsonw_u64(w, "bytes", destination ? t->bytes_received : t->bytes_sent);
}
