#include "verify/dpkg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "verify/strmap.h"
#include "verify/vroot.h"

#define DPKG_FILE_MAX ((size_t)256 << 20) /* no dpkg file is near this */

/* ---------------------------------------------------------------- parsers */

/* hex digit value + 1 (0: not a hex digit): one load per digit, 116k
 * md5sums lines on a Debian host */
#define HX(c, v) [c] = (v) + 1
static const uint8_t hex_tab[256] = {
	HX('0', 0), HX('1', 1), HX('2', 2), HX('3', 3), HX('4', 4), HX('5', 5), HX('6', 6), HX('7', 7),
	HX('8', 8), HX('9', 9), HX('a', 10), HX('b', 11), HX('c', 12), HX('d', 13), HX('e', 14), HX('f', 15),
	HX('A', 10), HX('B', 11), HX('C', 12), HX('D', 13), HX('E', 14), HX('F', 15),
};
#undef HX

static int hexval(char c)
{
	return (int)hex_tab[(unsigned char)c] - 1;
}

int dpkg_parse_md5hex(const char *s, size_t len, uint8_t ret[16])
{
	uint8_t out[16];
	if (len != 32)
		return -EINVAL;
	for (size_t i = 0; i < 16; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(ret, out, 16);
	return 0;
}

/* Next line of buf: [*p, returned end), *p advanced past the newline. */
static const char *next_line(const char **p, const char *end, const char **ret_start)
{
	const char *s = *p;
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	const char *le = nl ? nl : end;
	*ret_start = s;
	*p = nl ? nl + 1 : end;
	return le;
}

int dpkg_parse_md5sums(const char *buf, size_t len, dpkg_md5_fn fn, void *ud, unsigned *ret_bad)
{
	const char *p = buf, *end = buf + len;
	unsigned bad = 0;
	int n = 0;
	while (p < end) {
		const char *s;
		const char *le = next_line(&p, end, &s);
		size_t ll = (size_t)(le - s);
		if (ll == 0)
			continue;
		uint8_t md5[16];
		/* "<32 hex>  path" (dpkg) or "<32 hex> *path" (md5sum -b) */
		if (ll < 35 || dpkg_parse_md5hex(s, 32, md5) < 0 || s[32] != ' ' || (s[33] != ' ' && s[33] != '*')) {
			bad++;
			continue;
		}
		const char *path = s + 34;
		size_t pl = (size_t)(le - path);
		while (pl && *path == '/') { /* tolerate an absolute path */
			path++;
			pl--;
		}
		if (pl == 0 || pl >= DPKG_PATH_MAX || memchr(path, '\0', pl)) {
			bad++;
			continue;
		}
		int rc = fn(ud, path, pl, md5);
		if (rc < 0)
			return rc;
		n++;
	}
	if (ret_bad)
		*ret_bad = bad;
	return n;
}

int dpkg_parse_list(const char *buf, size_t len, dpkg_path_fn fn, void *ud, unsigned *ret_bad)
{
	const char *p = buf, *end = buf + len;
	unsigned bad = 0;
	int n = 0;
	while (p < end) {
		const char *s;
		const char *le = next_line(&p, end, &s);
		size_t ll = (size_t)(le - s);
		if (ll == 0)
			continue;
		if (s[0] != '/' || ll >= DPKG_PATH_MAX || memchr(s, '\0', ll)) {
			bad++;
			continue;
		}
		int rc = fn(ud, s, ll);
		if (rc < 0)
			return rc;
		n++;
	}
	if (ret_bad)
		*ret_bad = bad;
	return n;
}

int dpkg_parse_diversions(const char *buf, size_t len, dpkg_div_fn fn, void *ud, unsigned *ret_bad)
{
	const char *p = buf, *end = buf + len;
	unsigned bad = 0;
	int n = 0;
	while (p < end) {
		const char *l[3];
		size_t ln[3];
		int k;
		for (k = 0; k < 3 && p < end; k++) {
			const char *le = next_line(&p, end, &l[k]);
			ln[k] = (size_t)(le - l[k]);
		}
		if (k < 3) {
			/* a trailing partial triple (an empty last line is fine) */
			if (!(k == 1 && ln[0] == 0))
				bad++;
			break;
		}
		if (ln[0] == 0 || ln[1] == 0 || ln[2] == 0 || l[0][0] != '/' || l[1][0] != '/' ||
		    ln[0] >= DPKG_PATH_MAX || ln[1] >= DPKG_PATH_MAX || ln[2] >= 128 || memchr(l[0], '\0', ln[0]) ||
		    memchr(l[1], '\0', ln[1]) || memchr(l[2], '\0', ln[2])) {
			bad++;
			continue;
		}
		int rc = fn(ud, l[0], ln[0], l[1], ln[1], l[2], ln[2]);
		if (rc < 0)
			return rc;
		n++;
	}
	if (ret_bad)
		*ret_bad = bad;
	return n;
}

static bool field_is(const char *s, size_t ll, const char *name, size_t nl)
{
	return ll > nl && s[nl] == ':' && strncasecmp(s, name, nl) == 0;
}

static void field_val(const char *s, const char *le, size_t nl, const char **v, size_t *vl)
{
	const char *a = s + nl + 1;
	while (a < le && (*a == ' ' || *a == '\t'))
		a++;
	const char *b = le;
	while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
		b--;
	*v = a;
	*vl = (size_t)(b - a);
}

int dpkg_parse_status(const char *buf, size_t len, dpkg_stanza_fn fn, void *ud, unsigned *ret_bad)
{
	const char *p = buf, *end = buf + len;
	unsigned bad = 0;
	int n = 0;
	struct dpkg_stanza st;
	bool open = false, in_conf = false;
	memset(&st, 0, sizeof(st));
	for (;;) {
		const char *s = p, *le = p;
		bool eof = p >= end;
		if (!eof)
			le = next_line(&p, end, &s);
		size_t ll = (size_t)(le - s);
		if (eof || ll == 0 || (ll == 1 && s[0] == '\r')) {
			if (open) {
				if (st.package) {
					int rc = fn(ud, &st);
					if (rc < 0)
						return rc;
					n++;
				} else {
					bad++;
				}
			}
			memset(&st, 0, sizeof(st));
			open = in_conf = false;
			if (eof)
				break;
			continue;
		}
		open = true;
		if (s[0] == ' ' || s[0] == '\t') {
			if (in_conf)
				st.conffiles_len = (size_t)(le - st.conffiles);
			continue;
		}
		in_conf = false;
		if (field_is(s, ll, "Package", 7))
			field_val(s, le, 7, &st.package, &st.package_len);
		else if (field_is(s, ll, "Architecture", 12))
			field_val(s, le, 12, &st.arch, &st.arch_len);
		else if (field_is(s, ll, "Version", 7))
			field_val(s, le, 7, &st.version, &st.version_len);
		else if (field_is(s, ll, "Status", 6))
			field_val(s, le, 6, &st.status, &st.status_len);
		else if (field_is(s, ll, "Conffiles", 9)) {
			in_conf = true;
			st.conffiles = p; /* continuation lines start at the next line */
			st.conffiles_len = 0;
		} else if (!memchr(s, ':', ll))
			bad++;
	}
	if (ret_bad)
		*ret_bad = bad;
	return n;
}

static const char *const merged_dirs[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};

int dpkg_canon_path(const char *path, size_t len, bool usrmerge, char *out, size_t outsz)
{
	size_t o = 0;
	if (len == 0 || path[0] != '/' || outsz < 2)
		return -EINVAL;
	/* the usual path has nothing to collapse: copy it */
	bool clean = true;
	for (size_t k = 0; k < len && clean; k++)
		if (path[k] == '/' && k + 1 == len)
			clean = k == 0;
		else if (path[k] == '/' && (path[k + 1] == '/' || (path[k + 1] == '.' && (k + 2 == len || path[k + 2] == '/'))))
			clean = false;
	if (clean && len >= outsz)
		return -ENAMETOOLONG;
	if (clean) {
		memcpy(out, path, len);
		o = len;
	}
	/* collapse "//" and "/./" */
	size_t i = clean ? len : 0;
	while (i < len) {
		while (i < len && path[i] == '/')
			i++;
		size_t st = i;
		while (i < len && path[i] != '/')
			i++;
		size_t cl = i - st;
		if (cl == 0 || (cl == 1 && path[st] == '.'))
			continue;
		if (o + 1 + cl >= outsz)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, path + st, cl);
		o += cl;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	if (usrmerge) {
		for (size_t k = 0; k < OWL_ARRAY_SIZE(merged_dirs); k++) {
			size_t dl = strlen(merged_dirs[k]);
			if (o >= dl + 1 && memcmp(out + 1, merged_dirs[k], dl) == 0 && (o == dl + 1 || out[dl + 1] == '/')) {
				if (o + 4 >= outsz)
					return -ENAMETOOLONG;
				memmove(out + 4, out, o + 1);
				memcpy(out, "/usr", 4);
				o += 4;
				break;
			}
		}
	}
	return (int)o;
}

/* ------------------------------------------------------------------ index */

struct dpkg_pkg {
	uint32_t name, arch, version; /* offsets into db->strs arena via strmap keys */
	uint64_t installed_ns;
	bool stat_done;
	uint32_t key;                 /* entry of the info-file key ("pkg" or "pkg:arch") in db->pkgkeys */
	bool has_key;
};

struct dpkg_rec {
	uint32_t pkg;
	uint32_t next;   /* next record of the same path, UINT32_MAX = end */
	bool has_md5;
	uint8_t md5[16];
};

struct dpkg_div {
	uint32_t from, to; /* entries in db->strs */
	char pkg[128];
};

struct dpkg_db {
	int root_fd;
	int info_fd;
	bool usrmerge;
	bool lists_loaded;
	uint64_t dev, ino;
	struct vstrmap paths;     /* canonical path → first record index */
	struct dpkg_rec *recs;
	size_t nrecs, caprecs;
	struct vstrmap pkgkeys;   /* "name" and "name:arch" → package index */
	struct vstrmap strs;      /* interned strings (names, versions) */
	struct dpkg_pkg *pkgs;
	size_t npkgs, cappkgs;
	struct vstrmap div_from, div_to; /* canonical path → diversion index */
	struct dpkg_div *divs;
	size_t ndivs;
	uint32_t cur_pkg;         /* package whose file is being parsed */
};

static int intern(struct dpkg_db *db, const char *s, size_t n, uint32_t *ret)
{
	return vstrmap_put(&db->strs, s, n, 0, ret, NULL);
}

static const char *str_at(const struct dpkg_db *db, uint32_t i)
{
	return vstrmap_key(&db->strs, i, NULL);
}

/* The package for an info-file key ("name" or "name:arch"), created when new. */
static int pkg_for_key(struct dpkg_db *db, const char *key, size_t kl, uint32_t *ret)
{
	uint32_t v;
	if (vstrmap_get(&db->pkgkeys, key, kl, &v)) {
		*ret = v;
		return 0;
	}
	if (db->npkgs == db->cappkgs) {
		size_t nc = db->cappkgs ? db->cappkgs * 2 : 256;
		struct dpkg_pkg *np = realloc(db->pkgs, nc * sizeof(*np));
		if (!np)
			return -ENOMEM;
		db->pkgs = np;
		db->cappkgs = nc;
	}
	struct dpkg_pkg *p = &db->pkgs[db->npkgs];
	memset(p, 0, sizeof(*p));
	const char *colon = memchr(key, ':', kl);
	size_t nl = colon ? (size_t)(colon - key) : kl;
	int rc = intern(db, key, nl, &p->name);
	if (rc == 0)
		rc = intern(db, colon ? colon + 1 : "", colon ? kl - nl - 1 : 0, &p->arch);
	if (rc == 0)
		rc = intern(db, "", 0, &p->version);
	if (rc == 0)
		rc = vstrmap_put(&db->pkgkeys, key, kl, (uint32_t)db->npkgs, NULL, NULL);
	if (rc < 0)
		return rc;
	*ret = (uint32_t)db->npkgs++;
	return 0;
}

static int status_cb(void *ud, const struct dpkg_stanza *s)
{
	struct dpkg_db *db = ud;
	char key[256];
	uint32_t pi;
	if (s->package_len == 0 || s->package_len + 1 + s->arch_len >= sizeof(key))
		return 0;
	/* only packages whose files are on disk */
	if (s->status && ((s->status_len >= 13 && memcmp(s->status + s->status_len - 13, "not-installed", 13) == 0) ||
			  (s->status_len >= 12 && memcmp(s->status + s->status_len - 12, "config-files", 12) == 0)))
		return 0;
	memcpy(key, s->package, s->package_len);
	size_t kl = s->package_len;
	if (s->arch_len) {
		key[kl++] = ':';
		memcpy(key + kl, s->arch, s->arch_len);
		kl += s->arch_len;
	}
	int rc = pkg_for_key(db, key, kl, &pi);
	if (rc < 0)
		return rc;
	struct dpkg_pkg *p = &db->pkgs[pi];
	rc = intern(db, s->arch ? s->arch : "", s->arch_len, &p->arch);
	if (rc == 0 && s->version)
		rc = intern(db, s->version, s->version_len, &p->version);
	/* the info files of a package that is not Multi-Arch: same carry no
	 * ":arch", so make the plain name find it too (first one wins) */
	if (rc == 0)
		rc = vstrmap_put(&db->pkgkeys, s->package, s->package_len, pi, NULL, NULL);
	return rc;
}

static int add_rec(struct dpkg_db *db, const char *path, size_t pl, bool relative, const uint8_t *md5)
{
	char raw[DPKG_PATH_MAX + 2], canon[DPKG_PATH_MAX + 8];
	size_t rl = 0;
	if (relative)
		raw[rl++] = '/';
	if (pl + rl >= sizeof(raw))
		return 0;
	memcpy(raw + rl, path, pl);
	rl += pl;
	int cl = dpkg_canon_path(raw, rl, db->usrmerge, canon, sizeof(canon));
	if (cl < 0)
		return 0;
	uint32_t ent;
	bool isnew;
	int rc = vstrmap_put(&db->paths, canon, (size_t)cl, UINT32_MAX, &ent, &isnew);
	if (rc < 0)
		return rc;
	uint32_t head = db->paths.ents[ent].val;
	/* .list entries only add owners to paths nobody claimed yet: shared
	 * directories are listed by hundreds of packages, and ownership of a
	 * file with an md5sums record is already known.  Diverted paths keep
	 * every owner (the diversion decides which one is on disk). */
	uint32_t dv;
	if (!md5 && head != UINT32_MAX && !vstrmap_get(&db->div_from, canon, (size_t)cl, &dv))
		return 0;
	/* the same package listing the same path again */
	for (uint32_t r = head; r != UINT32_MAX; r = db->recs[r].next)
		if (db->recs[r].pkg == db->cur_pkg) {
			if (md5 && !db->recs[r].has_md5) {
				memcpy(db->recs[r].md5, md5, 16);
				db->recs[r].has_md5 = true;
			}
			return 0;
		}
	if (db->nrecs == db->caprecs) {
		size_t nc = db->caprecs ? db->caprecs * 2 : 65536;
		struct dpkg_rec *nr = realloc(db->recs, nc * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		db->recs = nr;
		db->caprecs = nc;
	}
	struct dpkg_rec *r = &db->recs[db->nrecs];
	r->pkg = db->cur_pkg;
	r->has_md5 = md5 != NULL;
	if (md5)
		memcpy(r->md5, md5, 16);
	/* append at the end of the chain: keeps the file order of the db */
	r->next = UINT32_MAX;
	if (head == UINT32_MAX) {
		db->paths.ents[ent].val = (uint32_t)db->nrecs;
	} else {
		uint32_t t = head;
		while (db->recs[t].next != UINT32_MAX)
			t = db->recs[t].next;
		db->recs[t].next = (uint32_t)db->nrecs;
	}
	db->nrecs++;
	return 0;
}

static int md5_cb(void *ud, const char *path, size_t len, const uint8_t md5[16])
{
	return add_rec(ud, path, len, true, md5);
}

static int list_cb(void *ud, const char *path, size_t len)
{
	return add_rec(ud, path, len, false, NULL);
}

static int conffile_recs(struct dpkg_db *db, uint32_t pi, const char *s, size_t len)
{
	/* " /etc/foo 0123…ef [obsolete]" per line */
	const char *p = s, *end = s + len;
	while (p < end) {
		const char *ls;
		const char *le = next_line(&p, end, &ls);
		while (ls < le && (*ls == ' ' || *ls == '\t'))
			ls++;
		const char *sp = memchr(ls, ' ', (size_t)(le - ls));
		if (!sp || ls >= le || *ls != '/')
			continue;
		uint8_t md5[16];
		const char *h = sp + 1;
		bool ok = le - h >= 32 && dpkg_parse_md5hex(h, 32, md5) == 0;
		db->cur_pkg = pi;
		int rc = add_rec(db, ls, (size_t)(sp - ls), false, ok ? md5 : NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int status_conf_cb(void *ud, const struct dpkg_stanza *s)
{
	struct dpkg_db *db = ud;
	uint32_t pi;
	if (!s->conffiles || !s->conffiles_len || !s->package_len)
		return 0;
	if (!vstrmap_get(&db->pkgkeys, s->package, s->package_len, &pi))
		return 0;
	return conffile_recs(db, pi, s->conffiles, s->conffiles_len);
}

static int div_cb(void *ud, const char *from, size_t fl, const char *to, size_t tl, const char *pkg, size_t pl)
{
	struct dpkg_db *db = ud;
	char cf[DPKG_PATH_MAX + 8], ct[DPKG_PATH_MAX + 8];
	int a = dpkg_canon_path(from, fl, db->usrmerge, cf, sizeof(cf));
	int b = dpkg_canon_path(to, tl, db->usrmerge, ct, sizeof(ct));
	if (a < 0 || b < 0)
		return 0;
	struct dpkg_div *nd = realloc(db->divs, (db->ndivs + 1) * sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	db->divs = nd;
	struct dpkg_div *d = &db->divs[db->ndivs];
	owl_strncpy0(d->pkg, sizeof(d->pkg), pkg, pl);
	int rc = intern(db, cf, (size_t)a, &d->from);
	if (rc == 0)
		rc = intern(db, ct, (size_t)b, &d->to);
	if (rc == 0)
		rc = vstrmap_put(&db->div_from, cf, (size_t)a, (uint32_t)db->ndivs, NULL, NULL);
	if (rc == 0)
		rc = vstrmap_put(&db->div_to, ct, (size_t)b, (uint32_t)db->ndivs, NULL, NULL);
	if (rc < 0)
		return rc;
	db->ndivs++;
	return 0;
}

/* Parse every info/<key>.<suffix> with fn (md5sums or list). */
static int load_info(struct dpkg_db *db, const char *suffix, bool md5)
{
	int dfd = dup(db->info_fd);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	size_t sl = strlen(suffix);
	struct dirent *de;
	int rc = 0;
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		if (nl <= sl + 1 || de->d_name[nl - sl - 1] != '.' || strcmp(de->d_name + nl - sl, suffix) != 0)
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		uint32_t pi;
		rc = pkg_for_key(db, de->d_name, nl - sl - 1, &pi);
		if (rc < 0)
			break;
		int fd = openat(db->info_fd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue;
		struct stat st;
		char *buf = NULL;
		size_t len = 0;
		int r = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ? -EINVAL : vroot_read_fd(fd, DPKG_FILE_MAX, &buf, &len);
		close(fd);
		if (r < 0)
			continue;
		db->cur_pkg = pi;
		if (!md5) {
			db->pkgs[pi].installed_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
			db->pkgs[pi].stat_done = true;
		}
		r = md5 ? dpkg_parse_md5sums(buf, len, md5_cb, db, NULL) : dpkg_parse_list(buf, len, list_cb, db, NULL);
		free(buf);
		if (r == -ENOMEM) {
			rc = r;
			break;
		}
	}
	closedir(d);
	return rc;
}

static bool detect_usrmerge(int root_fd)
{
	char t[64];
	ssize_t n = readlinkat(root_fd, "bin", t, sizeof(t) - 1);
	if (n <= 0)
		return false;
	t[n] = '\0';
	return strcmp(t, "usr/bin") == 0 || strcmp(t, "/usr/bin") == 0;
}

int dpkg_db_open(int root_fd, struct dpkg_db **ret)
{
	int own_root = -1;
	if (root_fd < 0) {
		own_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (own_root < 0)
			return -errno;
		root_fd = own_root;
	}
	int info = vroot_open(root_fd, "/var/lib/dpkg/info", O_RDONLY | O_DIRECTORY);
	if (info < 0) {
		if (own_root >= 0)
			close(own_root);
		return info == -ENOTDIR ? -ENOENT : info;
	}
	struct dpkg_db *db = calloc(1, sizeof(*db));
	if (!db) {
		close(info);
		if (own_root >= 0)
			close(own_root);
		return -ENOMEM;
	}
	db->root_fd = own_root >= 0 ? own_root : fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	db->info_fd = info;
	db->usrmerge = detect_usrmerge(root_fd);
	vstrmap_init(&db->paths);
	vstrmap_init(&db->pkgkeys);
	vstrmap_init(&db->strs);
	vstrmap_init(&db->div_from);
	vstrmap_init(&db->div_to);

	char *buf = NULL;
	size_t len = 0;
	int rc = 0;
	int sfd = vroot_open(root_fd, "/var/lib/dpkg/status", O_RDONLY);
	if (sfd >= 0) {
		struct stat st;
		if (fstat(sfd, &st) == 0) {
			db->dev = st.st_dev;
			db->ino = st.st_ino;
		}
		if (vroot_read_fd(sfd, DPKG_FILE_MAX, &buf, &len) == 0) {
			rc = dpkg_parse_status(buf, len, status_cb, db, NULL);
		}
		close(sfd);
	}
	if (rc >= 0)
		rc = load_info(db, "md5sums", true);
	if (rc >= 0 && buf)
		rc = dpkg_parse_status(buf, len, status_conf_cb, db, NULL);
	free(buf);
	buf = NULL;
	if (rc >= 0 && vroot_read(root_fd, "/var/lib/dpkg/diversions", DPKG_FILE_MAX, &buf, &len) == 0)
		rc = dpkg_parse_diversions(buf, len, div_cb, db, NULL);
	free(buf);
	if (rc < 0) {
		dpkg_db_free(db);
		return rc;
	}
	*ret = db;
	return 0;
}

void dpkg_db_free(struct dpkg_db *db)
{
	if (!db)
		return;
	if (db->info_fd >= 0)
		close(db->info_fd);
	if (db->root_fd >= 0)
		close(db->root_fd);
	vstrmap_free(&db->paths);
	vstrmap_free(&db->pkgkeys);
	vstrmap_free(&db->strs);
	vstrmap_free(&db->div_from);
	vstrmap_free(&db->div_to);
	free(db->recs);
	free(db->pkgs);
	free(db->divs);
	free(db);
}

void dpkg_db_id(const struct dpkg_db *db, uint64_t *ret_dev, uint64_t *ret_ino)
{
	*ret_dev = db->dev;
	*ret_ino = db->ino;
}

bool dpkg_db_usrmerge(const struct dpkg_db *db)
{
	return db->usrmerge;
}

size_t dpkg_db_npkgs(const struct dpkg_db *db)
{
	return db->npkgs;
}

/* Which records of the on-disk path may own it, after diversions:
 * *ret_head is the chain, and the owner must be (want_pkg) / must not be
 * (not_pkg) the diverting package. */
struct divsel {
	char recorded[DPKG_PATH_MAX + 8];
	const char *only_pkg; /* owner must be this package */
	const char *not_pkg;  /* owner must not be this package */
	bool local_div;       /* the admin diverted the path: nobody owns it */
	const char *diverted_by;
};

static int select_path(struct dpkg_db *db, const char *path, struct divsel *ret)
{
	char canon[DPKG_PATH_MAX + 8];
	int cl = dpkg_canon_path(path, strlen(path), db->usrmerge, canon, sizeof(canon));
	if (cl < 0)
		return cl;
	memset(ret, 0, sizeof(*ret));
	uint32_t di;
	if (vstrmap_get(&db->div_to, canon, (size_t)cl, &di)) {
		/* another package's file, moved here by the diverter */
		const struct dpkg_div *d = &db->divs[di];
		owl_strlcpy(ret->recorded, str_at(db, d->from), sizeof(ret->recorded));
		ret->not_pkg = d->pkg;
		ret->diverted_by = d->pkg;
		return 0;
	}
	owl_strlcpy(ret->recorded, canon, sizeof(ret->recorded));
	if (vstrmap_get(&db->div_from, canon, (size_t)cl, &di)) {
		const struct dpkg_div *d = &db->divs[di];
		if (strcmp(d->pkg, ":") == 0)
			ret->local_div = true;
		else
			ret->only_pkg = d->pkg;
		ret->diverted_by = d->pkg;
	}
	return 0;
}

static bool rec_allowed(const struct dpkg_db *db, const struct dpkg_rec *r, const struct divsel *s)
{
	const char *name = str_at(db, db->pkgs[r->pkg].name);
	if (s->only_pkg && strcmp(name, s->only_pkg) != 0)
		return false;
	if (s->not_pkg && strcmp(name, s->not_pkg) == 0)
		return false;
	return true;
}

static uint32_t find_rec(struct dpkg_db *db, const struct divsel *s, bool need_md5)
{
	uint32_t head;
	if (s->local_div || !vstrmap_get(&db->paths, s->recorded, strlen(s->recorded), &head))
		return UINT32_MAX;
	uint32_t first = UINT32_MAX;
	for (uint32_t r = head; r != UINT32_MAX; r = db->recs[r].next) {
		if (!rec_allowed(db, &db->recs[r], s))
			continue;
		if (!need_md5 || db->recs[r].has_md5)
			return r;
		if (first == UINT32_MAX)
			first = r;
	}
	return first;
}

int dpkg_db_lookup(struct dpkg_db *db, const char *path, uint32_t *ret_pkg, bool *ret_has_md5,
		   uint8_t ret_md5[16], char *ret_recorded, char *ret_diverted_by)
{
	struct divsel s;
	int rc = select_path(db, path, &s);
	if (rc < 0)
		return rc;
	uint32_t r = find_rec(db, &s, true);
	if (r == UINT32_MAX && !db->lists_loaded && !s.local_div) {
		/* not a regular file of any md5sums: the .list files know
		 * directories, symlinks and files of packages without md5sums */
		db->lists_loaded = true;
		rc = load_info(db, "list", false);
		if (rc < 0)
			return rc;
		r = find_rec(db, &s, true);
	}
	if (r == UINT32_MAX)
		return -ENOENT;
	*ret_pkg = db->recs[r].pkg;
	*ret_has_md5 = db->recs[r].has_md5;
	if (db->recs[r].has_md5)
		memcpy(ret_md5, db->recs[r].md5, 16);
	if (ret_recorded)
		owl_strlcpy(ret_recorded, s.recorded, DPKG_PATH_MAX);
	if (ret_diverted_by)
		owl_strlcpy(ret_diverted_by, s.diverted_by ? s.diverted_by : "", 128);
	return 0;
}

bool dpkg_db_md5_matches(struct dpkg_db *db, const char *path, const uint8_t md5[16])
{
	struct divsel s;
	uint32_t head;
	if (select_path(db, path, &s) < 0 || s.local_div ||
	    !vstrmap_get(&db->paths, s.recorded, strlen(s.recorded), &head))
		return false;
	for (uint32_t r = head; r != UINT32_MAX; r = db->recs[r].next)
		if (rec_allowed(db, &db->recs[r], &s) && db->recs[r].has_md5 && memcmp(db->recs[r].md5, md5, 16) == 0)
			return true;
	return false;
}

int dpkg_db_pkg(struct dpkg_db *db, uint32_t idx, struct dpkg_pkginfo *ret)
{
	if (idx >= db->npkgs)
		return -ENOENT;
	struct dpkg_pkg *p = &db->pkgs[idx];
	if (!p->stat_done) {
		/* installed time: when dpkg last wrote the package's file list */
		char fn[300];
		const char *name = str_at(db, p->name), *arch = str_at(db, p->arch);
		struct stat st;
		memset(&st, 0, sizeof(st));
		p->stat_done = true;
		snprintf(fn, sizeof(fn), "%s.list", name);
		if (fstatat(db->info_fd, fn, &st, AT_SYMLINK_NOFOLLOW) != 0 && arch[0]) {
			snprintf(fn, sizeof(fn), "%s:%s.list", name, arch);
			if (fstatat(db->info_fd, fn, &st, AT_SYMLINK_NOFOLLOW) != 0)
				memset(&st, 0, sizeof(st));
		}
		p->installed_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	}
	ret->name = str_at(db, p->name);
	ret->arch = str_at(db, p->arch);
	ret->version = str_at(db, p->version);
	ret->installed_ns = p->installed_ns;
	return 0;
}
