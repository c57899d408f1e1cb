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
#include "trace/watch.h"
#include "verify/verify.h"

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
				judge_set_severity(rec, i, OWL_SEV_INFO);
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

/* What the verify stage (issue 3) says about the running image, through
 * verify_identity(): vouched for ("passed") only when a package owns the
 * executable, the running image (read through /proc/PID/exe) matches the
 * package's record, it is on disk, and no preload / name / stdio sign is
 * present.  When the stage did not run (--no-verify) nothing is vouched
 * for: no package identity, no known-agent.  verify's sha256 is of the
 * same running image as ours; it is taken when present (it is cached). */
static bool proc_verified(const struct owl_proc *p, struct bm_identity *m)
{
	struct verify_identity vid;
	if (verify_identity(p, &vid) < 0)
		return false;
	if (vid.sha256_hex[0])
		owl_strlcpy(m->digest, vid.sha256_hex, sizeof(m->digest));
	owl_strlcpy(m->package, vid.package, sizeof(m->package));
	return vid.passed && vid.package[0];
}

static void fill_identity(struct bm_identity *m, const struct owl_proc *p)
{
	if (p->user[0])
		owl_strlcpy(m->user, p->user, sizeof(m->user));
	else if (p->have_status)
		snprintf(m->user, sizeof(m->user), "%u", p->uid);
	/* a login session's scope changes with every login, and a container's
	 * scope with every start: not part of a stable identity */
	if (p->cg.unit[0] && !p->cg.user_session && !p->cg.container_id[0])
		owl_strlcpy(m->unit, p->cg.unit, sizeof(m->unit));
	m->verified = proc_verified(p, m);
}

static void add_documented(struct owl_record *rec, const struct baseline_rule *e)
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

void baseline_judge_record(const struct baseline_set *set, const struct catalogue *cat, struct owl_record *rec,
			   struct baseline_match *m)
{
	const struct owl_proc *p = rec->proc;
	const struct owl_conn *c = &rec->conn;
	bool integrity = has_any(rec, integrity_ids, OWL_ARRAY_SIZE(integrity_ids));
	bool benign = false;
	static const struct bm_identity none;
	const struct bm_identity *who = m->id ? m->id : &none;
	struct baseline_identity id = {
		.exe = p->exe, .package = who->package, .package_verified = who->verified, .digest = who->digest,
		.user = who->user, .unit = who->unit, .container = p->cg.container_id,
	};
	/* the name the process resolved, when a live event knows it (never a
	 * reverse-DNS name: whoever owns the address controls that) */
	const char *domain = rec->trace && rec->trace->domain[0] ? rec->trace->domain : NULL;
	struct baseline_dest d = {.addr = c->raddr, .port = c->rport, .transport = baseline_transport(rec), .domain = domain};
	char ip[OWL_ADDRSTR_MAX];

	if (set->n) {
		const struct baseline_rule *e = baseline_match(set, &id, &d);
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
				  who->digest[0] ? "" : " (running image unreadable)");
		}
	} else {
		m->status = BM_NO_BASELINE;
	}

	if (who->verified && !integrity && cat->n) {
		const struct cat_entry *a = cat_match(cat, p->exe, who->package, d.transport, c->rport,
						      cat_scope_of(&c->raddr), domain);
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

/* What one load of the store and the catalogue gave; records point into
 * it, so it lives as long as the last store_ctx using it. */
struct bl_gen {
	unsigned refs;
	struct baseline_set set;
	struct catalogue cat;
};

static void gen_unref(struct bl_gen *g)
{
	if (!g || --g->refs > 0)
		return;
	baseline_set_free(&g->set);
	cat_free(&g->cat);
	free(g);
}

/* The process-wide state behind every store_ctx. */
static struct {
	char *path;                 /* the store's path (NULL: nothing loaded yet) */
	bool explicit_path;
	struct store *db;           /* NULL when there is no database */
	long long data_version;
	uint64_t cat_loaded_ns;
	struct bl_gen *gen;
	struct imgdigest_cache digests;
	bool digests_init;
} shared;

void baseline_stage_reset(void)
{
	store_close(shared.db);
	free(shared.path);
	gen_unref(shared.gen);
	if (shared.digests_init)
		imgdigest_cache_free(&shared.digests);
	memset(&shared, 0, sizeof(shared));
}

static long long data_version(struct store *s)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(store_db(s), "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

void baseline_settle(struct owl_record *rec)
{
	const struct baseline_match *m = rec->baseline;
	if (!m || (m->status != BM_DOCUMENTED && !m->agent))
		return;
	if (has_any(rec, integrity_ids, OWL_ARRAY_SIZE(integrity_ids)))
		return;
	lower_destination_findings(rec);
}

static int open_db(const char *path, bool explicit_path, struct store **ret)
{
	int rc = store_open(path, 0, ret);
	if (rc == -EACCES || rc == -EROFS)
		rc = store_open(path, STORE_RDONLY, ret);
	/* no database at the default place, or one this user may not read
	 * (not root: the scan already says its view is partial): no
	 * baseline, not an error */
	if ((rc == -ENOENT || rc == -EACCES) && !explicit_path) {
		*ret = NULL;
		return 0;
	}
	return rc;
}

/* Bring shared up to date for this path; returns 0 or -errno. */
static int shared_refresh(const struct scan_opts *o)
{
	const char *path = o->db_path ? o->db_path : STORE_DEFAULT_PATH;
	bool same = shared.path && strcmp(shared.path, path) == 0 && shared.explicit_path == !!o->db_path;
	bool reload = !same || !shared.gen;
	int rc;
	if (!same) {
		static bool registered;
		/* close the store at exit so that SQLite checkpoints and removes
		 * its -wal file (the caller of the stages has no hook for it) */
		if (!registered && atexit(baseline_stage_reset) == 0)
			registered = true;
		baseline_stage_reset();
		if (!(shared.path = strdup(path)))
			return -ENOMEM;
		shared.explicit_path = o->db_path != NULL;
		imgdigest_cache_init(&shared.digests);
		shared.digests_init = true;
		if ((rc = open_db(path, shared.explicit_path, &shared.db)) < 0) {
			baseline_stage_reset();
			return rc;
		}
	} else if (!shared.db) {
		/* created since the last look? */
		if ((rc = open_db(path, shared.explicit_path, &shared.db)) < 0)
			return rc;
		reload |= shared.db != NULL;
	}
	long long dv = shared.db ? data_version(shared.db) : 0;
	if (dv != shared.data_version)
		reload = true;
	uint64_t now = owl_now_ns();
	if (now - shared.cat_loaded_ns > (uint64_t)STAGE_CATALOGUE_TTL_S * 1000000000ull)
		reload = true;
	if (!reload)
		return 0;
	struct bl_gen *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->refs = 1;
	cat_init(&g->cat);
	if (shared.db && (rc = baseline_load(shared.db, &g->set)) < 0) {
		gen_unref(g);
		return rc;
	}
	if ((rc = cat_load_default(&g->cat)) < 0) {
		gen_unref(g);
		return rc;
	}
	gen_unref(shared.gen);
	shared.gen = g;
	shared.data_version = dv;
	shared.cat_loaded_ns = now;
	return 0;
}

int baseline_stage_run(const struct scan_opts *o, struct scan_result *r)
{
	struct store_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	r->store = ctx;
	int rc = shared_refresh(o);
	if (rc < 0)
		return rc;
	ctx->gen = shared.gen;
	ctx->gen->refs++;
	ctx->set = &ctx->gen->set;
	ctx->cat = &ctx->gen->cat;
	ctx->have_db = shared.db != NULL;
	/* one match per candidate socket, one identity per process */
	size_t ncand = 0;
	for (size_t i = 0; i < r->nrecs; i++)
		ncand += baseline_candidate(&r->recs[i]);
	ctx->m = calloc(ncand ? ncand : 1, sizeof(*ctx->m));
	ctx->ids = calloc(r->nprocs ? r->nprocs : 1, sizeof(*ctx->ids));
	uint8_t *have = calloc(r->nprocs ? r->nprocs : 1, 1);
	if (!ctx->m || !ctx->ids || !have) {
		free(have);
		return -ENOMEM;
	}
	const char *proc_root = o->proc_root ? o->proc_root : "/proc";
	for (size_t i = 0; i < r->nrecs && ctx->nm < ncand; i++) {
		struct owl_record *rec = &r->recs[i];
		if (!baseline_candidate(rec))
			continue;
		size_t pi;
		if (!scan_proc_index(r, rec->proc, &pi))
			continue; /* not one of this scan's processes */
		struct bm_identity *id = &ctx->ids[pi];
		if (!have[pi]) {
			have[pi] = 1;
			fill_identity(id, rec->proc);
			/* verify hashes every running image; with --no-verify owl
			 * reads it here, but only when there are entries to compare
			 * with.  A vanished process leaves the digest unknown: it then
			 * matches no pinned entry, which is the safe side. */
			if (!id->digest[0] && ctx->set->n &&
			    imgdigest_proc_exe(proc_root, rec->proc->pid, &shared.digests, id->digest) < 0)
				id->digest[0] = '\0';
		}
		struct baseline_match *m = &ctx->m[ctx->nm++];
		m->id = id;
		rec->baseline = m;
		baseline_judge_record(ctx->set, ctx->cat, rec, m);
	}
	free(have);
	return 0;
}

void store_ctx_free(struct store_ctx *ctx)
{
	if (!ctx)
		return;
	gen_unref(ctx->gen);
	free(ctx->m);
	free(ctx->ids);
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
	if (m->id) {
		if (m->id->digest[0])
			jsonw_str(w, "sha256", m->id->digest);
		if (m->id->package[0])
			jsonw_str(w, "package", m->id->package);
		jsonw_bool(w, "verified", m->id->verified);
		if (m->id->user[0])
			jsonw_str(w, "user", m->id->user);
		if (m->id->unit[0])
			jsonw_str(w, "unit", m->id->unit);
	} else {
		jsonw_bool(w, "verified", false);
	}
	jsonw_obj_close(w);
	jsonw_obj_close(w);
	if (m->agent) {
		jsonw_obj_open(w, "known_agent");
		jsonw_str(w, "name", m->agent->name);
		jsonw_str(w, "category", cat_category_name(m->agent->category));
		jsonw_obj_close(w);
	}
}
