#include "judge/catalogue.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "endpoint/scope.h"

static const char *const cat_names[CAT__MAX] = {
	[CAT_UPDATE_AGENT] = "update agent",   [CAT_TIME_SYNC] = "time sync",
	[CAT_DNS] = "DNS",                     [CAT_MONITORING] = "monitoring",
	[CAT_CLOUD_AGENT] = "cloud agent",     [CAT_CONTAINER_RUNTIME] = "container runtime",
	[CAT_REMOTE_ACCESS] = "remote access", [CAT_USER_APPLICATION] = "user application",
};

static const char *const scope_names[CAT_SCOPE__MAX] = {
	[CAT_SCOPE_PUBLIC] = "public",       [CAT_SCOPE_PRIVATE] = "private",
	[CAT_SCOPE_LOOPBACK] = "loopback",   [CAT_SCOPE_LINK_LOCAL] = "link-local",
	[CAT_SCOPE_METADATA] = "metadata",   [CAT_SCOPE_MULTICAST] = "multicast",
	[CAT_SCOPE_CGNAT] = "cgnat",         [CAT_SCOPE_DOCUMENTATION] = "documentation",
	[CAT_SCOPE_OTHER] = "other",
};

const char *cat_category_name(int cat)
{
	return cat >= 0 && cat < CAT__MAX ? cat_names[cat] : "?";
}

const char *cat_scope_name(int scope)
{
	return scope >= 0 && scope < CAT_SCOPE__MAX ? scope_names[scope] : "?";
}

/* The endpoint stage's scope table (src/endpoint/scope.c), folded into
 * the scopes a catalogue can name. */
enum cat_scope cat_scope_of(const struct owl_addr *a)
{
	switch (ep_scope_of(a)) {
	case EP_SCOPE_PUBLIC: return CAT_SCOPE_PUBLIC;
	case EP_SCOPE_LOOPBACK: return CAT_SCOPE_LOOPBACK;
	case EP_SCOPE_PRIVATE: return CAT_SCOPE_PRIVATE;
	case EP_SCOPE_CGNAT: return CAT_SCOPE_CGNAT;
	case EP_SCOPE_LINK_LOCAL: return CAT_SCOPE_LINK_LOCAL;
	case EP_SCOPE_METADATA: return CAT_SCOPE_METADATA;
	case EP_SCOPE_MULTICAST: return CAT_SCOPE_MULTICAST;
	case EP_SCOPE_DOCUMENTATION: return CAT_SCOPE_DOCUMENTATION;
	default: return CAT_SCOPE_OTHER; /* unspecified, broadcast, benchmarking, reserved, NAT64 */
	}
}

void cat_init(struct catalogue *c)
{
	memset(c, 0, sizeof(*c));
}

static void entry_free(struct cat_entry *e)
{
	free(e->exes);
	free(e->packages);
	free(e->ports);
	free(e->domains);
	memset(e, 0, sizeof(*e));
}

void cat_free(struct catalogue *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_free(&c->e[i]);
	free(c->e);
	free(c->errors);
	memset(c, 0, sizeof(*c));
}

static int add_error(struct catalogue *c, const char *fname, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int add_error(struct catalogue *c, const char *fname, size_t line, const char *fmt, ...)
{
	if (c->nerrors >= 1000)
		return 0; /* enough to tell the administrator */
	if (c->nerrors == c->errcap) {
		size_t cap = c->errcap ? c->errcap * 2 : 8;
		void *p = realloc(c->errors, cap * sizeof(*c->errors));
		if (!p)
			return -ENOMEM;
		c->errors = p;
		c->errcap = cap;
	}
	char *dst = c->errors[c->nerrors++];
	int n = line ? snprintf(dst, CAT_ERR_MAX, "%s:%zu: ", fname, line) : snprintf(dst, CAT_ERR_MAX, "%s: ", fname);
	if (n < 0 || n >= CAT_ERR_MAX)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst + n, CAT_ERR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CAT_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	return true;
}

/* Printable ASCII only, so an entry cannot smuggle control bytes. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Split a whitespace-separated list into a new array of items. */
static int split_list(const char *val, char (**ret)[CAT_ITEM_MAX], size_t *ret_n, const char **why)
{
	char(*items)[CAT_ITEM_MAX] = NULL;
	size_t n = 0;
	const char *p = val;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		size_t len = (size_t)(p - start);
		if (len >= CAT_ITEM_MAX) {
			*why = "list item too long";
			free(items);
			return -EINVAL;
		}
		if (n >= CAT_LIST_MAX) {
			*why = "too many items in one list";
			free(items);
			return -EINVAL;
		}
		void *np = realloc(items, (n + 1) * sizeof(*items));
		if (!np) {
			free(items);
			return -ENOMEM;
		}
		items = np;
		memcpy(items[n], start, len);
		items[n][len] = '\0';
		n++;
	}
	if (n == 0) {
		*why = "empty list";
		free(items);
		return -EINVAL;
	}
	*ret = items;
	*ret_n = n;
	return 0;
}

static int parse_port_item(const char *s, struct cat_ports *ret)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	size_t tl = (size_t)(slash - s);
	uint8_t tp;
	if (tl == 3 && strncmp(s, "tcp", 3) == 0)
		tp = 1;
	else if (tl == 3 && strncmp(s, "udp", 3) == 0)
		tp = 2;
	else if (tl == 3 && strncmp(s, "any", 3) == 0)
		tp = 0;
	else
		return -EINVAL;
	char buf[16];
	if (owl_strlcpy(buf, slash + 1, sizeof(buf)) >= sizeof(buf))
		return -EINVAL;
	long long lo, hi;
	char *dash = strchr(buf, '-');
	if (strcmp(buf, "*") == 0) {
		lo = 0;
		hi = 65535;
	} else if (dash) {
		*dash = '\0';
		if (owl_strtonum(buf, 0, 65535, &lo) < 0 || owl_strtonum(dash + 1, 0, 65535, &hi) < 0 || lo > hi)
			return -EINVAL;
	} else {
		if (owl_strtonum(buf, 0, 65535, &lo) < 0)
			return -EINVAL;
		hi = lo;
	}
	ret->transport = tp;
	ret->lo = (uint16_t)lo;
	ret->hi = (uint16_t)hi;
	return 0;
}

/* Parse state of one entry. */
struct pstate {
	struct cat_entry cur;
	bool in_entry;
	bool bad;                 /* an error inside the current entry: drop it */
	size_t start_line;
	bool seen_category;
};

static struct cat_entry *find(struct catalogue *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].name, name) == 0)
			return &c->e[i];
	return NULL;
}

/* Close the current entry: keep it when complete and valid. */
static int finish(struct catalogue *c, struct pstate *ps, const char *fname, bool replace, int *added)
{
	int rc = 0;
	if (!ps->in_entry)
		return 0;
	struct cat_entry *e = &ps->cur;
	ps->in_entry = false;
	if (!ps->bad) {
		const char *why = NULL;
		if (!ps->seen_category)
			why = "no category";
		else if (!e->nexes && !e->npackages)
			why = "neither executables nor packages";
		else if (!e->nports)
			why = "no ports";
		if (why) {
			rc = add_error(c, fname, ps->start_line, "entry [%s] dropped: %s", e->name, why);
			ps->bad = true;
		}
	}
	if (ps->bad) {
		entry_free(e);
		return rc;
	}
	struct cat_entry *old = find(c, e->name);
	if (old && !replace) {
		rc = add_error(c, fname, ps->start_line, "entry [%s] dropped: defined twice (first in %s)", e->name,
			       old->file);
		entry_free(e);
		return rc;
	}
	if (old) {
		entry_free(old);
		*old = *e;
		memset(e, 0, sizeof(*e));
		(*added)++;
		return 0;
	}
	if (c->n >= CAT_ENTRIES_MAX) {
		entry_free(e);
		return add_error(c, fname, ps->start_line, "too many entries (limit %d)", CAT_ENTRIES_MAX);
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		void *p = realloc(c->e, cap * sizeof(*c->e));
		if (!p) {
			entry_free(e);
			return -ENOMEM;
		}
		c->e = p;
		c->cap = cap;
	}
	c->e[c->n++] = *e;
	memset(e, 0, sizeof(*e));
	(*added)++;
	return 0;
}

static int parse_kv(struct pstate *ps, char *key, char *val, const char **why)
{
	struct cat_entry *e = &ps->cur;
	int rc;
	if (!printable(val)) {
		*why = "control or non-ASCII bytes in a value";
		return -EINVAL;
	}
	if (strcmp(key, "category") == 0) {
		if (ps->seen_category) {
			*why = "category given twice";
			return -EINVAL;
		}
		for (int i = 0; i < CAT__MAX; i++) {
			if (strcasecmp(val, cat_names[i]) == 0) {
				e->category = (uint8_t)i;
				ps->seen_category = true;
				return 0;
			}
			/* "update-agent" spelled with a dash is fine too */
			char dashed[32];
			owl_strlcpy(dashed, cat_names[i], sizeof(dashed));
			for (char *p = dashed; *p; p++)
				if (*p == ' ')
					*p = '-';
			if (strcasecmp(val, dashed) == 0) {
				e->category = (uint8_t)i;
				ps->seen_category = true;
				return 0;
			}
		}
		*why = "unknown category (update agent, time sync, DNS, monitoring, cloud agent, container runtime, "
		       "remote access, user application)";
		return -EINVAL;
	}
	if (strcmp(key, "description") == 0) {
		if (strlen(val) >= sizeof(e->description)) {
			*why = "description too long";
			return -EINVAL;
		}
		owl_strlcpy(e->description, val, sizeof(e->description));
		return 0;
	}
	if (strcmp(key, "executables") == 0) {
		if (e->exes) {
			*why = "executables given twice";
			return -EINVAL;
		}
		if ((rc = split_list(val, &e->exes, &e->nexes, why)) < 0)
			return rc;
		for (size_t i = 0; i < e->nexes; i++)
			if (e->exes[i][0] != '/') {
				*why = "an executable must be an absolute path";
				return -EINVAL;
			}
		return 0;
	}
	if (strcmp(key, "packages") == 0) {
		if (e->packages) {
			*why = "packages given twice";
			return -EINVAL;
		}
		return split_list(val, &e->packages, &e->npackages, why);
	}
	if (strcmp(key, "domains") == 0) {
		if (e->domains) {
			*why = "domains given twice";
			return -EINVAL;
		}
		return split_list(val, &e->domains, &e->ndomains, why);
	}
	if (strcmp(key, "ports") == 0 || strcmp(key, "scopes") == 0) {
		char(*items)[CAT_ITEM_MAX] = NULL;
		size_t n = 0;
		bool ports = key[0] == 'p';
		if (ports ? e->ports != NULL : e->scopes != 0) {
			*why = ports ? "ports given twice" : "scopes given twice";
			return -EINVAL;
		}
		if ((rc = split_list(val, &items, &n, why)) < 0)
			return rc;
		if (ports) {
			e->ports = calloc(n, sizeof(*e->ports));
			if (!e->ports) {
				free(items);
				return -ENOMEM;
			}
			for (size_t i = 0; i < n; i++)
				if (parse_port_item(items[i], &e->ports[i]) < 0) {
					*why = "a port is tcp/N, udp/N or any/N (N a port or a range LO-HI, or *)";
					free(items);
					return -EINVAL;
				}
			e->nports = n;
		} else {
			uint32_t set = 0;
			for (size_t i = 0; i < n; i++) {
				int s;
				if (strcmp(items[i], "any") == 0) {
					set = (1u << CAT_SCOPE__MAX) - 1;
					continue;
				}
				for (s = 0; s < CAT_SCOPE__MAX; s++)
					if (strcmp(items[i], scope_names[s]) == 0)
						break;
				if (s == CAT_SCOPE__MAX) {
					*why = "unknown scope (public, private, loopback, link-local, metadata, multicast, "
					       "cgnat, documentation, other, any)";
					free(items);
					return -EINVAL;
				}
				set |= 1u << s;
			}
			e->scopes = set;
		}
		free(items);
		return 0;
	}
	*why = "unknown key (category, description, executables, packages, ports, scopes, domains)";
	return -EINVAL;
}

int cat_parse(struct catalogue *c, const char *fname, const char *buf, size_t len, bool replace)
{
	struct pstate ps;
	memset(&ps, 0, sizeof(ps));
	int added = 0, rc = 0;
	size_t lineno = 0;
	char line[CAT_LINE_MAX];
	size_t pos = 0;
	while (pos < len && rc >= 0) {
		size_t end = pos;
		while (end < len && buf[end] != '\n')
			end++;
		lineno++;
		size_t n = end - pos;
		const char *src = buf + pos;
		pos = end + 1;
		if (n >= sizeof(line)) {
			rc = add_error(c, fname, lineno, "line longer than %d bytes", CAT_LINE_MAX - 1);
			ps.bad = ps.in_entry;
			continue;
		}
		if (memchr(src, '\0', n)) {
			rc = add_error(c, fname, lineno, "NUL byte in line");
			ps.bad = ps.in_entry;
			continue;
		}
		memcpy(line, src, n);
		line[n] = '\0';
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if ((rc = finish(c, &ps, fname, replace, &added)) < 0)
				break;
			memset(&ps, 0, sizeof(ps));
			ps.in_entry = true;
			ps.start_line = lineno;
			size_t sl = strlen(s);
			if (sl < 3 || s[sl - 1] != ']') {
				rc = add_error(c, fname, lineno, "malformed section header (want [name])");
				ps.bad = true;
				owl_strlcpy(ps.cur.name, "?", sizeof(ps.cur.name));
				continue;
			}
			s[sl - 1] = '\0';
			char *name = trim(s + 1);
			if (!valid_name(name)) {
				rc = add_error(c, fname, lineno, "bad entry name (letters, digits, '.', '_', '-'; at most %d)",
					       CAT_NAME_MAX - 1);
				ps.bad = true;
				owl_strlcpy(ps.cur.name, "?", sizeof(ps.cur.name));
				continue;
			}
			owl_strlcpy(ps.cur.name, name, sizeof(ps.cur.name));
			snprintf(ps.cur.file, sizeof(ps.cur.file), "%.200s:%zu", fname, lineno);
			continue;
		}
		if (!ps.in_entry) {
			rc = add_error(c, fname, lineno, "a line outside any [entry]");
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = add_error(c, fname, lineno, "expected key = value");
			ps.bad = true;
			continue;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		const char *why = NULL;
		if (ps.bad)
			continue; /* already dropped; one message per entry is enough */
		int r = parse_kv(&ps, key, val, &why);
		if (r == -ENOMEM) {
			rc = r;
			break;
		}
		if (r < 0) {
			rc = add_error(c, fname, lineno, "[%s] %.40s: %s", ps.cur.name, key, why ? why : "invalid");
			ps.bad = true;
		}
	}
	if (rc >= 0)
		rc = finish(c, &ps, fname, replace, &added);
	else
		entry_free(&ps.cur);
	return rc < 0 ? rc : added;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cat_load_dir(struct catalogue *c, const char *dir, bool replace)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return add_error(c, dir, 0, "cannot read the directory: %s", strerror(errno));
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, added = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".conf") != 0)
			continue;
		if (n >= 1024)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			void *p = realloc(names, cap * sizeof(*names));
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			names = p;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == 0 && n)
		qsort(names, n, sizeof(*names), cmp_str);
	char *buf = rc == 0 ? malloc(CAT_FILE_MAX + 1) : NULL;
	if (rc == 0 && !buf)
		rc = -ENOMEM;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		char path[OWL_PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ssize_t got = owl_read_file(path, buf, CAT_FILE_MAX + 1);
		if (got < 0) {
			rc = add_error(c, path, 0, "cannot read: %s", strerror((int)-got));
			continue;
		}
		if ((size_t)got >= CAT_FILE_MAX) {
			rc = add_error(c, path, 0, "larger than %d bytes, skipped", CAT_FILE_MAX);
			continue;
		}
		int r = cat_parse(c, path, buf, (size_t)got, replace);
		if (r < 0)
			rc = r;
		else
			added += r;
	}
	free(buf);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc < 0 ? rc : added;
}

#ifndef OWL_DATADIR
#define OWL_DATADIR "/usr/share/owl"
#endif
#ifndef OWL_SYSCONFDIR
#define OWL_SYSCONFDIR "/etc/owl"
#endif

/* An owl run from its build tree (never installed, as in the README's Quick
 * start) reads the catalogue from its source tree; an installed owl never
 * does (its executable is not under the build root). */
static bool running_from_build_tree(void)
{
#if defined(OWL_BUILD_ROOT) && defined(OWL_SOURCE_DATADIR)
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return false;
	self[n] = '\0';
	size_t bl = strlen(OWL_BUILD_ROOT);
	return strncmp(self, OWL_BUILD_ROOT, bl) == 0 && self[bl] == '/';
#else
	return false;
#endif
}

const char *cat_default_dir(void)
{
	const char *e = getenv("OWL_CATALOGUE_DIR");
	if (e && *e)
		return e;
	struct stat st;
	if (stat(OWL_DATADIR "/catalogue", &st) < 0 && running_from_build_tree()) {
#ifdef OWL_SOURCE_DATADIR
		return OWL_SOURCE_DATADIR "/catalogue";
#endif
	}
	return OWL_DATADIR "/catalogue";
}

const char *cat_local_dir(void)
{
	const char *e = getenv("OWL_CATALOGUE_LOCAL_DIR");
	return e && *e ? e : OWL_SYSCONFDIR "/catalogue.d";
}

int cat_load_default(struct catalogue *c)
{
	int a = cat_load_dir(c, cat_default_dir(), false);
	if (a < 0)
		return a;
	int b = cat_load_dir(c, cat_local_dir(), true);
	return b < 0 ? b : a + b;
}

bool cat_covers_program(const struct cat_entry *e, const char *exe, const char *package)
{
	if (exe && *exe)
		for (size_t i = 0; i < e->nexes; i++)
			if (fnmatch(e->exes[i], exe, FNM_PATHNAME) == 0)
				return true;
	if (package && *package)
		for (size_t i = 0; i < e->npackages; i++)
			if (strcmp(e->packages[i], package) == 0)
				return true;
	return false;
}

static bool domain_in(const struct cat_entry *e, const char *domain)
{
	size_t dl = strlen(domain);
	if (dl && domain[dl - 1] == '.')
		dl--;
	for (size_t i = 0; i < e->ndomains; i++) {
		const char *p = e->domains[i];
		if (p[0] == '*' && p[1] == '.') {
			size_t sl = strlen(p + 1);
			if (dl > sl && strncasecmp(domain + dl - sl, p + 1, sl) == 0)
				return true;
		} else if (strlen(p) == dl && strncasecmp(p, domain, dl) == 0) {
			return true;
		}
	}
	return false;
}

const struct cat_entry *cat_match(const struct catalogue *c, const char *exe, const char *package,
				  const char *transport, uint16_t port, enum cat_scope scope, const char *domain)
{
	uint8_t tp = transport && strcmp(transport, "tcp") == 0 ? 1 : transport && strcmp(transport, "udp") == 0 ? 2 : 3;
	for (size_t i = 0; i < c->n; i++) {
		const struct cat_entry *e = &c->e[i];
		if (!cat_covers_program(e, exe, package))
			continue;
		if (e->scopes && !(e->scopes & (1u << scope)))
			continue;
		if (domain && *domain && e->ndomains && !domain_in(e, domain))
			continue;
		for (size_t k = 0; k < e->nports; k++) {
			const struct cat_ports *p = &e->ports[k];
			if ((p->transport == 0 || p->transport == tp) && port >= p->lo && port <= p->hi)
				return e;
		}
	}
	return NULL;
}
