#include "store/imgdigest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/util.h"

struct imgdigest_slot {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	char hex[IMGDIGEST_HEX_MAX];
};

void imgdigest_cache_init(struct imgdigest_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void imgdigest_cache_free(struct imgdigest_cache *c)
{
	if (!c)
		return;
	free(c->slots);
	memset(c, 0, sizeof(*c));
}

static struct imgdigest_slot *lookup(struct imgdigest_cache *c, const struct stat *st)
{
	for (size_t i = 0; c && i < c->n; i++) {
		struct imgdigest_slot *s = &c->slots[i];
		if (s->dev == st->st_dev && s->ino == st->st_ino && s->size == st->st_size &&
		    s->mtime.tv_sec == st->st_mtim.tv_sec && s->mtime.tv_nsec == st->st_mtim.tv_nsec &&
		    s->ctime.tv_sec == st->st_ctim.tv_sec && s->ctime.tv_nsec == st->st_ctim.tv_nsec)
			return s;
	}
	return NULL;
}

int imgdigest_fd(int fd, struct imgdigest_cache *c, char ret[IMGDIGEST_HEX_MAX])
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((unsigned long long)st.st_size > IMGDIGEST_FILE_MAX)
		return -EFBIG;
	struct imgdigest_slot *hit = lookup(c, &st);
	if (hit) {
		memcpy(ret, hit->hex, IMGDIGEST_HEX_MAX);
		return 0;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	int rc = 0;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = -EIO;
		goto out;
	}
	static __thread unsigned char buf[1 << 16];
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		off += n;
		if ((unsigned long long)off > IMGDIGEST_FILE_MAX) {
			rc = -EFBIG;
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			rc = -EIO;
			goto out;
		}
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		rc = -EIO;
		goto out;
	}
	char hex[IMGDIGEST_HEX_MAX];
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	memcpy(ret, hex, IMGDIGEST_HEX_MAX);
	if (c) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 32;
			void *p = realloc(c->slots, cap * sizeof(*c->slots));
			if (!p)
				goto out; /* the digest is fine; only caching failed */
			c->slots = p;
			c->cap = cap;
		}
		struct imgdigest_slot *s = &c->slots[c->n++];
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		s->size = st.st_size;
		s->mtime = st.st_mtim;
		s->ctime = st.st_ctim; /* mtime can be set back; ctime cannot */
		memcpy(s->hex, hex, IMGDIGEST_HEX_MAX);
	}
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int imgdigest_proc_exe(const char *proc_root, pid_t pid, struct imgdigest_cache *c, char ret[IMGDIGEST_HEX_MAX])
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%d/exe", proc_root ? proc_root : "/proc", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	int rc = imgdigest_fd(fd, c, ret);
	close(fd);
	return rc;
}

int imgdigest_path(const char *path, char ret[IMGDIGEST_HEX_MAX])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	int rc = imgdigest_fd(fd, NULL, ret);
	close(fd);
	return rc;
}
