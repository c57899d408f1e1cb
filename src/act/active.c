#include "act/active.h"

#include <errno.h>
#include <string.h>

#include "act/freeze.h"
#include "act/nftblock.h"
#include "act/target.h"
#include "core/addr.h"
#include "core/util.h"
#include "render/escape.h"

int act_active_render(struct owl_buf *out, const char *indent, pid_t pid, const struct owl_addr *dest)
{
	int lines = 0, err = 0;
	if (pid > 0) {
		char cg[OWL_PATH_MAX];
		int m = freeze_state("/proc", pid, cg, sizeof(cg));
		if (m > 0) {
			owl_buf_printf(out, "%sfrozen: pid %d, by the %s freezer", indent, (int)pid, freeze_method_name(m));
			if (m == FREEZE_SIGNAL) {
				owl_buf_puts(out, " (stopped by SIGSTOP; 'owl contain thaw' resumes it)\n");
			} else {
				owl_buf_puts(out, ", cgroup ");
				owl_escape(out, cg, strlen(cg), OWL_ESC_TEXT);
				owl_buf_puts(out, " ('owl contain thaw' resumes it)\n");
			}
			lines++;
		}
	}
	if (dest) {
		struct owl_vec v;
		owl_vec_init(&v, sizeof(struct block_entry));
		int n = nftblock_list(&v);
		if (n < 0)
			err = n;
		for (int i = 0; i < n; i++) {
			const struct block_entry *e = OWL_VEC_AT(&v, struct block_entry, i);
			if (!block_entry_covers(e, dest))
				continue;
			owl_buf_printf(out, "%sblocked: %s", indent, e->dest);
			if (e->proto[0])
				owl_buf_printf(out, " %s", e->proto);
			if (e->port[0])
				owl_buf_printf(out, " port %s", e->port);
			else if (e->proto[0])
				owl_buf_puts(out, " any port");
			owl_buf_printf(out, " by owl's nftables table %s %s", NFTBLOCK_FAMILY, NFTBLOCK_TABLE);
			if (e->timeout) {
				char left[32];
				target_format_duration(e->expires, left, sizeof(left));
				owl_buf_printf(out, ", expires in %s\n", left);
			} else {
				owl_buf_puts(out, ", until 'owl contain unblock'\n");
			}
			lines++;
		}
		owl_vec_free(&v);
	}
	return err < 0 && lines == 0 ? err : lines;
}
