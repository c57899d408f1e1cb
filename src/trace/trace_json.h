/* The JSON fields a live event adds to a record (rec->trace), written from
 * report_record_fields(). */
#ifndef OWL_TRACE_JSON_H
#define OWL_TRACE_JSON_H

#include "core/model.h"
#include "render/jsonw.h"

/* Inside the "event" object: start, end, duration (ns), outcome, reason. */
void trace_json_event(struct jsonw *w, const struct owl_record *rec);

/* Inside "source" / "destination": bytes, and destination.domain. */
void trace_json_endpoint(struct jsonw *w, const struct owl_record *rec, bool destination);

#endif
