/* JSON of the origin stage: owl.origin, owl.origin_evidence, owl.session,
 * owl.trigger, owl.ancestry, owl.timeline, and process.parent's fields. */
#ifndef OWL_REPORT_ORIGIN_H
#define OWL_REPORT_ORIGIN_H

#include "pipeline/scan.h"
#include "render/jsonw.h"

/* Into the open "owl" object of a record (nothing when the stage did not run). */
void report_origin_fields(struct jsonw *w, const struct scan_result *s, const struct owl_record *rec);

/* The same in parts, for render's per-process cache: head (origin ..
 * ancestry) and the timeline's per-process fields around the per-record
 * connection_first_seen, inside an open "timeline" object.  Only for a
 * process whose origin stage ran (p->origin != NULL). */
void report_origin_head(struct jsonw *w, const struct owl_proc *p);
void report_timeline_head(struct jsonw *w, const struct owl_proc *p);
void report_timeline_first_seen(struct jsonw *w, const struct owl_record *rec);
void report_timeline_tail(struct jsonw *w, const struct scan_result *s, const struct owl_proc *p);

/* Into the open "process.parent" object, after its pid: name, executable,
 * start, user (ECS process.parent.*). */
void report_origin_parent(struct jsonw *w, const struct owl_proc *p);

#endif
