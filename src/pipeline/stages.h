/* The enrichment stages of a scan, in order. */
#ifndef OWL_STAGES_H
#define OWL_STAGES_H

#include "pipeline/scan.h"

/* Terminated by an entry with name == NULL. */
extern const struct scan_stage scan_stages[];

#endif
