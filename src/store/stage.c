#include "store/stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/util.h"
#include "judge/judge.h"

/* Findings that say something is wrong with the process itself: a benign
 * match is not made when one of these is present (contract.md). */
static const char *const integrity_ids[] = {
	"exe-modified", "exe-deleted", "exe-memfd", "preload", "name-mismatch", "reverse-shell", "ioc-match",
};

/* Findings about the destination or the traffic, which a documented or
 * catalogued behaviour explains. */
static const char *const destination_ids[] = {
	"port-unusual", "metadata-service", "high-volume", "large-upload", "repeated-attempts", "beaconing",
	"new-destination",
};

static bool has_any(const struct owl_record *rec, const char *const *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (judge_has(rec, ids[i]))
			return true;
	return false;
}

static void lower_destination_findings(struct owl_record *rec)
{
	for (uint32_t i = 0; i < rec->nfindings; i++)
		for (size_t k = 0; k < OWL_ARRAY_SIZE(destination_ids); k++)
			if (strcmp(rec->findings[i].id, destination_ids[k]) == 0 &&
			    rec->findings[i].severity > OWL_SEV_INFO)
				rec->findings[i].severity = OWL_SEV_INFO;
	judge_verdict(rec);
}

const char *baseline_transport(const struct owl_record *rec)
{
	switch (rec->conn.transport) {
	case OWL_TP_TCP: return "tcp";
	case OWL_TP_UDP: return "udp";
	case OWL_TP_RAW: return "raw";
	default: return "";
	}
}

bool baseline_candidate(const struct owl_record *rec)
{
	const struct owl_conn *c = &rec->conn;
	if (!rec->proc || rec->proc->gone)
		return false;
	if (c->direction != OWL_DIR_EGRESS)
		return false;
	if (c->transport != OWL_TP_TCP && c->transport != OWL_TP_UDP)
		return false;
	/* loopback is the machine talking to itself, not a destination */
	return !owl_addr_is_any(&c->raddr) && !owl_addr_is_loopback(&c->raddr) && c->rport != 0;
}

/* What the verify stage (issue 3) says about the running image.  Until
 * that stage runs, nothing is verified: no package identity, no
 * known-agent. */
static bool proc_verified(const struct owl_proc *p, char *pkg, size_t pkgsz)
{
	(void)p;
	pkg[0] = '\0';
	(void)pkgsz;
	return false;
}

static void fill_identity(struct baseline_match *m, const struct owl_proc *p)
{
	if (p->user[0])
		owl_strlcpy(m->user, p->user, sizeof(m->user));
	else if (p->have_status)
		snprintf(m->user, sizeof(m->user), "%u", p->uid);
	/* a login session's scope changes with every login, and a container's
	 * scope with every start: not part of a stable identity */
	if (p->cg.unit[0] && !p->cg.user_session && !p->cg.container_id[0])
		owl_strlcpy(m->unit, p->cg.unit, sizeof(m->unit));
	m->verified = proc_verified(p, m->package, sizeof(m->package));
}

static void add_documented(struct owl_record *rec, const struct baseline_entry *e)
{
	if (e->kind == BASELINE_ALLOWED) {
		judge_add(rec, "documented", OWL_SEV_INFO, "%s", e->note);
		return;
	}
	char first[40];
	owl_format_time((uint64_t)e->first_seen * 1000000000ull, first, sizeof(first));
	judge_add(rec, "documented", OWL_SEV_INFO, "learned on %s: seen %lld times since %s", e->host,
		  (long long)e->count, first);
}

static void judge_one(struct store_ctx *ctx, struct owl_record *rec, struct baseline_match *m)
{
	const struct owl_proc *p = rec->proc;
	const struct owl_conn *c = &rec->conn;
	bool integrity = has_any(rec, integrity_ids, OWL_ARRAY_SIZE(integrity_ids));
	bool benign = false;
	struct baseline_identity id = {
		.exe = p->exe, .package = m->package, .package_verified = m->verified, .digest = m->digest,
		.user = m->user, .unit = m->unit, .container = p->cg.container_id,
	};
	struct baseline_dest d = {.addr = c->raddr, .port = c->rport, .transport = baseline_transport(rec)};
	char ip[OWL_ADDRSTR_MAX];

	if (ctx->set.n) {
		const struct baseline_entry *e = baseline_match(&ctx->set, &id, &d);
		if (e && integrity) {
			m->status = BM_HELD_BACK;
			m->entry = e;
		} else if (e) {
			m->status = BM_DOCUMENTED;
			m->entry = e;
			add_documented(rec, e);
			benign = true;
		} else {
			m->status = BM_NEW;
			judge_add(rec, "new-destination", OWL_SEV_LOW, "%s to %s port %u/%s is not in the baseline%s",
				  p->exe[0] ? p->exe : p->comm, owl_addr_str(&c->raddr, ip), c->rport, d.transport,
				  m->digest[0] ? "" : " (running image unreadable)");
		}
	} else {
		m->status = BM_NO_BASELINE;
	}

	if (m->verified && !integrity && ctx->cat.n) {
		const struct cat_entry *a = cat_match(&ctx->cat, p->exe, m->package, d.transport, c->rport,
						      cat_scope_of(&c->raddr), NULL);
		if (a) {
			m->agent = a;
			judge_add(rec, "known-agent", OWL_SEV_INFO, "%s (%s)%s%s", a->name, cat_category_name(a->category),
				  a->description[0] ? ": " : "", a->description);
			benign = true;
		}
	}
	if (benign)
		lower_destination_findings(rec);
}

static int open_store(const struct scan_opts *o, struct store_ctx *ctx)
{
	const char *path = o->db_path ? o->db_path : STORE_DEFAULT_PATH;
	int rc = store_open(path, 0, &ctx->db);
	if (rc == -EACCES || rc == -EROFS)
		rc = store_open(path, STORE_RDONLY, &ctx->db);
	/* no database at the default place: no baseline, not an error */
	if (rc == -ENOENT && !o->db_path)
		return 0;
	if (rc < 0)
		return rc;
	rc = baseline_load(ctx->db, &ctx->set);
	if (rc < 0)
		return rc;
	return 0;
}

int baseline_stage_run(const struct scan_opts *o, struct scan_result *r)
{
	struct store_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	r->store = ctx;
	cat_init(&ctx->cat);
	digest_cache_init(&ctx->digests);
	int rc = open_store(o, ctx);
	if (rc < 0)
		return rc;
	rc = cat_load_default(&ctx->cat);
	if (rc < 0)
		return rc;
	ctx->m = calloc(r->nrecs ? r->nrecs : 1, sizeof(*ctx->m));
	if (!ctx->m)
		return -ENOMEM;
	ctx->nm = r->nrecs;
	const char *proc_root = o->proc_root ? o->proc_root : "/proc";
	for (size_t i = 0; i < r->nrecs; i++) {
		struct owl_record *rec = &r->recs[i];
		if (!baseline_candidate(rec))
			continue;
		struct baseline_match *m = &ctx->m[i];
		rec->baseline = m;
		/* a vanished process leaves the digest unknown: it then matches
		 * no pinned entry, which is the safe side */
		if (digest_proc_exe(proc_root, rec->proc->pid, &ctx->digests, m->digest) < 0)
			m->digest[0] = '\0';
		fill_identity(m, rec->proc);
		judge_one(ctx, rec, m);
	}
	return 0;
}

void store_ctx_free(struct store_ctx *ctx)
{
	if (!ctx)
		return;
	store_close(ctx->db);
	baseline_set_free(&ctx->set);
	cat_free(&ctx->cat);
	digest_cache_free(&ctx->digests);
	free(ctx->m);
	free(ctx);
}

static const char *status_name(uint8_t s)
{
	switch (s) {
	case BM_NO_BASELINE: return "no-baseline";
	case BM_DOCUMENTED: return "documented";
	case BM_NEW: return "new-destination";
	case BM_HELD_BACK: return "held-back";
	default: return "not-checked";
	}
}

void baseline_report_json(struct jsonw *w, const struct owl_record *rec)
{
	const struct baseline_match *m = rec->baseline;
	if (!m)
		return;
	jsonw_obj_open(w, "baseline");
	jsonw_str(w, "status", status_name(m->status));
	if (m->entry) {
		jsonw_u64(w, "entry", (uint64_t)m->entry->id);
		jsonw_str(w, "kind", baseline_kind_name(m->entry->kind));
		jsonw_str(w, "host", m->entry->host);
		if (m->entry->note[0])
			jsonw_str(w, "note", m->entry->note);
	}
	jsonw_obj_open(w, "identity");
	if (m->digest[0])
		jsonw_str(w, "sha256", m->digest);
	if (m->package[0])
		jsonw_str(w, "package", m->package);
	jsonw_bool(w, "verified", m->verified);
	if (m->user[0])
		jsonw_str(w, "user", m->user);
	if (m->unit[0])
		jsonw_str(w, "unit", m->unit);
	jsonw_obj_close(w);
	jsonw_obj_close(w);
	if (m->agent) {
		jsonw_obj_open(w, "known_agent");
		jsonw_str(w, "name", m->agent->name);
		jsonw_str(w, "category", cat_category_name(m->agent->category));
		jsonw_obj_close(w);
	}
}
