#include "store/baseline.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/util.h"

const char *baseline_kind_name(int kind)
{
	return kind == BASELINE_ALLOWED ? "allowed" : "learned";
}

static void mask_addr(struct owl_addr *a, unsigned prefix)
{
	size_t n = owl_addr_len(a);
	for (size_t i = 0; i < n; i++) {
		unsigned bits = i * 8;
		if (bits >= prefix)
			a->bytes[i] = 0;
		else if (prefix - bits < 8)
			a->bytes[i] &= (uint8_t)(0xff00u >> (prefix - bits));
	}
}

static bool cidr_contains(const struct owl_addr *net, unsigned prefix, const struct owl_addr *a)
{
	if (net->family != a->family)
		return false;
	struct owl_addr m = *a;
	mask_addr(&m, prefix);
	return owl_addr_equal(&m, net);
}

static bool is_domain(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	if (s[0] == '*' && s[1] == '.')
		s += 2;
	if (!*s || *s == '.' || *s == '-')
		return false;
	bool letter = false;
	size_t label = 0;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return false;
		if (isalpha(c))
			letter = true;
		if (++label > 63)
			return false;
	}
	return letter;
}

int baseline_parse_dest(const char *s, struct baseline_entry *e)
{
	char buf[BL_DEST_MAX];
	if (!s || !*s || strcmp(s, "*") == 0 || strcmp(s, "any") == 0) {
		e->dest_type = BL_DEST_ANY;
		e->dest[0] = '\0';
		return 0;
	}
	if (owl_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -EINVAL;
	char *slash = strchr(buf, '/');
	long long prefix = -1;
	if (slash) {
		*slash = '\0';
		if (owl_strtonum(slash + 1, 0, 128, &prefix) < 0)
			return -EINVAL;
	}
	struct owl_addr a;
	if (owl_addr_parse(buf, &a) == 0) {
		unsigned max = a.family == AF_INET ? 32 : 128;
		if (prefix < 0)
			prefix = max;
		if ((unsigned)prefix > max)
			return -EINVAL;
		mask_addr(&a, (unsigned)prefix);
		char ip[OWL_ADDRSTR_MAX];
		e->dest_type = BL_DEST_CIDR;
		e->net = a;
		e->prefix = (uint8_t)prefix;
		if ((unsigned)prefix == max)
			snprintf(e->dest, sizeof(e->dest), "%s", owl_addr_str(&a, ip));
		else
			snprintf(e->dest, sizeof(e->dest), "%s/%u", owl_addr_str(&a, ip), (unsigned)prefix);
		return 0;
	}
	if (slash || !is_domain(buf))
		return -EINVAL;
	for (char *p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	size_t n = strlen(buf);
	if (n > 1 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	e->dest_type = BL_DEST_DOMAIN;
	owl_strlcpy(e->dest, buf, sizeof(e->dest));
	return 0;
}

int baseline_parse_ports(const char *s, uint16_t *ret_lo, uint16_t *ret_hi)
{
	long long lo, hi;
	char buf[16];
	if (!s || !*s || strcmp(s, "*") == 0 || strcmp(s, "any") == 0) {
		*ret_lo = 0;
		*ret_hi = 65535;
		return 0;
	}
	if (owl_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -EINVAL;
	char *dash = strchr(buf, '-');
	if (dash) {
		*dash = '\0';
		if (owl_strtonum(buf, 0, 65535, &lo) < 0 || owl_strtonum(dash + 1, 0, 65535, &hi) < 0 || lo > hi)
			return -EINVAL;
	} else {
		if (owl_strtonum(buf, 0, 65535, &lo) < 0)
			return -EINVAL;
		hi = lo;
	}
	*ret_lo = (uint16_t)lo;
	*ret_hi = (uint16_t)hi;
	return 0;
}

static bool is_hex_digest(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]) || isupper((unsigned char)s[n]))
			return false;
	return n == 64;
}

int baseline_validate(const struct baseline_entry *e, const char **ret_why)
{
	const char *why = NULL;
	if (e->kind != BASELINE_LEARNED && e->kind != BASELINE_ALLOWED)
		why = "kind must be learned or allowed";
	else if (!e->exe[0] && !e->package[0])
		why = "an entry names a program: an executable path or a package";
	else if (e->exe[0] && e->exe[0] != '/')
		why = "the executable must be an absolute path";
	else if (e->digest[0] && !is_hex_digest(e->digest))
		why = "the digest must be 64 lower-case hex digits (sha256)";
	else if (e->kind == BASELINE_ALLOWED && !e->note[0])
		why = "an allowance needs a note (why, who, ticket)";
	else if (e->kind == BASELINE_LEARNED && !e->digest[0])
		why = "a learned entry needs the digest of the running image";
	else if (e->transport[0] && strcmp(e->transport, "tcp") && strcmp(e->transport, "udp") &&
		 strcmp(e->transport, "raw"))
		why = "transport must be tcp, udp or raw";
	else if (e->port_lo > e->port_hi)
		why = "port range is backwards";
	else if (!e->host[0])
		why = "an entry needs the host it came from";
	if (why) {
		if (ret_why)
			*ret_why = why;
		return -EINVAL;
	}
	return 0;
}

static bool domain_matches(const char *pattern, const char *domain)
{
	if (!domain || !*domain)
		return false;
	char d[BL_DEST_MAX];
	owl_strlcpy(d, domain, sizeof(d));
	size_t n = strlen(d);
	for (size_t i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	if (n > 1 && d[n - 1] == '.')
		d[--n] = '\0';
	if (pattern[0] == '*' && pattern[1] == '.') {
		const char *suffix = pattern + 1; /* ".example.com" */
		size_t sl = strlen(suffix);
		return n > sl && strcmp(d + n - sl, suffix) == 0;
	}
	return strcmp(pattern, d) == 0;
}

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

void baseline_rule_view(const struct baseline_entry *e, struct baseline_rule *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->id = e->id;
	ret->kind = e->kind;
	ret->dest_type = e->dest_type;
	ret->prefix = e->prefix;
	ret->port_lo = e->port_lo;
	ret->port_hi = e->port_hi;
	memcpy(ret->transport, e->transport, sizeof(ret->transport));
	ret->net = e->net;
	ret->exe = e->exe;
	ret->package = e->package;
	ret->digest = e->digest;
	ret->user = e->user;
	ret->unit = e->unit;
	ret->container = e->container;
	ret->dest = e->dest;
	ret->note = e->note;
	ret->host = e->host;
	ret->first_seen = e->first_seen;
	ret->last_seen = e->last_seen;
	ret->count = e->count;
}

bool baseline_rule_matches(const struct baseline_rule *e, const struct baseline_identity *id,
			    const struct baseline_dest *d)
{
	/* identity first */
	if (e->exe[0] && !str_eq(e->exe, id->exe))
		return false;
	if (e->digest[0] && (!id->digest || !id->digest[0] || strcmp(e->digest, id->digest) != 0))
		return false;
	if (e->package[0] && (!id->package_verified || !str_eq(e->package, id->package)))
		return false;
	if (!e->digest[0] && !(e->package[0] && id->package_verified))
		return false; /* nothing vouches for the image */
	if (e->kind == BASELINE_LEARNED) {
		if (!str_eq(e->user, id->user) || !str_eq(e->unit, id->unit) || !str_eq(e->container, id->container))
			return false;
	} else {
		if (e->user[0] && !str_eq(e->user, id->user))
			return false;
		if (e->unit[0] && !str_eq(e->unit, id->unit))
			return false;
		if (e->container[0] && !str_eq(e->container, id->container))
			return false;
	}
	/* then the destination */
	if (e->transport[0] && !str_eq(e->transport, d->transport))
		return false;
	if (d->port < e->port_lo || d->port > e->port_hi)
		return false;
	switch (e->dest_type) {
	case BL_DEST_ANY: return true;
	case BL_DEST_CIDR: return cidr_contains(&e->net, e->prefix, &d->addr);
	case BL_DEST_DOMAIN: return domain_matches(e->dest, d->domain);
	}
	return false;
}

/* Larger is more specific. */
static long specificity(const struct baseline_rule *e)
{
	long s = 0;
	if (e->kind == BASELINE_ALLOWED)
		s += 1L << 40;
	if (e->digest[0])
		s += 1L << 32;
	if (e->dest_type == BL_DEST_CIDR)
		s += (long)(e->prefix + 1) << 20;
	else if (e->dest_type == BL_DEST_DOMAIN)
		s += 200L << 20;
	s += 65536 - ((long)e->port_hi - e->port_lo);
	return s;
}

#define ARENA_CHUNK (64 * 1024)

static const char *arena_str(struct baseline_set *set, const char *str)
{
	size_t n = strlen(str) + 1;
	if (n == 1)
		return "";
	if (!set->nchunks || set->chunk_used + n > set->chunk_size) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		char **c = realloc(set->chunks, (set->nchunks + 1) * sizeof(*c));
		if (!c)
			return NULL;
		set->chunks = c;
		if (!(c[set->nchunks] = malloc(size)))
			return NULL;
		set->nchunks++;
		set->chunk_used = 0;
		set->chunk_size = size;
	}
	char *dst = set->chunks[set->nchunks - 1] + set->chunk_used;
	memcpy(dst, str, n);
	set->chunk_used += n;
	return dst;
}

int baseline_set_add(struct baseline_set *set, const struct baseline_entry *e)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		void *p = realloc(set->e, cap * sizeof(*set->e));
		if (!p)
			return -ENOMEM;
		set->e = p;
		set->cap = cap;
	}
	struct baseline_rule r;
	baseline_rule_view(e, &r);
	const char **f[] = {&r.exe, &r.package, &r.digest, &r.user, &r.unit, &r.container, &r.dest, &r.note, &r.host};
	for (size_t i = 0; i < OWL_ARRAY_SIZE(f); i++)
		if (!(*f[i] = arena_str(set, *f[i])))
			return -ENOMEM;
	set->e[set->n++] = r;
	set->indexed = false;
	return 0;
}

static const struct baseline_set *sort_set; /* qsort has no context argument */

static int cmp_exe(const void *a, const void *b)
{
	return strcmp(sort_set->e[*(const uint32_t *)a].exe, sort_set->e[*(const uint32_t *)b].exe);
}

int baseline_index(struct baseline_set *set)
{
	free(set->by_exe);
	free(set->no_exe);
	set->by_exe = set->no_exe = NULL;
	set->n_by_exe = set->n_no_exe = 0;
	set->indexed = false;
	if (set->n > UINT32_MAX)
		return -E2BIG;
	size_t n = set->n ? set->n : 1;
	set->by_exe = malloc(n * sizeof(*set->by_exe));
	set->no_exe = malloc(n * sizeof(*set->no_exe));
	if (!set->by_exe || !set->no_exe) {
		free(set->by_exe);
		free(set->no_exe);
		set->by_exe = set->no_exe = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < set->n; i++) {
		if (set->e[i].exe[0])
			set->by_exe[set->n_by_exe++] = (uint32_t)i;
		else
			set->no_exe[set->n_no_exe++] = (uint32_t)i;
	}
	sort_set = set;
	qsort(set->by_exe, set->n_by_exe, sizeof(*set->by_exe), cmp_exe);
	sort_set = NULL;
	set->indexed = true;
	return 0;
}

static void consider(const struct baseline_rule *e, const struct baseline_identity *id,
		     const struct baseline_dest *d, const struct baseline_rule **best, long *best_s)
{
	if (!baseline_rule_matches(e, id, d))
		return;
	long sp = specificity(e);
	/* ties: the older entry (lower id) */
	if (sp > *best_s || (sp == *best_s && *best && e->id < (*best)->id)) {
		*best = e;
		*best_s = sp;
	}
}

const struct baseline_rule *baseline_match(const struct baseline_set *set, const struct baseline_identity *id,
					   const struct baseline_dest *d)
{
	const struct baseline_rule *best = NULL;
	long best_s = -1;
	if (!set->indexed) {
		for (size_t i = 0; i < set->n; i++)
			consider(&set->e[i], id, d, &best, &best_s);
		return best;
	}
	for (size_t i = 0; i < set->n_no_exe; i++)
		consider(&set->e[set->no_exe[i]], id, d, &best, &best_s);
	if (!id->exe || !id->exe[0])
		return best;
	/* the first entry whose exe is >= id->exe, then the run of equal ones */
	size_t lo = 0, hi = set->n_by_exe;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(set->e[set->by_exe[mid]].exe, id->exe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < set->n_by_exe && strcmp(set->e[set->by_exe[i]].exe, id->exe) == 0; i++)
		consider(&set->e[set->by_exe[i]], id, d, &best, &best_s);
	return best;
}

#define COLS "id, kind, exe, package, digest, user, unit, container, dest, port_lo, port_hi, transport, note, host, " \
	     "first_seen, last_seen, count"

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	owl_strlcpy(dst, t ? (const char *)t : "", n);
}

int baseline_load(struct store *s, struct baseline_set *ret)
{
	sqlite3_stmt *st = NULL;
	struct baseline_set set;
	memset(&set, 0, sizeof(set));
	struct baseline_entry *e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	int rc = sqlite3_prepare_v2(store_db(s), "SELECT " COLS " FROM baseline ORDER BY id", -1, &st, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(st, 0);
		char kind[16];
		col_text(st, 1, kind, sizeof(kind));
		e->kind = strcmp(kind, "allowed") == 0 ? BASELINE_ALLOWED : BASELINE_LEARNED;
		col_text(st, 2, e->exe, sizeof(e->exe));
		col_text(st, 3, e->package, sizeof(e->package));
		col_text(st, 4, e->digest, sizeof(e->digest));
		col_text(st, 5, e->user, sizeof(e->user));
		col_text(st, 6, e->unit, sizeof(e->unit));
		col_text(st, 7, e->container, sizeof(e->container));
		char dest[BL_DEST_MAX];
		col_text(st, 8, dest, sizeof(dest));
		e->port_lo = (uint16_t)sqlite3_column_int(st, 9);
		e->port_hi = (uint16_t)sqlite3_column_int(st, 10);
		col_text(st, 11, e->transport, sizeof(e->transport));
		col_text(st, 12, e->note, sizeof(e->note));
		col_text(st, 13, e->host, sizeof(e->host));
		e->first_seen = sqlite3_column_int64(st, 14);
		e->last_seen = sqlite3_column_int64(st, 15);
		e->count = sqlite3_column_int64(st, 16);
		/* a destination this owl cannot parse matches nothing (a domain
		 * pattern no name equals) */
		if (baseline_parse_dest(dest, e) < 0) {
			owl_strlcpy(e->dest, dest, sizeof(e->dest));
			e->dest_type = BL_DEST_DOMAIN;
		}
		if (baseline_set_add(&set, e) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	free(e);
	if (rc != SQLITE_DONE) {
		baseline_set_free(&set);
		return store_errno(rc);
	}
	baseline_index(&set); /* without it, matching is linear but still right */
	*ret = set;
	return 0;
}

void baseline_set_free(struct baseline_set *set)
{
	if (!set)
		return;
	free(set->e);
	for (size_t i = 0; i < set->nchunks; i++)
		free(set->chunks[i]);
	free(set->chunks);
	free(set->by_exe);
	free(set->no_exe);
	memset(set, 0, sizeof(*set));
}

int baseline_upsert(struct store *s, const struct baseline_entry *e, enum baseline_merge how, int64_t *ret_id)
{
	static const char sql[] =
		"INSERT INTO baseline (kind, exe, package, digest, user, unit, container, dest, port_lo, port_hi, "
		"transport, note, host, first_seen, last_seen, count) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
		"ON CONFLICT (kind, exe, package, digest, user, unit, container, dest, port_lo, port_hi, transport, host) "
		"DO UPDATE SET "
		"  count = CASE WHEN ?17 THEN max(count, excluded.count) ELSE count + excluded.count END,"
		"  first_seen = min(first_seen, excluded.first_seen),"
		"  last_seen = max(last_seen, excluded.last_seen),"
		"  note = CASE WHEN excluded.note <> '' THEN excluded.note ELSE note END "
		"RETURNING id";
	const char *why;
	if (baseline_validate(e, &why) < 0)
		return -EINVAL;
	sqlite3_stmt *st = store_stmt(s, sql);
	if (!st)
		return store_errno(sqlite3_errcode(store_db(s)));
	sqlite3_bind_text(st, 1, baseline_kind_name(e->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->exe, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->package, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, e->container, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, e->dest, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, e->port_lo);
	sqlite3_bind_int(st, 10, e->port_hi);
	sqlite3_bind_text(st, 11, e->transport, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, e->note, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, e->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 14, e->first_seen);
	sqlite3_bind_int64(st, 15, e->last_seen);
	sqlite3_bind_int64(st, 16, e->count > 0 ? e->count : 1);
	sqlite3_bind_int(st, 17, how == BASELINE_MAX);
	int rc = sqlite3_step(st);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	if (store_stmt_cached(s, st))
		sqlite3_reset(st);
	else
		sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_errno(rc);
	if (ret_id)
		*ret_id = id;
	return 0;
}

int baseline_forget(struct store *s, int64_t id, int kind, int64_t *ret_n)
{
	sqlite3_stmt *st = NULL;
	const char *sql = id > 0 ? "DELETE FROM baseline WHERE id = ?1"
		       : kind >= 0 ? "DELETE FROM baseline WHERE kind = ?2"
				   : "DELETE FROM baseline";
	int rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_errno(rc);
	if (id > 0)
		sqlite3_bind_int64(st, 1, id);
	else if (kind >= 0)
		sqlite3_bind_text(st, 2, baseline_kind_name(kind), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_errno(rc);
	*ret_n = sqlite3_changes64(store_db(s));
	return 0;
}

int baseline_count(struct store *s, int64_t *ret_n)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(store_db(s), "SELECT count(*) FROM baseline", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_n = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return store_errno(rc);
}
