/* explain's CONTAINMENT section: what owl holds in place for the target
 * (a freeze of the process, blocks covering its destinations). */
#ifndef OWL_ACT_EXPLAIN_ACT_H
#define OWL_ACT_EXPLAIN_ACT_H

#include "explain/explain.h"

void act_explain_section(const struct explain_ctx *x, struct explain_out *o);

#endif
