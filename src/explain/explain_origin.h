/* The explain sections of the origin stage (issue 7): how the process came
 * to run (ancestry tree), what kind of start it was (origin, with which user
 * and session), its timeline, and what changed on the system before it
 * started.  Each uses the scan's origin stage result, or computes it for a
 * process that holds no socket; each does nothing for an endpoint target. */
#ifndef OWL_EXPLAIN_ORIGIN_H
#define OWL_EXPLAIN_ORIGIN_H

#include <stdbool.h>

#include "explain/explain.h"

/* The ancestry as a tree (text) / a list parent first (JSON).  Returns false
 * when the origin stage did not run, so the caller can fall back. */
bool explain_origin_ancestry(const struct explain_ctx *x, struct explain_out *o);
void explain_origin_section(const struct explain_ctx *x, struct explain_out *o);
void explain_origin_timeline(const struct explain_ctx *x, struct explain_out *o);
void explain_origin_changes(const struct explain_ctx *x, struct explain_out *o);

#endif
