/* explain's containment section: what owl holds in place for the target
 * (a freeze of the process, blocks covering its destinations). */
#include "act/explain_act.h"

#include <stdlib.h>
#include <string.h>

#include "act/active.h"
#include "act/freeze.h"
#include "act/target.h"
#include "core/addr.h"


void act_explain_section(const struct explain_ctx *x, struct explain_out *o)
{
	struct owl_addr *addrs = calloc(x->nrecs + 1, sizeof(*addrs));
	size_t n = 0;
	if (!addrs)
		return;
	if (x->tgt.kind == EXPLAIN_ENDPOINT)
		addrs[n++] = x->tgt.addr;
	else
		for (size_t i = 0; i < x->nrecs; i++)
			if (x->recs[i]->conn.transport == OWL_TP_TCP || x->recs[i]->conn.transport == OWL_TP_UDP)
				if (!owl_addr_is_any(&x->recs[i]->conn.raddr))
					addrs[n++] = x->recs[i]->conn.raddr;
	struct act_active a;
	pid_t pid = x->tgt.kind == EXPLAIN_PID ? x->tgt.pid : 0;
	if (act_active_get(pid, addrs, n, &a) < 0) {
		free(addrs);
		return;
	}
	free(addrs);
	exo_section(o, "containment", "CONTAINMENT (owl contain)");
	if (!a.frozen && !a.blocks.len)
		exo_str(o, "state", NULL, "none in force");
	if (a.frozen) {
		exo_str(o, "frozen", "frozen", freeze_method_name(a.frozen));
		if (a.frozen_cgroup[0])
			exo_str(o, "frozen_cgroup", "frozen cgroup", a.frozen_cgroup);
	}
	if (a.blocks.len) {
		exo_list(o, "blocks", "blocked destinations (nftables table inet owl)");
		for (size_t i = 0; i < a.blocks.len; i++) {
			const struct block_entry *e = OWL_VEC_AT(&a.blocks, struct block_entry, i);
			char t[160], left[32];
			act_block_entry_text(e, t, sizeof(t));
			exo_item(o);
			exo_str(o, "destination", NULL, t);
			if (e->timeout) {
				target_format_duration(e->expires, left, sizeof(left));
				exo_str(o, "expires_in", "expires in", left);
			} else {
				exo_str(o, "expires_in", "expires", "never (until owl contain unblock)");
			}
			exo_item_end(o);
		}
		exo_list_end(o);
	}
	if (a.nft_err)
		exo_str(o, "nft_error", "nftables", strerror(-a.nft_err));
	exo_section_end(o);
	act_active_free(&a);
}
