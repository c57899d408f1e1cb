/* Interned, immutable, reference-counted finding sets (see fset.c).
 * Records point at a set; judge.c is the only writer. */
#ifndef OWL_FSET_H
#define OWL_FSET_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

/* The shared copy of the n findings at f, with one reference taken for the
 * caller; NULL when n == 0 or memory ran out. */
const struct owl_finding *fset_intern(const struct owl_finding *f, uint32_t n);
/* The same, for a set built from the set old (interned) whose first
 * same_upto findings f still holds unchanged: their hashes are reused. */
const struct owl_finding *fset_intern_from(const struct owl_finding *old, uint32_t same_upto,
					   const struct owl_finding *f, uint32_t n);
/* Take / drop a reference to a set fset_intern returned (NULL is a no-op). */
void fset_ref(const struct owl_finding *f);
void fset_unref(const struct owl_finding *f);
/* Distinct sets held right now (tests). */
size_t fset_count(void);

#endif
