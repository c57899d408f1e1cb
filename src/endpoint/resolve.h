/* Reverse DNS for many addresses at once, with one time budget for all of
 * them: getnameinfo(3) in a few worker threads; when the budget runs out
 * the caller takes what has been answered and goes on, and the workers
 * still waiting on a slow or dead resolver finish on their own (they hold
 * their own reference to the shared state), so owl never stalls. */
#ifndef OWL_ENDPOINT_RESOLVE_H
#define OWL_ENDPOINT_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/model.h"

#define RESOLVE_NAME_MAX 256
#define RESOLVE_THREADS_MAX 32

struct resolve_stats {
	size_t asked, answered;
	bool timed_out;    /* the budget ran out before every answer came */
	unsigned elapsed_ms;
};

/* Resolve addrs[0..n) within budget_ms.  For each i, ret_names[i] gets the
 * name (raw bytes from DNS: escape to show) or "" when none came in time.
 * Returns 0 or -ENOMEM / -EAGAIN (no thread could be started). */
int resolve_addrs(const struct owl_addr *addrs, size_t n, unsigned budget_ms, char (*ret_names)[RESOLVE_NAME_MAX],
		  struct resolve_stats *ret_stats);

#endif
