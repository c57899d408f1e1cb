#include "act/sha256.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct act_sha256 {
	EVP_MD_CTX *md;
};

struct act_sha256 *act_sha256_new(void)
{
	struct act_sha256 *d = malloc(sizeof(*d));
	if (!d)
		return NULL;
	d->md = EVP_MD_CTX_new();
	if (!d->md || EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(d->md);
		free(d);
		return NULL;
	}
	return d;
}

void act_sha256_update(struct act_sha256 *d, const void *buf, size_t len)
{
	if (len)
		EVP_DigestUpdate(d->md, buf, len);
}

void act_sha256_free(struct act_sha256 *d)
{
	if (!d)
		return;
	EVP_MD_CTX_free(d->md);
	free(d);
}

void act_sha256_final_hex(struct act_sha256 *d, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_DigestFinal_ex(d->md, md, &n);
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
	act_sha256_free(d);
}

int act_sha256_fd(int fd, uint64_t cap, char *ret_hex, uint64_t *ret_size, bool *ret_truncated)
{
	struct act_sha256 *d = act_sha256_new();
	if (!d)
		return -ENOMEM;
	static __thread char buf[1 << 16];
	uint64_t got = 0;
	bool trunc = false;
	for (;;) {
		size_t want = sizeof(buf);
		if (cap - got < want)
			want = (size_t)(cap - got);
		if (want == 0) {
			/* at the cap: is there more? */
			char one;
			ssize_t r = read(fd, &one, 1);
			trunc = r > 0;
			break;
		}
		ssize_t r = read(fd, buf, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			act_sha256_free(d);
			return e;
		}
		if (r == 0)
			break;
		act_sha256_update(d, buf, (size_t)r);
		got += (uint64_t)r;
	}
	act_sha256_final_hex(d, ret_hex);
	*ret_size = got;
	*ret_truncated = trunc;
	return 0;
}
