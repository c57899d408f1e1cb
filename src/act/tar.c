#include "act/tar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

struct tarw {
	gzFile gz;
	int err;
};

static void octal(char *dst, size_t width, uint64_t v)
{
	/* width-1 digits, zero padded, then NUL */
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(width - 1), (unsigned long long)v);
	memcpy(dst, tmp, width - 1);
	dst[width - 1] = '\0';
}

int tar_header(unsigned char block[TAR_BLOCK], const char *name, uint64_t size, unsigned mode,
	       time_t mtime, char typeflag)
{
	size_t n = strlen(name);
	if (n == 0 || strstr(name, "..") || name[0] == '/')
		return -EINVAL;
	if (n > TAR_NAME_MAX)
		return -ENAMETOOLONG;
	if (size >= (1ull << 33))
		return -ERANGE;
	char *h = (char *)block;
	memset(block, 0, TAR_BLOCK);
	memcpy(h, name, n);                        /* name[100] */
	octal(h + 100, 8, mode & 07777);           /* mode */
	octal(h + 108, 8, 0);                      /* uid */
	octal(h + 116, 8, 0);                      /* gid */
	octal(h + 124, 12, size);                  /* size */
	octal(h + 136, 12, mtime > 0 ? (uint64_t)mtime : 0); /* mtime */
	memset(h + 148, ' ', 8);                   /* chksum, spaces while summing */
	h[156] = typeflag;
	memcpy(h + 257, "ustar", 6);               /* magic "ustar\0" */
	memcpy(h + 263, "00", 2);                  /* version */
	memcpy(h + 265, "root", 4);                /* uname */
	memcpy(h + 297, "root", 4);                /* gname */
	unsigned sum = 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += block[i];
	snprintf(h + 148, 8, "%06o", sum & 0777777); /* six digits, NUL, space */
	h[155] = ' ';
	return 0;
}

int tarw_open(const char *path, struct tarw **ret)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	struct tarw *t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	t->gz = gzdopen(fd, "wb6");
	if (!t->gz) {
		close(fd);
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

static int put(struct tarw *t, const void *buf, size_t len)
{
	if (t->err)
		return t->err;
	while (len) {
		unsigned chunk = len > (1u << 30) ? (1u << 30) : (unsigned)len;
		int w = gzwrite(t->gz, buf, chunk);
		if (w <= 0) {
			t->err = -EIO;
			return t->err;
		}
		buf = (const char *)buf + w;
		len -= (size_t)w;
	}
	return 0;
}

int tarw_add_dir(struct tarw *t, const char *name, unsigned mode, time_t mtime)
{
	unsigned char h[TAR_BLOCK];
	char n[TAR_NAME_MAX + 2];
	int r = snprintf(n, sizeof(n), "%s/", name);
	if (r < 0 || (size_t)r >= sizeof(n))
		return -ENAMETOOLONG;
	r = tar_header(h, n, 0, mode, mtime, '5');
	if (r < 0)
		return r;
	return put(t, h, sizeof(h));
}

int tarw_add_file(struct tarw *t, const char *name, int fd, uint64_t size, unsigned mode, time_t mtime)
{
	unsigned char h[TAR_BLOCK];
	int r = tar_header(h, name, size, mode, mtime, '0');
	if (r < 0)
		return r;
	r = put(t, h, sizeof(h));
	if (r < 0)
		return r;
	static __thread char buf[1 << 16];
	uint64_t done = 0;
	int short_read = 0;
	while (done < size) {
		size_t want = sizeof(buf);
		if (size - done < want)
			want = (size_t)(size - done);
		ssize_t n = short_read ? 0 : read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* the file shrank: pad, so the archive stays readable */
			short_read = 1;
			memset(buf, 0, want);
			n = (ssize_t)want;
		}
		r = put(t, buf, (size_t)n);
		if (r < 0)
			return r;
		done += (uint64_t)n;
	}
	size_t pad = (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
	if (pad) {
		memset(buf, 0, pad);
		r = put(t, buf, pad);
		if (r < 0)
			return r;
	}
	return short_read ? -EIO : 0;
}

int tarw_close(struct tarw *t)
{
	unsigned char z[2 * TAR_BLOCK];
	memset(z, 0, sizeof(z));
	int r = put(t, z, sizeof(z));
	if (gzclose(t->gz) != Z_OK && r == 0)
		r = -EIO;
	free(t);
	return r;
}
