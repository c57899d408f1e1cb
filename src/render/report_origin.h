/* JSON of the origin stage: owl.origin, owl.origin_evidence, owl.session,
 * owl.trigger, owl.ancestry, owl.timeline, and process.parent's fields. */
#ifndef OWL_REPORT_ORIGIN_H
#define OWL_REPORT_ORIGIN_H

#include "pipeline/scan.h"
#include "render/jsonw.h"

/* Into the open "owl" object of a record (nothing when the stage did not run). */
void report_origin_fields(struct jsonw *w, const struct scan_result *s, const struct owl_record *rec);

/* Into the open "process.parent" object, after its pid: name, executable,
 * start, user (ECS process.parent.*). */
void report_origin_parent(struct jsonw *w, const struct owl_proc *p);

#endif
