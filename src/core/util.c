#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>

size_t owl_strlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t n = strlen(src);
	if (dstsz) {
		size_t c = n < dstsz - 1 ? n : dstsz - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void owl_strncpy0(char *dst, size_t dstsz, const char *src, size_t n)
{
	if (!dstsz)
		return;
	if (n > dstsz - 1)
		n = dstsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static ssize_t read_fd_all(int fd, char *buf, size_t bufsz)
{
	size_t got = 0;
	if (!bufsz)
		return -EINVAL;
	while (got < bufsz - 1) {
		ssize_t r = read(fd, buf + got, bufsz - 1 - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

ssize_t owl_read_fileat(int dirfd, const char *path, char *buf, size_t bufsz)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return read_fd_all(fd, buf, bufsz);
}

ssize_t owl_read_file(const char *path, char *buf, size_t bufsz)
{
	return owl_read_fileat(AT_FDCWD, path, buf, bufsz);
}

int owl_parse_u64(const char *s, size_t len, int base, uint64_t *ret)
{
	uint64_t v = 0;
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / (uint64_t)base)
			return -ERANGE;
		v = v * (uint64_t)base + d;
	}
	*ret = v;
	return 0;
}

int owl_strtonum(const char *s, long long min, long long max, long long *ret)
{
	bool neg = false;
	uint64_t v;
	if (!s || !*s)
		return -EINVAL;
	if (*s == '-') {
		neg = true;
		s++;
	} else if (*s == '+') {
		s++;
	}
	int r = owl_parse_u64(s, strlen(s), 10, &v);
	if (r < 0)
		return r;
	if (v > (uint64_t)LLONG_MAX + (neg ? 1u : 0u))
		return -ERANGE;
	long long x = neg ? (long long)(0 - v) : (long long)v;
	if (x < min || x > max)
		return -ERANGE;
	*ret = x;
	return 0;
}

uint64_t owl_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t owl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void owl_format_time(uint64_t ns, char *buf, size_t bufsz)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	unsigned ms = (unsigned)((ns / 1000000ull) % 1000ull);
	struct tm tm;
	if (!gmtime_r(&sec, &tm)) {
		owl_strlcpy(buf, "1970-01-01T00:00:00.000Z", bufsz);
		return;
	}
	char tmp[40];
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, bufsz, "%s.%03uZ", tmp, ms);
}

void owl_vec_init(struct owl_vec *v, size_t elsize)
{
	memset(v, 0, sizeof(*v));
	v->elsize = elsize;
}

void *owl_vec_push(struct owl_vec *v)
{
	if (v->len == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 64;
		void *n = realloc(v->data, ncap * v->elsize);
		if (!n)
			return NULL;
		v->data = n;
		v->cap = ncap;
	}
	void *el = (char *)v->data + v->len * v->elsize;
	memset(el, 0, v->elsize);
	v->len++;
	return el;
}

void owl_vec_free(struct owl_vec *v)
{
	free(v->data);
	v->data = NULL;
	v->len = v->cap = 0;
}
