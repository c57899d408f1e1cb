#include "explain/explain.h"
#include "explain/explain_origin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "act/explain_act.h"
#include "attribute/cgroup.h"
#include "attribute/procinfo.h"
#include "core/addr.h"
#include "core/names.h"
#include "core/util.h"
#include "endpoint/endpoint.h"
#include "judge/judge.h"
#include "pipeline/stages.h"
#include "render/escape.h"
#include "render/report.h"
#include "verify/verify.h"

int explain_parse_target(const char *s, struct explain_target *ret)
{
	struct explain_target t = {0};
	long long v;
	if (owl_strtonum(s, 1, 4194304, &v) == 0) {
		t.kind = EXPLAIN_PID;
		t.pid = (pid_t)v;
		*ret = t;
		return 0;
	}
	t.kind = EXPLAIN_ENDPOINT;
	char host[64];
	const char *port = NULL;
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(host) + 8)
		return -EINVAL;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || (size_t)(end - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return -EINVAL;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && !strchr(colon + 1, ':')) {
			/* exactly one colon: IPv4:PORT */
			if ((size_t)(colon - s) >= sizeof(host))
				return -EINVAL;
			memcpy(host, s, (size_t)(colon - s));
			host[colon - s] = '\0';
			port = colon + 1;
		} else {
			if (n >= sizeof(host))
				return -EINVAL;
			memcpy(host, s, n + 1);
		}
	}
	if (owl_addr_parse(host, &t.addr) < 0)
		return -EINVAL;
	if (port) {
		if (owl_strtonum(port, 0, 65535, &v) < 0)
			return -EINVAL;
		t.port = (uint16_t)v;
		t.has_port = true;
	}
	*ret = t;
	return 0;
}

static bool rec_has_pid(const struct owl_record *rec, pid_t pid)
{
	for (uint32_t i = 0; i < rec->npids; i++)
		if ((pid_t)rec->pids[i] == pid)
			return true;
	return false;
}

int explain_select(struct explain_ctx *x, const struct scan_result *r, const struct explain_target *t,
		   const struct owl_proc *proc)
{
	x->r = r;
	x->tgt = *t;
	x->proc = proc;
	x->recs = calloc(r->nrecs ? r->nrecs : 1, sizeof(*x->recs));
	if (!x->recs)
		return -ENOMEM;
	x->nrecs = 0;
	x->verdict = OWL_SEV_NONE;
	for (size_t i = 0; i < r->nrecs; i++) {
		const struct owl_record *rec = &r->recs[i];
		const struct owl_conn *c = &rec->conn;
		bool take;
		if (t->kind == EXPLAIN_PID)
			take = rec_has_pid(rec, t->pid);
		else
			take = c->transport != OWL_TP_PACKET && owl_addr_equal(&c->raddr, &t->addr) &&
			       (!t->has_port || c->rport == t->port);
		if (!take)
			continue;
		x->recs[x->nrecs++] = rec;
		if (rec->severity > x->verdict)
			x->verdict = rec->severity;
	}
	return 0;
}

void explain_ctx_free(struct explain_ctx *x)
{
	if (!x)
		return;
	free(x->recs);
	x->recs = NULL;
	x->nrecs = 0;
}

/* ---- helpers ---- */

static void fmt_age(uint64_t now_ns, uint64_t then_ns, char *buf, size_t bufsz)
{
	if (!then_ns || then_ns > now_ns) {
		snprintf(buf, bufsz, "just now");
		return;
	}
	uint64_t s = (now_ns - then_ns) / 1000000000ull;
	if (s < 120)
		snprintf(buf, bufsz, "%llu s ago", (unsigned long long)s);
	else if (s < 7200)
		snprintf(buf, bufsz, "%llu min ago", (unsigned long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, bufsz, "%llu h %llu min ago", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, bufsz, "%llu days ago", (unsigned long long)(s / 86400));
}

static void fmt_bytes(uint64_t b, char *buf, size_t bufsz)
{
	if (b >= (1ull << 20))
		snprintf(buf, bufsz, "%.1f MiB", (double)b / (double)(1ull << 20));
	else if (b >= 1024)
		snprintf(buf, bufsz, "%.1f KiB", (double)b / 1024.0);
	else
		snprintf(buf, bufsz, "%llu B", (unsigned long long)b);
}

/* argv joined with spaces (raw; exo_* escapes). */
static void join_args(const struct owl_proc *p, char *buf, size_t bufsz)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < p->argc && used + 1 < bufsz; i++) {
		size_t n;
		const char *a = procinfo_arg(p, i, &n);
		if (!a)
			break;
		if (i && used + 1 < bufsz)
			buf[used++] = ' ';
		size_t k = OWL_MIN(n, bufsz - 1 - used);
		memcpy(buf + used, a, k);
		used += k;
		buf[used] = '\0';
	}
	/* NULs inside an argument would cut the text: show them as spaces */
	for (size_t i = 0; i < used; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

static void write_proc_fields(const struct explain_ctx *x, struct explain_out *o, const struct owl_proc *p)
{
	char t[64], age[48];
	exo_u64(o, "pid", "pid", (uint64_t)p->pid);
	exo_str(o, "name", "name", p->comm);
	if (p->exe[0])
		exo_str(o, "executable", "executable", p->exe);
	else if (p->exe_unreadable)
		exo_str(o, "executable", "executable", "(unreadable)");
	if (p->argc > 0) {
		char args[OWL_ARGS_MAX];
		join_args(p, args, sizeof(args));
		exo_str(o, "command_line", "command line", args);
	}
	if (p->have_status) {
		if (p->user[0])
			exo_fmt(o, "user", "user", "%s (uid %u)", p->user, p->uid);
		else
			exo_fmt(o, "user", "user", "uid %u", p->uid);
		if (p->euid != p->uid)
			exo_fmt(o, "effective_uid", "effective uid", "%u", p->euid);
	}
	if (p->loginuid != (uint32_t)-1)
		exo_fmt(o, "login_uid", "logged-in user (loginuid)", "%u", p->loginuid);
	if (p->start_time_ns) {
		owl_format_time(p->start_time_ns, t, sizeof(t));
		fmt_age(x->r->time_ns, p->start_time_ns, age, sizeof(age));
		exo_fmt(o, "start", "started", "%s (%s)", t, age);
	}
	exo_u64(o, "parent_pid", "parent pid", (uint64_t)p->ppid);
	if (p->tty_nr)
		exo_str(o, "tty", "terminal", "yes (started from an interactive session)");
	if (p->cg.container_id[0])
		exo_fmt(o, "container", "container", "%s %s",
			p->cg.runtime ? cgroup_runtime_name(p->cg.runtime) : "container", p->cg.container_id);
	if (p->verify && p->verify->container.name[0])
		exo_str(o, "container_name", "container name", p->verify->container.name);
	if (verify_container_image(p)[0])
		exo_str(o, "container_image", "container image", verify_container_image(p));
	if (p->cg.unit[0])
		exo_str(o, "unit", "systemd unit", p->cg.unit);
	if (p->cg.slice[0])
		exo_str(o, "slice", "slice", p->cg.slice);
	if (p->gone)
		exo_str(o, "exited", "state", "exited while owl was looking");
}

static const char *sev(uint8_t s)
{
	return s == OWL_SEV_NONE ? "none" : judge_severity_name(s);
}

/* ---- the sections ---- */

static void sec_summary(const struct explain_ctx *x, struct explain_out *o)
{
	exo_section(o, "summary", "SUMMARY");
	exo_str(o, "target", "target", x->target_text);
	exo_str(o, "severity", "verdict", sev(x->verdict));
	if (o->json)
		exo_str(o, "event_kind", NULL, x->verdict >= OWL_SEV_MEDIUM ? "alert" : "event");
	exo_u64(o, "connections", "sockets", x->nrecs);
	/* the one line a person reads first */
	const struct owl_finding *worst = NULL;
	for (size_t i = 0; i < x->nrecs; i++)
		for (uint32_t k = 0; k < x->recs[i]->nfindings; k++)
			if (!worst || x->recs[i]->findings[k].severity > worst->severity)
				worst = &x->recs[i]->findings[k];
	if (worst)
		exo_fmt(o, "headline", "worst finding", "%s (%s): %s", worst->id, sev(worst->severity), worst->reason);
	else
		exo_str(o, "headline", NULL, "no findings: nothing about these connections looks unusual to owl");
	exo_section_end(o);
}

static void sec_process(const struct explain_ctx *x, struct explain_out *o)
{
	if (x->tgt.kind == EXPLAIN_PID) {
		if (!x->proc)
			return;
		exo_section(o, "process", "PROCESS");
		write_proc_fields(x, o, x->proc);
		exo_section_end(o);
		return;
	}
	/* an endpoint: every process that talks to it */
	exo_section(o, "processes", "PROCESSES TALKING TO IT");
	exo_list(o, "list", NULL);
	size_t shown = 0;
	for (size_t i = 0; i < x->nrecs; i++) {
		const struct owl_proc *p = x->recs[i]->proc;
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = x->recs[j]->proc == p;
		if (dup)
			continue;
		exo_item(o);
		if (p)
			write_proc_fields(x, o, p);
		else
			exo_str(o, "pid", NULL, "unknown (the socket has no owner owl could see: orphaned, or "
						"owl lacked the privilege)");
		exo_item_end(o);
		shown++;
	}
	exo_list_end(o);
	exo_section_end(o);
}

static bool have_stage(const char *name)
{
	for (const struct scan_stage *st = scan_stages; st->name; st++)
		if (strcmp(st->name, name) == 0)
			return true;
	return false;
}

static bool is_integrity(const char *id)
{
	static const char *const ids[] = {"exe-deleted", "exe-memfd", "exe-writable-location", "exe-unpackaged",
					  "exe-modified", "name-mismatch", "preload", "recent-binary", "reverse-shell",
					  "network-tool", "unit-unpackaged"};
	for (size_t i = 0; i < OWL_ARRAY_SIZE(ids); i++)
		if (strcmp(id, ids[i]) == 0)
			return true;
	return false;
}

static void sec_verification(const struct explain_ctx *x, struct explain_out *o)
{
	if (x->tgt.kind != EXPLAIN_PID || !x->proc)
		return;
	exo_section(o, "verification", "IS THE PROGRAM WHAT IT CLAIMS TO BE?");
	const struct verify_info *v = x->proc->verify;
	if (!have_stage("verify")) {
		exo_str(o, "status", NULL, "not checked: this owl build has no verify stage (package ownership, "
					   "digests)");
		exo_section_end(o);
		return;
	}
	if (!v) {
		exo_str(o, "status", NULL, "not checked (--no-verify, or the process exited before owl could look)");
		exo_section_end(o);
		return;
	}
	if (v->owner == VERIFY_OWNER_PACKAGE)
		exo_fmt(o, "package", "package", "%s %s (%s%s%s)", v->pkg.name, v->pkg.version, v->pkg.manager,
			v->pkg.arch[0] ? ", " : "", v->pkg.arch);
	else if (v->owner == VERIFY_OWNER_NONE)
		exo_str(o, "package", "package", "none: no installed package owns this executable");
	else
		exo_str(o, "package", "package", "unknown (no package database to ask)");
	exo_fmt(o, "digest", "running image vs the package's record", "%s%s%s", verify_state_name(v->state),
		v->note[0] ? ": " : "", v->note);
	exo_str(o, "on_disk", "on disk", verify_disk_name(v->disk));
	if (v->sha256_hex[0])
		exo_str(o, "sha256", "sha256", v->sha256_hex);
	if (v->unit.found) {
		if (v->unit.owner == VERIFY_OWNER_PACKAGE)
			exo_fmt(o, "unit_file", "unit file", "%s (package %s)", v->unit.path, v->unit.pkg.name);
		else
			exo_fmt(o, "unit_file", "unit file", "%s (%s)", v->unit.path,
				v->unit.owner == VERIFY_OWNER_NONE ? "owned by no package" : "owner unknown");
	}
	size_t n = 0;
	exo_list(o, "findings", "integrity findings");
	for (size_t i = 0; i < x->nrecs && i < 1; i++)
		for (uint32_t k = 0; k < x->recs[i]->nfindings; k++) {
			const struct owl_finding *f = &x->recs[i]->findings[k];
			if (!is_integrity(f->id))
				continue;
			if (o->json) {
				exo_item(o);
				exo_str(o, "id", NULL, f->id);
				exo_str(o, "severity", NULL, sev(f->severity));
				exo_str(o, "reason", NULL, f->reason);
				exo_item_end(o);
			} else {
				exo_fmt(o, NULL, NULL, "%s %s: %s", sev(f->severity), f->id, f->reason);
			}
			n++;
		}
	if (!n)
		exo_strings_item(o, "none");
	exo_list_end(o);
	exo_section_end(o);
}

static void sec_ancestry(const struct explain_ctx *x, struct explain_out *o)
{
	if (x->tgt.kind != EXPLAIN_PID || !x->proc || explain_origin_ancestry(x, o))
		return;
	struct owl_proc *p = malloc(sizeof(*p));
	if (!p)
		return;
	exo_section(o, "ancestry", "HOW IT CAME TO RUN (parent chain, nearest first)");
	exo_list(o, "parents", NULL);
	pid_t pid = x->proc->ppid;
	for (int depth = 0; pid > 0 && depth < 64; depth++) {
		memset(p, 0, sizeof(*p));
		if (procinfo_load(x->proc_root, pid, p) < 0 || p->gone) {
			exo_item(o);
			exo_u64(o, "pid", "pid", (uint64_t)pid);
			exo_str(o, "name", NULL, "(exited)");
			exo_item_end(o);
			break;
		}
		exo_item(o);
		if (o->json) {
			exo_u64(o, "pid", "pid", (uint64_t)p->pid);
			exo_str(o, "name", "name", p->comm);
			if (p->exe[0])
				exo_str(o, "executable", "executable", p->exe);
			if (p->user[0])
				exo_str(o, "user", "user", p->user);
			if (p->cg.unit[0])
				exo_str(o, "unit", "unit", p->cg.unit);
		} else {
			char unit[OWL_UNIT_MAX + 16] = "";
			if (p->cg.unit[0])
				snprintf(unit, sizeof(unit), ", unit %s", p->cg.unit);
			exo_fmt(o, NULL, NULL, "%d %s%s%s%s%s%s%s", (int)p->pid, p->comm, p->exe[0] ? " (" : "", p->exe,
				p->exe[0] ? ")" : "", p->user[0] ? ", user " : "", p->user, unit);
		}
		exo_item_end(o);
		if (pid == 1)
			break;
		pid = p->ppid;
	}
	exo_list_end(o);
	exo_section_end(o);
	free(p);
}

static void write_endpoint_facts(struct explain_out *o, const struct owl_record *rec)
{
	const struct endpoint_info *ei = rec->endpoint;
	if (!ei || !ei->remote)
		return;
	const struct endpoint_addr *a = ei->remote;
	exo_str(o, "scope", "scope", ep_scope_name(a->scope));
	if (a->domain[0])
		exo_str(o, "domain", "reverse DNS", a->domain);
	if (a->has_geo && a->geo.country[0])
		exo_fmt(o, "country", "country", "%s%s%s (%s)", a->geo.country, a->geo.city[0] ? ", " : "", a->geo.city,
			a->geo.source);
	if (a->has_geo && a->geo.asn)
		exo_fmt(o, "as", "network", "AS%u %s", a->geo.asn, a->geo.as_org);
	if (a->has_intel) {
		char e[INTEL_ENTRY_MAX];
		exo_fmt(o, "intel", "threat intel", "listed in %s (entry %s)", a->intel.list->path,
			intel_entry_str(&a->intel, e));
	}
	if (ei->port_checked) {
		if (ei->port_class == PORT_ABUSE)
			exo_fmt(o, "port", "port", "%u: known for abuse (%s)", rec->conn.rport, ei->port_why);
		else if (ei->port_name)
			exo_fmt(o, "port", "port", "%u: %s", rec->conn.rport, ei->port_name);
		else
			exo_fmt(o, "port", "port", "%u: not a common service port", rec->conn.rport);
	}
}

static void sec_endpoint(const struct explain_ctx *x, struct explain_out *o)
{
	if (x->tgt.kind != EXPLAIN_ENDPOINT || !x->nrecs)
		return;
	exo_section(o, "endpoint", "THE REMOTE END");
	char ip[OWL_ADDRSTR_MAX];
	exo_str(o, "ip", "address", owl_addr_str(&x->tgt.addr, ip));
	if (x->tgt.has_port)
		exo_u64(o, "port", "port", x->tgt.port);
	write_endpoint_facts(o, x->recs[0]);
	exo_section_end(o);
}

static void sec_connections(const struct explain_ctx *x, struct explain_out *o)
{
	exo_section(o, "connections", "CONNECTIONS");
	if (!x->nrecs) {
		exo_str(o, "none", NULL, "none: the process holds no socket");
		exo_section_end(o);
		return;
	}
	exo_list(o, "list", NULL);
	for (size_t i = 0; i < x->nrecs; i++) {
		const struct owl_record *rec = x->recs[i];
		const struct owl_conn *c = &rec->conn;
		char l[128], rr[128], b1[32], b2[32];
		report_endpoint(c, false, l, sizeof(l));
		report_endpoint(c, true, rr, sizeof(rr));
		exo_item(o);
		exo_fmt(o, "socket", NULL, "%s%s %s %s %s  %s  [%s]", owl_transport_name(c->transport),
			c->family == AF_INET6 ? "6" : "", l,
			c->direction == OWL_DIR_INGRESS ? "<-" : c->direction == OWL_DIR_EGRESS ? "->" : "--", rr,
			owl_state_name(c), sev(rec->severity));
		if (o->json) {
			exo_str(o, "transport", NULL, owl_transport_name(c->transport));
			exo_str(o, "local", NULL, l);
			exo_str(o, "remote", NULL, rr);
			exo_str(o, "state", NULL, owl_state_name(c));
			exo_str(o, "direction", NULL, owl_direction_name(c->direction));
			exo_str(o, "severity", NULL, sev(rec->severity));
			exo_json_u64(o, "inode", c->inode);
		}
		const struct owl_netns *ns = scan_find_netns(x->r, c->netns_ino);
		if (ns && !ns->is_host)
			exo_str(o, "netns", "network namespace", ns->name);
		if (x->tgt.kind == EXPLAIN_PID)
			write_endpoint_facts(o, rec);
		else if (rec->proc)
			exo_fmt(o, "process", "process", "%d %s", (int)rec->proc->pid, rec->proc->comm);
		struct endpoint_bytes eb;
		if (rec->endpoint && endpoint_bytes(&rec->conn, &eb) && (eb.out || eb.in)) {
			fmt_bytes(eb.out, b1, sizeof(b1));
			fmt_bytes(eb.in, b2, sizeof(b2));
			exo_fmt(o, "traffic", "traffic", "sent %s, received %s", b1, b2);
		}
		if (rec->nfindings) {
			exo_list(o, "findings", "findings");
			for (uint32_t k = 0; k < rec->nfindings; k++) {
				const struct owl_finding *f = &rec->findings[k];
				if (o->json) {
					exo_item(o);
					exo_str(o, "id", NULL, f->id);
					exo_str(o, "severity", NULL, sev(f->severity));
					exo_str(o, "reason", NULL, f->reason);
					exo_item_end(o);
				} else {
					exo_fmt(o, NULL, NULL, "%s %s: %s", sev(f->severity), f->id, f->reason);
				}
			}
			exo_list_end(o);
		}
		exo_item_end(o);
	}
	exo_list_end(o);
	exo_section_end(o);
}

/* Distinct findings over all the target's sockets, most severe first. */
static void sec_findings(const struct explain_ctx *x, struct explain_out *o)
{
	exo_section(o, "findings", "WHY (each finding, once)");
	exo_list(o, "list", NULL);
	size_t n = 0;
	for (int s = OWL_SEV_CRITICAL; s >= OWL_SEV_INFO; s--)
		for (size_t i = 0; i < x->nrecs; i++)
			for (uint32_t k = 0; k < x->recs[i]->nfindings; k++) {
				const struct owl_finding *f = &x->recs[i]->findings[k];
				if (f->severity != s)
					continue;
				/* once per (id, reason); count the sockets that share it */
				bool seen = false;
				size_t count = 0;
				for (size_t j = 0; j < x->nrecs && !seen; j++)
					for (uint32_t m = 0; m < x->recs[j]->nfindings; m++) {
						const struct owl_finding *g = &x->recs[j]->findings[m];
						if (strcmp(g->id, f->id) || strcmp(g->reason, f->reason))
							continue;
						if (j < i || (j == i && m < k))
							seen = true;
						count++;
						break;
					}
				if (seen)
					continue;
				if (o->json) {
					exo_item(o);
					exo_str(o, "id", NULL, f->id);
					exo_str(o, "severity", NULL, sev(f->severity));
					exo_str(o, "reason", NULL, f->reason);
					exo_json_u64(o, "sockets", count);
					exo_item_end(o);
				} else if (count > 1) {
					exo_fmt(o, NULL, NULL, "%-8s %s: %s (on %zu sockets)", sev(f->severity), f->id,
						f->reason, count);
				} else {
					exo_fmt(o, NULL, NULL, "%-8s %s: %s", sev(f->severity), f->id, f->reason);
				}
				n++;
			}
	exo_list_end(o);
	if (!n)
		exo_str(o, "none", NULL, "none");
	exo_section_end(o);
}

/* ---- next steps: (condition, command) pairs; a command appears only when
 * its condition holds, and owl commands only when built in ---- */

struct step {
	const char *why;
	bool (*when)(const struct explain_ctx *x);
	/* the command line for this target (raw; escaped on output): built
	 * by cmd, or from tpl ("{}" stands for the target) */
	void (*cmd)(const struct explain_ctx *x, char *buf, size_t bufsz);
	const char *needs;    /* owl subcommand this step uses */
	const char *tpl;
};

static bool always(const struct explain_ctx *x)
{
	(void)x;
	return true;
}

static bool is_pid(const struct explain_ctx *x)
{
	return x->tgt.kind == EXPLAIN_PID;
}

static bool has_alert(const struct explain_ctx *x)
{
	return x->verdict >= OWL_SEV_MEDIUM;
}

static bool pid_alert(const struct explain_ctx *x)
{
	return is_pid(x) && has_alert(x);
}

static bool no_intel(const struct explain_ctx *x)
{
	const struct endpoint_ctx *e = x->r->endpoint;
	return x->nrecs && (!e || intel_count(&e->intel) == 0);
}

static bool unresolved(const struct explain_ctx *x)
{
	const struct endpoint_ctx *e = x->r->endpoint;
	return x->nrecs && e && !e->resolved;
}

static void quote_target(const struct explain_ctx *x, char *buf, size_t bufsz)
{
	/* the target is a pid or an address literal: nothing to quote, but
	 * build it from the parsed value, never from the raw argument */
	char ip[OWL_ADDRSTR_MAX];
	if (x->tgt.kind == EXPLAIN_PID)
		snprintf(buf, bufsz, "%d", (int)x->tgt.pid);
	else if (!x->tgt.has_port)
		snprintf(buf, bufsz, "%s", owl_addr_str(&x->tgt.addr, ip));
	else if (x->tgt.addr.family == AF_INET6)
		snprintf(buf, bufsz, "[%s]:%u", owl_addr_str(&x->tgt.addr, ip), x->tgt.port);
	else
		snprintf(buf, bufsz, "%s:%u", owl_addr_str(&x->tgt.addr, ip), x->tgt.port);
}

static void c_save(const struct explain_ctx *x, char *buf, size_t bufsz)
{
	char t[80];
	quote_target(x, t, sizeof(t));
	char f[80];
	owl_strlcpy(f, t, sizeof(f));
	for (char *p = f; *p; p++)
		if (*p == ':' || *p == '[' || *p == ']')
			*p = '_';
	snprintf(buf, bufsz, "owl explain %s --json > owl-explain-%s-$(date -u +%%Y%%m%%dT%%H%%M%%SZ).json", t, f);
}

static void c_scan(const struct explain_ctx *x, char *buf, size_t bufsz)
{
	(void)x;
	snprintf(buf, bufsz, "owl scan --all --json > owl-scan-$(hostname)-$(date -u +%%Y%%m%%dT%%H%%M%%SZ).ndjson");
}

/* Shell single quotes around s ('\'' for a quote inside): the path is the
 * process's, so whatever it holds stays one argument when pasted. */
static void shell_quote(struct owl_buf *b, const char *s)
{
	owl_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			owl_buf_puts(b, "'\\''");
		else
			owl_buf_putc(b, *s);
	}
	owl_buf_putc(b, '\'');
}

/* `baseline allow` takes the program and the destination, not the target:
 * both come from the first outbound record of the explanation (the most
 * suspicious one), the program pinned by its path. */
static void c_baseline(const struct explain_ctx *x, char *buf, size_t bufsz)
{
	const struct owl_record *rec = NULL;
	for (size_t i = 0; i < x->nrecs && !rec; i++)
		if (x->recs[i]->proc && x->recs[i]->proc->exe[0] == '/' && x->recs[i]->conn.direction == OWL_DIR_EGRESS &&
		    (x->recs[i]->conn.transport == OWL_TP_TCP || x->recs[i]->conn.transport == OWL_TP_UDP))
			rec = x->recs[i];
	struct owl_buf b;
	char ip[OWL_ADDRSTR_MAX];
	owl_buf_init(&b);
	owl_buf_puts(&b, "owl baseline allow --exe ");
	if (rec) {
		const struct owl_conn *c = &rec->conn;
		shell_quote(&b, rec->proc->exe);
		owl_buf_printf(&b, " --dest %s --port %u --transport %s", owl_addr_str(&c->raddr, ip), c->rport,
			       c->transport == OWL_TP_TCP ? "tcp" : "udp");
	} else {
		owl_buf_puts(&b, "/path/to/program --dest ADDRESS");
	}
	owl_buf_puts(&b, " --note 'WHY THIS IS LEGITIMATE'");
	owl_strlcpy(buf, b.oom ? "" : owl_buf_str(&b), bufsz);
	owl_buf_free(&b);
}

/* A step's command: its template with every "{}" replaced by the target
 * (built from the parsed value, never from the raw argument). */
static void c_template(const struct explain_ctx *x, const char *tpl, char *buf, size_t bufsz)
{
	char t[80];
	quote_target(x, t, sizeof(t));
	struct owl_buf b;
	owl_buf_init(&b);
	for (const char *p = tpl; *p;) {
		const char *q = strstr(p, "{}");
		if (!q) {
			owl_buf_puts(&b, p);
			break;
		}
		owl_buf_putn(&b, p, (size_t)(q - p));
		owl_buf_puts(&b, t);
		p = q + 2;
	}
	owl_strlcpy(buf, b.oom ? "" : owl_buf_str(&b), bufsz);
	owl_buf_free(&b);
}

static const struct step steps[] = {
	{"keep this explanation as evidence", always, c_save, "explain", NULL},
	{"snapshot every socket on this host, for the record", always, c_scan, "scan", NULL},
	{"collect an evidence bundle (binary, maps, fds, environment) before anything changes", is_pid, NULL,
	 "evidence", "owl evidence {} --out /var/tmp/owl-evidence-{}"},
	{"watch new connections as they happen (beaconing, retries)", has_alert, NULL, "watch",
	 "owl watch --duration 300 --json > owl-watch-$(date -u +%Y%m%dT%H%M%SZ).ndjson"},
	{"check the remote ends against your threat-intel lists", no_intel, NULL, "explain",
	 "owl explain {} --intel /path/to/blocklist.netset"},
	{"look up the remote names (reverse DNS)", unresolved, NULL, "explain", "owl explain {} --resolve"},
	{"if it is legitimate: document it, so the next scan says so", always, c_baseline, "baseline", NULL},
	{"if it is not: cut its connections (they stay cut only if the process is stopped)", has_alert, NULL,
	 "contain", "owl contain kill-conn {} --yes"},
	{"if it is not: freeze the process for analysis", pid_alert, NULL, "contain", "owl contain freeze {} --yes"},
};

static void sec_next_steps(const struct explain_ctx *x, struct explain_out *o)
{
	exo_section(o, "next_steps", "NEXT STEPS");
	exo_list(o, "list", NULL);
	for (size_t i = 0; i < OWL_ARRAY_SIZE(steps); i++) {
		const struct step *s = &steps[i];
		if (!s->when(x) || (s->needs && x->have_command && !x->have_command(s->needs)))
			continue;
		char cmd[512];
		if (s->cmd)
			s->cmd(x, cmd, sizeof(cmd));
		else
			c_template(x, s->tpl, cmd, sizeof(cmd));
		exo_item(o);
		if (o->json) {
			exo_str(o, "command", NULL, cmd);
			exo_str(o, "why", NULL, s->why);
		} else {
			exo_fmt(o, NULL, NULL, "%s:", s->why);
			exo_fmt(o, NULL, NULL, "  %s", cmd);
		}
		exo_item_end(o);
	}
	/* per remote endpoint with an alert: who else talks to it */
	if (x->tgt.kind == EXPLAIN_PID && (!x->have_command || x->have_command("explain"))) {
		for (size_t i = 0; i < x->nrecs; i++) {
			const struct owl_record *rec = x->recs[i];
			if (rec->severity < OWL_SEV_MEDIUM || !rec->endpoint || !rec->endpoint->remote)
				continue;
			bool dup = false;
			for (size_t j = 0; j < i && !dup; j++)
				dup = x->recs[j]->endpoint && x->recs[j]->endpoint->remote == rec->endpoint->remote &&
				      x->recs[j]->severity >= OWL_SEV_MEDIUM;
			if (dup)
				continue;
			char ip[OWL_ADDRSTR_MAX], cmd[128];
			owl_addr_str(&rec->conn.raddr, ip);
			snprintf(cmd, sizeof(cmd), "owl explain %s", ip);
			exo_item(o);
			if (o->json) {
				exo_str(o, "command", NULL, cmd);
				exo_str(o, "why", NULL, "see which other processes talk to this remote end");
			} else {
				exo_fmt(o, NULL, NULL, "see which other processes talk to %s:", ip);
				exo_fmt(o, NULL, NULL, "  %s", cmd);
			}
			exo_item_end(o);
		}
	}
	if (x->tgt.kind == EXPLAIN_ENDPOINT) {
		for (size_t i = 0; i < x->nrecs; i++) {
			const struct owl_proc *p = x->recs[i]->proc;
			bool dup = !p;
			for (size_t j = 0; j < i && !dup; j++)
				dup = x->recs[j]->proc == p;
			if (dup)
				continue;
			char cmd[64];
			snprintf(cmd, sizeof(cmd), "owl explain %d", (int)p->pid);
			exo_item(o);
			if (o->json) {
				exo_str(o, "command", NULL, cmd);
				exo_str(o, "why", NULL, "the whole story of this process");
			} else {
				exo_fmt(o, NULL, NULL, "the whole story of pid %d (%s):", (int)p->pid, p->comm);
				exo_fmt(o, NULL, NULL, "  %s", cmd);
			}
			exo_item_end(o);
		}
	}
	exo_list_end(o);
	exo_section_end(o);
}

/* In order.  Later stages add their section here (origin, containment). */
const struct explain_section explain_sections[] = {
	{"summary", sec_summary},
	{"process", sec_process},
	{"verification", sec_verification},
	{"ancestry", sec_ancestry},
	{"origin", explain_origin_section},
	{"timeline", explain_origin_timeline},
	{"changes_before_start", explain_origin_changes},
	{"endpoint", sec_endpoint},
	{"connections", sec_connections},
	{"findings", sec_findings},
	{"containment", act_explain_section},
	{"next_steps", sec_next_steps},
	{NULL, NULL},
};

void explain_write(const struct explain_ctx *x, bool json, struct owl_buf *out)
{
	struct explain_out o;
	exo_init(&o, out, json);
	if (json) {
		char t[40];
		owl_format_time(x->r->time_ns, t, sizeof(t));
		jsonw_str(&o.w, "@timestamp", t);
	}
	for (const struct explain_section *s = explain_sections; s->key; s++)
		s->write(x, &o);
	if (json) {
		jsonw_obj_close(&o.w);
		owl_buf_putc(out, '\n');
	}
}
