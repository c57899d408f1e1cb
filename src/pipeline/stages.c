#include "pipeline/stages.h"
#include "store/stage.h"

#include "attribute/origin_stage.h"

#include "verify/verify.h"
#include "endpoint/endpoint.h"

/* One line per stage, in pipeline order:
 *   verify   (src/verify/,   issue 3)  package ownership, digests, name rules
 *   endpoint (src/endpoint/, issue 4)  scope, intel, ports, volume
 *   origin   (src/attribute/, issue 7) ancestry, origin, unexpected-parent
 *   baseline (src/store/,    issue 6)  documented / new-destination / known-agent
 */
const struct scan_stage scan_stages[] = {
	{"verify", verify_stage_run},
	{"endpoint", endpoint_stage_run},
	{"origin", origin_stage},
	{"baseline", baseline_stage_run}, /* last: it weighs the findings of the others */
	{NULL, NULL},
};
