/* The endpoint stage's JSON fields (Elastic Common Schema names where ECS
 * has them, see docs/endpoint.md). */
#ifndef OWL_ENDPOINT_JSON_H
#define OWL_ENDPOINT_JSON_H

#include <stdbool.h>

#include "core/model.h"
#include "render/jsonw.h"

/* Inside the open "source" (remote false) or "destination" (remote true)
 * object: bytes, and for the destination domain, geo and as. */
void endpoint_json_end(struct jsonw *w, const struct owl_record *rec, bool remote);

/* Inside the open "owl" object: "endpoint": {scope, port, intel, ...}. */
void endpoint_json_owl(struct jsonw *w, const struct owl_record *rec);

#endif
