#include "endpoint/geo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

int geo_tor_parse_line(const char *line, size_t len, bool v6, uint8_t ret_lo[16], uint8_t ret_hi[16],
		       char ret_cc[3])
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0 || line[0] == '#')
		return 0;
	const char *c1 = memchr(line, ',', len);
	if (!c1)
		return -EINVAL;
	const char *c2 = memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - line));
	if (!c2 || line + len - (c2 + 1) != 2)
		return -EINVAL;
	uint8_t lo[16] = {0}, hi[16] = {0};
	const char *parts[2] = {line, c1 + 1};
	size_t plen[2] = {(size_t)(c1 - line), (size_t)(c2 - (c1 + 1))};
	uint8_t *out[2] = {lo, hi};
	for (int k = 0; k < 2; k++) {
		if (v6) {
			char buf[64];
			if (plen[k] == 0 || plen[k] >= sizeof(buf))
				return -EINVAL;
			memcpy(buf, parts[k], plen[k]);
			buf[plen[k]] = '\0';
			if (inet_pton(AF_INET6, buf, out[k]) != 1)
				return -EINVAL;
		} else {
			uint64_t v;
			if (owl_parse_u64(parts[k], plen[k], 10, &v) < 0 || v > UINT32_MAX)
				return -EINVAL;
			uint32_t be = htonl((uint32_t)v);
			memcpy(out[k], &be, 4);
		}
	}
	const char *cc = c2 + 1;
	bool ok = (cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z') || (cc[0] == '?' && cc[1] == '?');
	if (!ok || memcmp(lo, hi, 16) > 0)
		return -EINVAL;
	memcpy(ret_lo, lo, 16);
	memcpy(ret_hi, hi, 16);
	ret_cc[0] = cc[0];
	ret_cc[1] = cc[1];
	ret_cc[2] = '\0';
	return 1;
}

static void tor_map(struct geo_tor_file *f, const char *dir, const char *name)
{
	char path[OWL_PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			f->map = m;
			f->size = (size_t)st.st_size;
		}
	}
	close(fd);
}

int geo_open(struct geo *g, const char *const *paths, size_t n, const char *tor_dir, size_t *ret_bad)
{
	memset(g, 0, sizeof(*g));
	if (n) {
		MMDB_s *dbs = calloc(n, sizeof(*dbs));
		if (!dbs)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			if (access(paths[i], R_OK) < 0) {
				int e = -errno;
				g->dbs = dbs;
				g->ndbs = i;
				geo_close(g);
				*ret_bad = i;
				return e;
			}
			int st = MMDB_open(paths[i], MMDB_MODE_MMAP, &dbs[i]);
			if (st != MMDB_SUCCESS) {
				g->dbs = dbs;
				g->ndbs = i;
				geo_close(g);
				*ret_bad = i;
				return st == MMDB_IO_ERROR ? -EIO : st == MMDB_OUT_OF_MEMORY_ERROR ? -ENOMEM : -EINVAL;
			}
		}
		g->dbs = dbs;
		g->ndbs = n;
	}
	if (!tor_dir)
		tor_dir = GEO_TOR_DIR;
	if (tor_dir[0]) {
		tor_map(&g->tor4, tor_dir, "geoip");
		tor_map(&g->tor6, tor_dir, "geoip6");
	}
	return 0;
}

void geo_close(struct geo *g)
{
	if (!g)
		return;
	MMDB_s *dbs = g->dbs;
	for (size_t i = 0; i < g->ndbs; i++)
		MMDB_close(&dbs[i]);
	free(dbs);
	if (g->tor4.map)
		munmap((void *)g->tor4.map, g->tor4.size);
	if (g->tor6.map)
		munmap((void *)g->tor6.map, g->tor6.size);
	memset(g, 0, sizeof(*g));
}

bool geo_available(const struct geo *g)
{
	return g->ndbs || g->tor4.map || g->tor6.map;
}

static void copy_str(const MMDB_entry_data_s *d, char *dst, size_t dstsz)
{
	if (d->has_data && d->type == MMDB_DATA_TYPE_UTF8_STRING)
		owl_strncpy0(dst, dstsz, d->utf8_string, OWL_MIN((size_t)d->data_size, dstsz - 1));
}

static bool mmdb_lookup(MMDB_s *db, const struct owl_addr *a, struct geo_info *gi)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->bytes, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->bytes, 16);
	}
	int err = 0;
	MMDB_lookup_result_s r = MMDB_lookup_sockaddr(db, (struct sockaddr *)&ss, &err);
	if (err != MMDB_SUCCESS || !r.found_entry)
		return false;
	bool any = false;
	MMDB_entry_data_s d;
	if (!gi->country[0]) {
		if ((MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) == MMDB_SUCCESS && d.has_data) ||
		    (MMDB_get_value(&r.entry, &d, "registered_country", "iso_code", NULL) == MMDB_SUCCESS &&
		     d.has_data)) {
			char cc[3] = "";
			copy_str(&d, cc, sizeof(cc));
			if (cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z') {
				memcpy(gi->country, cc, 3);
				any = true;
			}
		}
	}
	if (!gi->city[0] && MMDB_get_value(&r.entry, &d, "city", "names", "en", NULL) == MMDB_SUCCESS) {
		copy_str(&d, gi->city, sizeof(gi->city));
		any |= gi->city[0] != '\0';
	}
	if (!gi->asn && MMDB_get_value(&r.entry, &d, "autonomous_system_number", NULL) == MMDB_SUCCESS &&
	    d.has_data) {
		if (d.type == MMDB_DATA_TYPE_UINT32)
			gi->asn = d.uint32;
		else if (d.type == MMDB_DATA_TYPE_UINT16)
			gi->asn = d.uint16;
		else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX)
			gi->asn = (uint32_t)d.uint64;
		any |= gi->asn != 0;
	}
	if (!gi->as_org[0] &&
	    MMDB_get_value(&r.entry, &d, "autonomous_system_organization", NULL) == MMDB_SUCCESS) {
		copy_str(&d, gi->as_org, sizeof(gi->as_org));
		any |= gi->as_org[0] != '\0';
	}
	return any;
}

static size_t line_end(const char *m, size_t size, size_t off)
{
	const char *nl = memchr(m + off, '\n', size - off);
	return nl ? (size_t)(nl - m) : size;
}

/* Parse the line at off; 1 = data line, else not. */
static int line_at(const struct geo_tor_file *f, size_t off, bool v6, uint8_t lo[16], uint8_t hi[16], char cc[3])
{
	size_t e = line_end(f->map, f->size, off);
	return geo_tor_parse_line(f->map + off, e - off, v6, lo, hi, cc);
}

/* The last data line whose range starts at or below key, found by binary
 * search over byte offsets of a file sorted by range start (as Tor writes
 * them), as look(1) does.  Invariant: data lines starting before a have
 * LOW <= key; data lines starting at or after b have LOW > key. */
static bool tor_lookup(const struct geo_tor_file *f, bool v6, const uint8_t *key, char ret_cc[3])
{
	if (!f->map)
		return false;
	size_t klen = v6 ? 16 : 4;
	uint8_t lo[16], hi[16];
	char cc[3];
	size_t a = 0, b = f->size;
	while (b - a > 512) {
		size_t mid = a + (b - a) / 2;
		size_t q = line_end(f->map, f->size, mid) + 1;
		while (q < b && line_at(f, q, v6, lo, hi, cc) != 1)
			q = line_end(f->map, f->size, q) + 1;
		if (q >= b)
			b = mid + 1;
		else if (memcmp(lo, key, klen) <= 0)
			a = q;
		else
			b = q;
	}
	bool found = false;
	char best[3] = "";
	for (size_t p = a; p < f->size;) {
		size_t e = line_end(f->map, f->size, p);
		if (geo_tor_parse_line(f->map + p, e - p, v6, lo, hi, cc) == 1) {
			if (memcmp(lo, key, klen) > 0)
				break;
			found = memcmp(hi, key, klen) >= 0;
			memcpy(best, cc, 3);
		}
		p = e + 1;
	}
	if (!found || best[0] == '?')
		return false;
	memcpy(ret_cc, best, 3);
	return true;
}

bool geo_lookup(const struct geo *g, const struct owl_addr *a, struct geo_info *ret)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return false;
	struct geo_info gi;
	memset(&gi, 0, sizeof(gi));
	bool any = false;
	MMDB_s *dbs = g->dbs;
	for (size_t i = 0; i < g->ndbs; i++)
		any |= mmdb_lookup(&dbs[i], a, &gi);
	if (any)
		gi.source = "mmdb";
	if (!gi.country[0] && tor_lookup(a->family == AF_INET6 ? &g->tor6 : &g->tor4, a->family == AF_INET6,
					  a->bytes, gi.country)) {
		if (!any)
			gi.source = "tor-geoip";
		any = true;
	}
	if (!any)
		return false;
	*ret = gi;
	return true;
}
