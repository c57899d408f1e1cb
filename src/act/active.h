/* What owl holds in place right now for a process or a destination, as
 * text lines for `owl explain` (and `owl contain list --pid/--dst`):
 * a freeze of the process or its cgroup, blocks covering the address. */
#ifndef OWL_ACT_ACTIVE_H
#define OWL_ACT_ACTIVE_H

#include <sys/types.h>

#include "core/buf.h"
#include "core/model.h"

/* Append one line per active containment ("frozen: ...", "blocked: ...")
 * to out, each starting with indent and ending in '\n'; every string from
 * outside owl is escaped.  pid <= 0 or dest NULL skip that part.  Returns
 * the number of lines, or -errno when nftables could not be asked (the
 * freeze part is still written). */
int act_active_render(struct owl_buf *out, const char *indent, pid_t pid, const struct owl_addr *dest);

#endif
