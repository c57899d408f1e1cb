/* What owl holds in place right now for a process or a destination: a
 * freeze of the process or its cgroup, blocks covering the address.  For
 * `owl explain` (its containment section) and `owl contain list --pid/--dst`. */
#ifndef OWL_ACT_ACTIVE_H
#define OWL_ACT_ACTIVE_H

#include <stddef.h>
#include <sys/types.h>

#include "act/nftblock.h"
#include "core/buf.h"
#include "core/model.h"
#include "core/util.h"

struct act_active {
	int frozen;                   /* enum freeze_method, 0 = not frozen */
	char frozen_cgroup[OWL_PATH_MAX];
	struct owl_vec blocks;        /* struct block_entry covering one of the addresses */
	int nft_err;                  /* -errno when nftables could not be asked, else 0 */
};

/* Look up the containment in force for pid (<= 0: skip) and for each of
 * the n addresses (blocks covering any of them, each block once).
 * Returns 0 or -ENOMEM; free with act_active_free(). */
int act_active_get(pid_t pid, const struct owl_addr *addrs, size_t n, struct act_active *ret);
void act_active_free(struct act_active *a);

/* Text lines ("frozen: ...", "blocked: ..."), each after indent and ending
 * in '\n'; strings from outside owl escaped.  Returns the number of lines,
 * or -errno when nftables could not be asked and nothing else was found. */
int act_active_render(struct owl_buf *out, const char *indent, pid_t pid, const struct owl_addr *dest);

/* One block entry as text: "192.0.2.0/25 tcp port 80". */
void act_block_entry_text(const struct block_entry *e, char *buf, size_t bufsz);

#endif
