#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "attribute/cgroup.h"
#include "attribute/users.h"
#include "core/addr.h"
#include "core/names.h"
#include "endpoint/endpoint.h"
#include "judge/judge.h"
#include "render/escape.h"
#include "render/report.h"
#include "verify/verify.h"

enum { C_SEV, C_PROTO, C_STATE, C_LOCAL, C_ARROW, C_REMOTE, C_WHERE, C_PROC, C_USER, C_UNIT, C_NETNS, C__N };

static const char *const headers[C__N] = {"SEV", "PROTO", "STATE", "LOCAL", "", "REMOTE", "WHERE",
					    "PID/PROGRAM", "USER", "UNIT/CONTAINER", "NETNS"};
/* columns that give up width when the terminal is narrow, in order */
static const int flexible[] = {C_UNIT, C_WHERE, C_NETNS, C_PROC, C_LOCAL, C_REMOTE, C_USER};
static const size_t min_width[C__N] = {[C_LOCAL] = 12, [C_REMOTE] = 14, [C_WHERE] = 8, [C_PROC] = 12,
				       [C_USER] = 6, [C_UNIT] = 8, [C_NETNS] = 6};

#define CELL_MAX 512

struct row {
	char cell[C__N][CELL_MAX];
	size_t width[C__N];
};

void report_proc_label(const struct owl_proc *p, char *buf, size_t bufsz)
{
	char name[256];
	owl_escape_to(name, sizeof(name), p->comm, strlen(p->comm), OWL_ESC_TEXT);
	snprintf(buf, bufsz, "%d/%s", (int)p->pid, name);
}

void report_endpoint(const struct owl_conn *c, bool remote, char *buf, size_t bufsz)
{
	char ip[OWL_ADDRSTR_MAX];
	const struct owl_addr *a = remote ? &c->raddr : &c->laddr;
	uint16_t port = remote ? c->rport : c->lport;
	if (c->transport == OWL_TP_PACKET) {
		if (remote) {
			snprintf(buf, bufsz, "*");
			return;
		}
		const char *pn = owl_ethertype_name(c->protocol);
		char esc[64];
		if (c->ifname[0])
			owl_escape_to(esc, sizeof(esc), c->ifname, strlen(c->ifname), OWL_ESC_TEXT);
		else if (c->ifindex)
			snprintf(esc, sizeof(esc), "if%d", (int)c->ifindex);
		else
			snprintf(esc, sizeof(esc), "*");
		if (pn)
			snprintf(buf, bufsz, "%s %s", esc, pn);
		else
			snprintf(buf, bufsz, "%s 0x%04x", esc, c->protocol);
		return;
	}
	bool any = owl_addr_is_any(a);
	const char *s = any ? "*" : owl_addr_str(a, ip);
	if (c->transport == OWL_TP_RAW) {
		const char *pn = owl_ipproto_name(c->protocol);
		if (remote || !pn)
			snprintf(buf, bufsz, "%s", s);
		else
			snprintf(buf, bufsz, "%s %s", s, pn);
		return;
	}
	char portstr[8];
	if (port == 0 && (remote || any))
		strcpy(portstr, "*");
	else
		snprintf(portstr, sizeof(portstr), "%u", port);
	if (a->family == AF_INET6 && !any)
		snprintf(buf, bufsz, "[%s]:%s", s, portstr);
	else
		snprintf(buf, bufsz, "%s:%s", s, portstr);
}

static void fill_row(struct row *r, const struct scan_result *s, const struct owl_record *rec)
{
	const struct owl_conn *c = &rec->conn;
	const struct owl_proc *p = rec->proc;
	memset(r, 0, sizeof(*r));
	snprintf(r->cell[C_SEV], CELL_MAX, "%s", rec->nfindings ? judge_severity_name(rec->severity) : "-");
	snprintf(r->cell[C_PROTO], CELL_MAX, "%s%s", owl_transport_name(c->transport),
		 c->family == AF_INET6 ? "6" : "");
	snprintf(r->cell[C_STATE], CELL_MAX, "%s", owl_state_name(c));
	report_endpoint(c, false, r->cell[C_LOCAL], CELL_MAX);
	snprintf(r->cell[C_ARROW], CELL_MAX, "%s",
		 c->direction == OWL_DIR_INGRESS ? "\xe2\x86\x90" : c->direction == OWL_DIR_EGRESS ? "\xe2\x86\x92" : " ");
	report_endpoint(c, true, r->cell[C_REMOTE], CELL_MAX);
	endpoint_where(rec, r->cell[C_WHERE], CELL_MAX);
	if (p) {
		char lbl[300];
		report_proc_label(p, lbl, sizeof(lbl));
		if (rec->npids > 1)
			snprintf(r->cell[C_PROC], CELL_MAX, "%s +%u", lbl, rec->npids - 1);
		else
			snprintf(r->cell[C_PROC], CELL_MAX, "%s", lbl);
		if (p->user[0])
			owl_escape_to(r->cell[C_USER], CELL_MAX, p->user, strlen(p->user), OWL_ESC_TEXT);
		else if (p->have_status)
			snprintf(r->cell[C_USER], CELL_MAX, "%u", p->uid);
		if (p->cg.container_id[0]) {
			char id[16];
			owl_escape_to(id, 13, p->cg.container_id, strlen(p->cg.container_id), OWL_ESC_TEXT);
			char img[CELL_MAX / 2] = "";
			const char *ci = verify_container_image(p);
			owl_escape_to(img, sizeof(img), ci, strlen(ci), OWL_ESC_TEXT);
			snprintf(r->cell[C_UNIT], CELL_MAX, "%s:%s%s%s",
				 p->cg.runtime ? cgroup_runtime_name(p->cg.runtime) : "container", id, img[0] ? " " : "",
				 img);
		} else if (p->cg.unit[0]) {
			owl_escape_to(r->cell[C_UNIT], CELL_MAX, p->cg.unit, strlen(p->cg.unit), OWL_ESC_TEXT);
		}
	} else {
		snprintf(r->cell[C_PROC], CELL_MAX, "-");
		if (c->has_uid) {
			char name[OWL_USER_MAX];
			if (users_name(c->uid, name, sizeof(name)) == 0)
				owl_escape_to(r->cell[C_USER], CELL_MAX, name, strlen(name), OWL_ESC_TEXT);
			else
				snprintf(r->cell[C_USER], CELL_MAX, "%u", c->uid);
		}
	}
	const struct owl_netns *ns = scan_find_netns(s, c->netns_ino);
	if (ns && !ns->is_host)
		owl_escape_to(r->cell[C_NETNS], CELL_MAX, ns->name, strlen(ns->name), OWL_ESC_TEXT);
	else if (!ns)
		snprintf(r->cell[C_NETNS], CELL_MAX, "%llu", (unsigned long long)c->netns_ino);
	for (int i = 0; i < C__N; i++)
		r->width[i] = owl_display_width(r->cell[i], strlen(r->cell[i]));
}

static const char *sev_color(uint8_t sev)
{
	switch (sev) {
	case OWL_SEV_CRITICAL: return "\x1b[1;97;41m";
	case OWL_SEV_HIGH: return "\x1b[1;31m";
	case OWL_SEV_MEDIUM: return "\x1b[33m";
	case OWL_SEV_LOW: return "\x1b[36m";
	default: return "\x1b[2m";
	}
}

/* Append cell padded/truncated to w columns ("…" marks a cut). */
static void put_cell(struct owl_buf *out, const char *s, size_t sw, size_t w, bool last)
{
	if (sw <= w) {
		owl_buf_puts(out, s);
		if (!last)
			owl_buf_printf(out, "%*s", (int)(w - sw), "");
		return;
	}
	if (w == 0)
		return;
	size_t n = owl_display_prefix(s, strlen(s), w - 1);
	owl_buf_putn(out, s, n);
	owl_buf_puts(out, "\xe2\x80\xa6");
	size_t used = owl_display_width(s, n) + 1;
	if (!last && used < w)
		owl_buf_printf(out, "%*s", (int)(w - used), "");
}

/* Write one line, cut to width columns (0 = no limit).  The only escape
 * sequences in the line are owl's own colours (everything from a process
 * was escaped before), which take no columns. */
static void emit_line(FILE *out, const struct owl_buf *line, int width, bool color)
{
	const char *s = owl_buf_str(line);
	size_t len = line->len, i = 0, cols = 0;
	if (width <= 0) {
		fwrite(s, 1, len, out);
		fputc('\n', out);
		return;
	}
	while (i < len) {
		if (s[i] == '\x1b') {
			size_t j = i + 1;
			while (j < len && s[j] != 'm')
				j++;
			i = j < len ? j + 1 : len;
			continue;
		}
		size_t n = owl_display_prefix(s + i, len - i, 1);
		if (n == 0)
			break;
		size_t w = owl_display_width(s + i, n);
		if (cols + w > (size_t)width - 1 && cols + w + owl_display_width(s + i + n, len - i - n) > (size_t)width) {
			/* this character and the rest do not fit: cut here */
			fwrite(s, 1, i, out);
			if (color)
				fputs("\x1b[0m", out);
			fputs("\xe2\x80\xa6\n", out);
			return;
		}
		cols += w;
		i += n;
	}
	fwrite(s, 1, len, out);
	fputc('\n', out);
}

static bool same_story(const struct owl_record *a, const struct owl_record *b)
{
	if (!a->nfindings || a->nfindings != b->nfindings || a->proc != b->proc || a->severity != b->severity)
		return false;
	const struct owl_conn *x = &a->conn, *y = &b->conn;
	if (x->netns_ino != y->netns_ino || x->transport != y->transport || x->state != y->state ||
	    x->rport != y->rport || !owl_addr_equal(&x->raddr, &y->raddr) || x->direction != y->direction)
		return false;
	for (uint32_t k = 0; k < a->nfindings; k++)
		if (strcmp(a->findings[k].id, b->findings[k].id) != 0 ||
		    strcmp(a->findings[k].reason, b->findings[k].reason) != 0)
			return false;
	return true;
}

void report_table(FILE *out, const struct scan_result *s, const struct table_opts *o)
{
	size_t n = s->nrecs;
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return;
	size_t w[C__N];
	bool show[C__N];
	for (int i = 0; i < C__N; i++) {
		w[i] = strlen(headers[i]);
		show[i] = true;
	}
	show[C_NETNS] = false;
	show[C_UNIT] = false;
	show[C_WHERE] = false;
	for (size_t i = 0; i < n; i++) {
		fill_row(&rows[i], s, &s->recs[i]);
		for (int c = 0; c < C__N; c++)
			if (rows[i].width[c] > w[c])
				w[c] = rows[i].width[c];
		if (rows[i].cell[C_NETNS][0])
			show[C_NETNS] = true;
		if (rows[i].cell[C_UNIT][0])
			show[C_UNIT] = true;
		if (rows[i].cell[C_WHERE][0])
			show[C_WHERE] = true;
	}
	w[C_ARROW] = 1;
	/* shrink to the terminal */
	if (o->width > 0) {
		size_t total = 0;
		for (int c = 0; c < C__N; c++)
			if (show[c])
				total += w[c] + (c == C__N - 1 ? 0 : 1);
		size_t want = (size_t)o->width;
		for (size_t k = 0; total > want && k < OWL_ARRAY_SIZE(flexible); k++) {
			int c = flexible[k];
			if (!show[c] || w[c] <= min_width[c])
				continue;
			size_t give = OWL_MIN(w[c] - min_width[c], total - want);
			w[c] -= give;
			total -= give;
		}
		/* still too wide: cut the flexible columns down to a few characters */
		for (size_t k = 0; total > want && k < OWL_ARRAY_SIZE(flexible); k++) {
			int c = flexible[k];
			if (!show[c] || w[c] <= 4)
				continue;
			size_t give = OWL_MIN(w[c] - 4, total - want);
			w[c] -= give;
			total -= give;
		}
	}
	int lastc = C__N - 1;
	while (lastc > 0 && !show[lastc])
		lastc--;

	struct owl_buf line;
	owl_buf_init(&line);
	for (int c = 0; c < C__N; c++) {
		if (!show[c])
			continue;
		if (o->color)
			owl_buf_puts(&line, "\x1b[1m");
		put_cell(&line, headers[c], strlen(headers[c]), w[c], c == lastc);
		if (o->color)
			owl_buf_puts(&line, "\x1b[0m");
		if (c != lastc)
			owl_buf_putc(&line, ' ');
	}
	emit_line(out, &line, o->width, o->color);
	size_t shown = 0, like = 0;
	uint16_t lo_port = 0, hi_port = 0;
	for (size_t i = 0; i <= n; i++) {
		const struct owl_record *rec = i < n ? &s->recs[i] : NULL;
		/* Sockets that tell the same story as the row above (same process,
		 * endpoint, state and findings) fold into one line, so 300
		 * identical high-volume sockets do not bury the rest. */
		if (rec && i > 0 && same_story(rec, &s->recs[shown])) {
			like++;
			lo_port = OWL_MIN(lo_port, rec->conn.lport);
			hi_port = OWL_MAX(hi_port, rec->conn.lport);
			continue;
		}
		if (like) {
			owl_buf_reset(&line);
			owl_buf_printf(&line, "    \xe2\x80\xa6 and %zu more socket%s like the one above (local ports %u-%u; --json lists each)",
				       like, like == 1 ? "" : "s", lo_port, hi_port);
			emit_line(out, &line, o->width, false);
			like = 0;
		}
		if (!rec)
			break;
		shown = i;
		lo_port = hi_port = rec->conn.lport;
		owl_buf_reset(&line);
		for (int c = 0; c < C__N; c++) {
			if (!show[c])
				continue;
			bool col = o->color && c == C_SEV && rec->nfindings;
			if (col)
				owl_buf_puts(&line, sev_color(rec->severity));
			put_cell(&line, rows[i].cell[c], rows[i].width[c], w[c], c == lastc);
			if (col)
				owl_buf_puts(&line, "\x1b[0m");
			if (c != lastc)
				owl_buf_putc(&line, ' ');
		}
		emit_line(out, &line, o->width, o->color);
		/* reasons under the row, most severe first */
		for (int sev = OWL_SEV_CRITICAL; sev >= OWL_SEV_INFO; sev--) {
			for (uint32_t k = 0; k < rec->nfindings; k++) {
				const struct owl_finding *f = &rec->findings[k];
				if (f->severity != sev)
					continue;
				char reason[OWL_REASON_MAX * 4 + 64];
				owl_escape_to(reason, sizeof(reason), f->reason, strlen(f->reason), OWL_ESC_TEXT);
				owl_buf_reset(&line);
				owl_buf_puts(&line, "    \xe2\x94\x94 ");
				if (o->color)
					owl_buf_puts(&line, sev_color(f->severity));
				owl_buf_printf(&line, "%s: %s", f->id, reason);
				if (o->color)
					owl_buf_puts(&line, "\x1b[0m");
				emit_line(out, &line, o->width, o->color);
			}
		}
	}
	owl_buf_free(&line);
	free(rows);
}
