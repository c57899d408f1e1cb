#include "act/active.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "act/freeze.h"
#include "act/target.h"
#include "core/addr.h"
#include "render/escape.h"

int act_active_get(pid_t pid, const struct owl_addr *addrs, size_t n, struct act_active *a)
{
	memset(a, 0, sizeof(*a));
	owl_vec_init(&a->blocks, sizeof(struct block_entry));
	if (pid > 0) {
		int m = freeze_state("/proc", pid, a->frozen_cgroup, sizeof(a->frozen_cgroup));
		a->frozen = m > 0 ? m : 0;
	}
	if (!n)
		return 0;
	struct owl_vec all;
	owl_vec_init(&all, sizeof(struct block_entry));
	int r = nftblock_list(&all);
	if (r < 0) {
		a->nft_err = r;
		owl_vec_free(&all);
		return 0;
	}
	for (int i = 0; i < r; i++) {
		const struct block_entry *e = OWL_VEC_AT(&all, struct block_entry, i);
		bool hit = false;
		for (size_t k = 0; k < n && !hit; k++)
			hit = block_entry_covers(e, &addrs[k]);
		if (!hit)
			continue;
		struct block_entry *slot = owl_vec_push(&a->blocks);
		if (!slot) {
			owl_vec_free(&all);
			act_active_free(a);
			return -ENOMEM;
		}
		*slot = *e;
	}
	owl_vec_free(&all);
	return 0;
}

void act_active_free(struct act_active *a)
{
	if (a)
		owl_vec_free(&a->blocks);
}

void act_block_entry_text(const struct block_entry *e, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s%s%s%s%s%s", e->dest, e->proto[0] ? " " : "", e->proto, e->port[0] ? " port " : "",
		 e->port, e->proto[0] && !e->port[0] ? " any port" : "");
}

int act_active_render(struct owl_buf *out, const char *indent, pid_t pid, const struct owl_addr *dest)
{
	struct act_active a;
	int r = act_active_get(pid, dest, dest ? 1 : 0, &a);
	if (r < 0)
		return r;
	int lines = 0;
	if (a.frozen) {
		owl_buf_printf(out, "%sfrozen: pid %d, by the %s freezer", indent, (int)pid, freeze_method_name(a.frozen));
		if (a.frozen == FREEZE_SIGNAL) {
			owl_buf_puts(out, " (stopped by SIGSTOP; 'owl contain thaw' resumes it)\n");
		} else {
			owl_buf_puts(out, ", cgroup ");
			owl_escape(out, a.frozen_cgroup, strlen(a.frozen_cgroup), OWL_ESC_TEXT);
			owl_buf_puts(out, " ('owl contain thaw' resumes it)\n");
		}
		lines++;
	}
	for (size_t i = 0; i < a.blocks.len; i++) {
		const struct block_entry *e = OWL_VEC_AT(&a.blocks, struct block_entry, i);
		char t[160];
		act_block_entry_text(e, t, sizeof(t));
		owl_buf_printf(out, "%sblocked: %s by owl's nftables table %s %s", indent, t, NFTBLOCK_FAMILY,
			       NFTBLOCK_TABLE);
		if (e->timeout) {
			char left[32];
			target_format_duration(e->expires, left, sizeof(left));
			owl_buf_printf(out, ", expires in %s\n", left);
		} else {
			owl_buf_puts(out, ", until 'owl contain unblock'\n");
		}
		lines++;
	}
	int err = a.nft_err;
	act_active_free(&a);
	return err < 0 && lines == 0 ? err : lines;
}
