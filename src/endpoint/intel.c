#include "endpoint/intel.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/util.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Next whitespace-separated token of s[*pos..len). */
static bool next_token(const char *s, size_t len, size_t *pos, const char **ret, size_t *ret_len)
{
	size_t i = *pos;
	while (i < len && is_space(s[i]))
		i++;
	if (i >= len)
		return false;
	size_t start = i;
	while (i < len && !is_space(s[i]))
		i++;
	*ret = s + start;
	*ret_len = i - start;
	*pos = i;
	return true;
}

static bool tok_is(const char *t, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(t, word, n) == 0;
}

/* "ADDR" or "ADDR/LEN" into an address and prefix length. */
static int parse_prefix(const char *t, size_t n, struct owl_addr *ret_addr, unsigned *ret_plen)
{
	char buf[INTEL_ENTRY_MAX + 1];
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, t, n);
	buf[n] = '\0';
	char *slash = memchr(buf, '/', n);
	long long plen = -1;
	if (slash) {
		*slash = '\0';
		if (owl_strtonum(slash + 1, 0, 128, &plen) < 0)
			return -EINVAL;
	}
	uint8_t b[16];
	int family;
	unsigned max;
	if (inet_pton(AF_INET, buf, b) == 1) {
		family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, b) == 1) {
		family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	if (plen < 0)
		plen = max;
	if ((unsigned)plen > max)
		return -EINVAL;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (family == AF_INET6 && plen >= 96 && memcmp(b, mapped, 12) == 0) {
		/* ::ffff:a.b.c.d/len is the IPv4 prefix a.b.c.d/(len-96) */
		memmove(b, b + 12, 4);
		family = AF_INET;
		plen -= 96;
	}
	struct owl_addr a = {.family = (uint8_t)family};
	memcpy(a.bytes, b, family == AF_INET ? 4 : 16);
	*ret_addr = a;
	*ret_plen = (unsigned)plen;
	return 0;
}

int intel_parse_line(const char *line, size_t len, struct owl_addr *ret_addr, unsigned *ret_plen)
{
	/* a comment runs to the end of the line */
	for (size_t i = 0; i < len; i++)
		if (line[i] == '#' || line[i] == ';') {
			len = i;
			break;
		}
	size_t pos = 0;
	const char *t;
	size_t n;
	if (!next_token(line, len, &pos, &t, &n))
		return 0;
	if (memchr(t, '\0', n))
		return -EINVAL;
	/* Tor's exit-addresses document */
	if (tok_is(t, n, "ExitNode") || tok_is(t, n, "Published") || tok_is(t, n, "LastStatus"))
		return 0;
	if (tok_is(t, n, "ExitAddress")) {
		if (!next_token(line, len, &pos, &t, &n))
			return -EINVAL;
		return parse_prefix(t, n, ret_addr, ret_plen) < 0 ? -EINVAL : 1;
	}
	struct owl_addr a;
	unsigned plen;
	if (parse_prefix(t, n, &a, &plen) < 0)
		return -EINVAL;
	const char *extra;
	size_t extra_n;
	if (next_token(line, len, &pos, &extra, &extra_n))
		return -EINVAL;  /* "ADDR junk": not what a list line looks like */
	*ret_addr = a;
	*ret_plen = plen;
	return 1;
}

int intel_init(struct intel *in)
{
	memset(in, 0, sizeof(*in));
	int rc = iptrie_init(&in->v4, 32);
	if (rc == 0)
		rc = iptrie_init(&in->v6, 128);
	if (rc < 0)
		intel_free(in);
	return rc;
}

void intel_free(struct intel *in)
{
	if (!in)
		return;
	iptrie_free(&in->v4);
	iptrie_free(&in->v6);
	free(in->lists);
	memset(in, 0, sizeof(*in));
}

static struct intel_list *add_list(struct intel *in, const char *path)
{
	struct intel_list *l = realloc(in->lists, (in->nlists + 1) * sizeof(*l));
	if (!l)
		return NULL;
	in->lists = l;
	l = &in->lists[in->nlists++];
	memset(l, 0, sizeof(*l));
	owl_strlcpy(l->path, path, sizeof(l->path));
	const char *base = strrchr(path, '/');
	owl_strlcpy(l->name, base ? base + 1 : path, sizeof(l->name));
	return l;
}

static void note_bad(struct intel_list *l, size_t lineno, const char *s, size_t n)
{
	if (l->bad < INTEL_BAD_KEEP) {
		struct intel_bad *b = &l->first_bad[l->bad];
		b->line = lineno;
		owl_strncpy0(b->text, sizeof(b->text), s, OWL_MIN(n, sizeof(b->text) - 1));
	}
	l->bad++;
}

static int add_entry(struct intel *in, struct intel_list *l, uint32_t list_idx, const struct owl_addr *a,
		     unsigned plen)
{
	struct iptrie *t = a->family == AF_INET ? &in->v4 : &in->v6;
	int rc = iptrie_insert(t, iptrie_key_from(a->bytes, t->maxlen), plen, list_idx);
	if (rc == 0)
		l->entries++;
	return rc;
}

/* Read lines of at most INTEL_LINE_MAX bytes through a fixed buffer. */
static int load_fd(struct intel *in, int fd, uint32_t list_idx)
{
	static const size_t bufsz = 1 << 16;
	_cleanup_free_ char *buf = malloc(bufsz);
	char line[INTEL_LINE_MAX];
	size_t llen = 0, lineno = 0;
	bool too_long = false;
	size_t total = 0;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf, bufsz);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		total += (size_t)n;
		if (total > INTEL_FILE_MAX)
			return -EFBIG;
		for (ssize_t i = 0; i <= n; i++) {
			bool eof = n == 0;
			if (!eof && i == n)
				break;
			if (eof && llen == 0 && !too_long)
				return 0;
			char c = eof ? '\n' : buf[i];
			if (c != '\n') {
				if (llen < sizeof(line))
					line[llen++] = c;
				else
					too_long = true;
				continue;
			}
			lineno++;
			struct intel_list *l = &in->lists[list_idx];
			struct owl_addr a;
			unsigned plen;
			int rc = too_long ? -EINVAL : intel_parse_line(line, llen, &a, &plen);
			if (rc < 0)
				note_bad(l, lineno, line, llen);
			else if (rc > 0 && add_entry(in, l, list_idx, &a, plen) < 0)
				return -ENOMEM;
			llen = 0;
			too_long = false;
			if (eof)
				return 0;
		}
	}
}

static int load_path(struct intel *in, const char *path, bool keep_failed)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int rc = fd < 0 ? -errno : 0;
	size_t before = in->nlists;
	if (!add_list(in, path)) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	if (rc == 0) {
		rc = load_fd(in, fd, (uint32_t)before);
		close(fd);
	}
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		/* entries read before a read error stay, and point at this list */
		in->lists[before].err = rc;
		return keep_failed ? 0 : rc;
	}
	return 0;
}

int intel_load_file(struct intel *in, const char *path)
{
	return load_path(in, path, false);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int intel_load_dir(struct intel *in, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".list") != 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (!nn) {
				rc = -ENOMEM;
				break;
			}
			names = nn;
			cap = ncap;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[OWL_PATH_MAX];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path))
			continue;
		rc = load_path(in, path, true);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static void on_dup(void *arg, uint32_t val)
{
	struct intel *in = arg;
	if (val < in->nlists) {
		in->lists[val].dups++;
		in->lists[val].entries--;
	}
}

int intel_finish(struct intel *in)
{
	int rc = iptrie_build(&in->v4, on_dup, in);
	if (rc == 0)
		rc = iptrie_build(&in->v6, on_dup, in);
	return rc;
}

size_t intel_count(const struct intel *in)
{
	return in->v4.nprefixes + in->v6.nprefixes;
}

bool intel_lookup(const struct intel *in, const struct owl_addr *a, struct intel_match *ret)
{
	const struct iptrie *t;
	if (a->family == AF_INET)
		t = &in->v4;
	else if (a->family == AF_INET6)
		t = &in->v6;
	else
		return false;
	struct iptrie_match m;
	if (!iptrie_lookup(t, iptrie_key_from(a->bytes, t->maxlen), &m) || m.val >= in->nlists)
		return false;
	ret->list = &in->lists[m.val];
	ret->prefix.family = a->family;
	memset(ret->prefix.bytes, 0, sizeof(ret->prefix.bytes));
	iptrie_key_bytes(m.key, t->maxlen, ret->prefix.bytes);
	ret->plen = m.plen;
	return true;
}

const char *intel_entry_str(const struct intel_match *m, char buf[INTEL_ENTRY_MAX])
{
	char s[OWL_ADDRSTR_MAX];
	owl_addr_str(&m->prefix, s);
	if (m->plen == (m->prefix.family == AF_INET ? 32u : 128u))
		snprintf(buf, INTEL_ENTRY_MAX, "%s", s);
	else
		snprintf(buf, INTEL_ENTRY_MAX, "%s/%u", s, m->plen);
	return buf;
}
