/* The cache's MACs use OpenSSL's low-level SHA-256 functions, not EVP: the
 * first EVP use initialises OpenSSL's providers (about 0.7 ms, and more at
 * exit), which a warm scan would pay for these MACs alone.  They are
 * deprecated in OpenSSL 3 but kept, and use SHA-NI just the same. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "verify/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/hashmap.h"
#include "core/model.h"
#include "core/util.h"
#include "verify/vroot.h"

void digest_key_from_stat(const struct stat *st, struct digest_key *ret)
{
	ret->dev = (uint64_t)st->st_dev;
	ret->ino = (uint64_t)st->st_ino;
	ret->size = (uint64_t)st->st_size;
	ret->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000ll + st->st_mtim.tv_nsec;
	ret->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000ll + st->st_ctim.tv_nsec;
}

void digest_hex(const uint8_t *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int digest_fd(int fd, struct digest_val *ret)
{
	enum { CHUNK = 1 << 18 };
	int rc = 0;
	unsigned char *buf = malloc(CHUNK);
	EVP_MD_CTX *m = EVP_MD_CTX_new(), *s = EVP_MD_CTX_new();
	if (!buf || !m || !s) {
		rc = -ENOMEM;
		goto out;
	}
	if (!EVP_DigestInit_ex(m, EVP_md5(), NULL) || !EVP_DigestInit_ex(s, EVP_sha256(), NULL)) {
		rc = -EIO;
		goto out;
	}
	for (off_t off = 0;;) {
		ssize_t n = pread(fd, buf, CHUNK, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(m, buf, (size_t)n);
		EVP_DigestUpdate(s, buf, (size_t)n);
		off += n;
	}
	struct digest_val v;
	unsigned int l1 = 0, l2 = 0;
	if (!EVP_DigestFinal_ex(m, v.md5, &l1) || !EVP_DigestFinal_ex(s, v.sha256, &l2) || l1 != 16 || l2 != 32) {
		rc = -EIO;
		goto out;
	}
	*ret = v;
out:
	EVP_MD_CTX_free(m);
	EVP_MD_CTX_free(s);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------ cache */

struct dentry {
	struct digest_key k;
	struct digest_val v;
	bool persist; /* may be written to the file (not racy) */
	bool from_file;
};

struct oentry {
	struct digest_key k;
	uint64_t pathhash, gen;
	struct digest_owner v;
	bool persist;
};

struct digest_cache {
	char *path;           /* NULL: memory only */
	bool safe;            /* the file's location passed the checks */
	bool dirty;
	uint8_t key[32];
	bool have_key;
	struct owl_u64map idx; /* key hash → entry */
	struct dentry *e;
	size_t n, cap;
	struct owl_u64map oidx;
	struct oentry *o;
	size_t on, ocap;
	/* database generations asked about in this run: owner entries of any
	 * other generation are stale (dpkg ran since) and are not written back */
	uint64_t gens[16];
	size_t ngens;
	unsigned rejected;
};

static uint64_t key_hash(const struct digest_key *k)
{
	uint64_t f[5] = {k->dev, k->ino, k->size, (uint64_t)k->mtime_ns, (uint64_t)k->ctime_ns};
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < 5; i++) {
		h ^= f[i];
		h *= 1099511628211ull;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

static bool key_eq(const struct digest_key *a, const struct digest_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
	       a->ctime_ns == b->ctime_ns;
}

static int cache_add(struct digest_cache *c, const struct digest_key *k, const struct digest_val *v, bool persist,
		     bool from_file)
{
	uint64_t h = key_hash(k);
	uint32_t i;
	if (owl_u64map_get(&c->idx, h, &i)) {
		/* same hash: replace (a colliding different key only costs a re-hash) */
		c->e[i] = (struct dentry){.k = *k, .v = *v, .persist = persist, .from_file = from_file};
		return 0;
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 256;
		struct dentry *ne = realloc(c->e, nc * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		c->e = ne;
		c->cap = nc;
	}
	if (owl_u64map_put(&c->idx, h, (uint32_t)c->n) < 0)
		return -ENOMEM;
	c->e[c->n++] = (struct dentry){.k = *k, .v = *v, .persist = persist, .from_file = from_file};
	return 0;
}

bool digest_cache_get(struct digest_cache *c, const struct digest_key *k, struct digest_val *ret, bool *ret_from_file)
{
	uint32_t i;
	if (!c || !owl_u64map_get(&c->idx, key_hash(k), &i) || !key_eq(&c->e[i].k, k))
		return false;
	*ret = c->e[i].v;
	if (ret_from_file)
		*ret_from_file = c->e[i].from_file;
	return true;
}

int digest_cache_put(struct digest_cache *c, const struct digest_key *k, const struct digest_val *v,
		     uint64_t hashed_at_ns)
{
	if (!c)
		return 0;
	bool persist = k->ctime_ns > 0 && (uint64_t)k->ctime_ns + DIGEST_RACY_NS < hashed_at_ns;
	int rc = cache_add(c, k, v, persist, false);
	if (rc == 0 && persist)
		c->dirty = true;
	return rc;
}

size_t digest_cache_count(const struct digest_cache *c)
{
	return c ? c->n + c->on : 0;
}

unsigned digest_cache_rejected(const struct digest_cache *c)
{
	return c ? c->rejected : 0;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* fields (88 bytes) of an entry, then its MAC (32) */
static void entry_encode(const struct dentry *d, uint8_t out[88])
{
	put_u64(out, d->k.dev);
	put_u64(out + 8, d->k.ino);
	put_u64(out + 16, d->k.size);
	put_u64(out + 24, (uint64_t)d->k.mtime_ns);
	put_u64(out + 32, (uint64_t)d->k.ctime_ns);
	memcpy(out + 40, d->v.md5, 16);
	memcpy(out + 56, d->v.sha256, 32);
}

/* HMAC-SHA256 (RFC 2104) with the key's inner and outer pads hashed once
 * per parse/serialise; an entry's MAC then copies two small states. */
struct hmacpre {
	SHA256_CTX in, out;
};

static void hmac_done(struct hmacpre *h)
{
	OPENSSL_cleanse(h, sizeof(*h));
}

static bool hmac_init(struct hmacpre *h, const uint8_t key[32])
{
	uint8_t ipad[64], opad[64];
	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (int i = 0; i < 32; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	bool ok = SHA256_Init(&h->in) && SHA256_Update(&h->in, ipad, 64) && SHA256_Init(&h->out) &&
		  SHA256_Update(&h->out, opad, 64);
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	if (!ok)
		hmac_done(h);
	return ok;
}

static bool mac(struct hmacpre *h, const uint8_t *data, size_t len, uint8_t out[32])
{
	uint8_t inner[32];
	SHA256_CTX t = h->in;
	bool ok = SHA256_Update(&t, data, len) && SHA256_Final(inner, &t);
	t = h->out;
	ok = ok && SHA256_Update(&t, inner, 32) && SHA256_Final(out, &t);
	OPENSSL_cleanse(&t, sizeof(t));
	return ok;
}

static uint64_t okey_hash(const struct digest_key *k, uint64_t pathhash, uint64_t gen)
{
	uint64_t h = key_hash(k) ^ (pathhash * 0x9e3779b97f4a7c15ull) ^ (gen * 0xc2b2ae3d27d4eb4full);
	return h ? h : 1;
}

static int owner_add(struct digest_cache *c, const struct oentry *oe)
{
	uint64_t h = okey_hash(&oe->k, oe->pathhash, oe->gen);
	uint32_t i;
	if (owl_u64map_get(&c->oidx, h, &i)) {
		c->o[i] = *oe;
		return 0;
	}
	if (c->on == c->ocap) {
		size_t nc = c->ocap ? c->ocap * 2 : 64;
		struct oentry *no = realloc(c->o, nc * sizeof(*no));
		if (!no)
			return -ENOMEM;
		c->o = no;
		c->ocap = nc;
	}
	if (owl_u64map_put(&c->oidx, h, (uint32_t)c->on) < 0)
		return -ENOMEM;
	c->o[c->on++] = *oe;
	return 0;
}

static void note_gen(struct digest_cache *c, uint64_t gen)
{
	for (size_t i = 0; i < c->ngens; i++)
		if (c->gens[i] == gen)
			return;
	if (c->ngens < OWL_ARRAY_SIZE(c->gens))
		c->gens[c->ngens++] = gen;
	else
		c->ngens = SIZE_MAX; /* too many: keep everything */
}

static bool gen_live(const struct digest_cache *c, uint64_t gen)
{
	if (c->ngens == SIZE_MAX || c->ngens == 0)
		return true;
	for (size_t i = 0; i < c->ngens; i++)
		if (c->gens[i] == gen)
			return true;
	return false;
}

bool digest_cache_owner_get(struct digest_cache *c, const struct digest_key *k, uint64_t pathhash, uint64_t gen,
			    struct digest_owner *ret)
{
	uint32_t i;
	if (c && c->ngens != SIZE_MAX)
		note_gen(c, gen);
	if (!c || !owl_u64map_get(&c->oidx, okey_hash(k, pathhash, gen), &i))
		return false;
	const struct oentry *oe = &c->o[i];
	if (!key_eq(&oe->k, k) || oe->pathhash != pathhash || oe->gen != gen)
		return false;
	*ret = oe->v;
	return true;
}

int digest_cache_owner_put(struct digest_cache *c, const struct digest_key *k, uint64_t pathhash, uint64_t gen,
			   const struct digest_owner *v, uint64_t looked_at_ns)
{
	if (!c)
		return 0;
	if (c->ngens != SIZE_MAX)
		note_gen(c, gen);
	struct oentry oe = {.k = *k, .pathhash = pathhash, .gen = gen, .v = *v};
	oe.persist = k->ctime_ns > 0 && (uint64_t)k->ctime_ns + DIGEST_RACY_NS < looked_at_ns;
	int rc = owner_add(c, &oe);
	if (rc == 0 && oe.persist)
		c->dirty = true;
	return rc;
}

static void put_str(uint8_t *p, size_t sz, const char *s)
{
	memset(p, 0, sz);
	memcpy(p, s, strnlen(s, sz - 1));
}

static void get_str(const uint8_t *p, size_t sz, char *out)
{
	memcpy(out, p, sz);
	out[sz - 1] = '\0';
}

/* fields of an owner entry (768 bytes), then its MAC (32) */
static void owner_encode(const struct oentry *oe, uint8_t out[768])
{
	memset(out, 0, 768);
	put_u64(out, oe->k.dev);
	put_u64(out + 8, oe->k.ino);
	put_u64(out + 16, oe->k.size);
	put_u64(out + 24, (uint64_t)oe->k.mtime_ns);
	put_u64(out + 32, (uint64_t)oe->k.ctime_ns);
	put_u64(out + 40, oe->pathhash);
	put_u64(out + 48, oe->gen);
	out[56] = oe->v.owner;
	out[57] = oe->v.has_md5;
	memcpy(out + 58, oe->v.md5, 16);
	put_u64(out + 74, oe->v.installed_ns);
	put_str(out + 82, 128, oe->v.name);
	put_str(out + 210, 128, oe->v.version);
	put_str(out + 338, 32, oe->v.arch);
	put_str(out + 370, 128, oe->v.diverted_by);
	put_str(out + 498, 256, oe->v.recorded);
}

static void owner_decode(const uint8_t *p, struct oentry *oe)
{
	oe->k.dev = get_u64(p);
	oe->k.ino = get_u64(p + 8);
	oe->k.size = get_u64(p + 16);
	oe->k.mtime_ns = (int64_t)get_u64(p + 24);
	oe->k.ctime_ns = (int64_t)get_u64(p + 32);
	oe->pathhash = get_u64(p + 40);
	oe->gen = get_u64(p + 48);
	oe->v.owner = p[56];
	oe->v.has_md5 = p[57] != 0;
	memcpy(oe->v.md5, p + 58, 16);
	oe->v.installed_ns = get_u64(p + 74);
	get_str(p + 82, 128, oe->v.name);
	get_str(p + 210, 128, oe->v.version);
	get_str(p + 338, 32, oe->v.arch);
	get_str(p + 370, 128, oe->v.diverted_by);
	get_str(p + 498, 256, oe->v.recorded);
	oe->persist = true;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int digest_cache_parse(struct digest_cache *c, const uint8_t *buf, size_t len, const uint8_t key[32])
{
	if (len < 16 || memcmp(buf, DIGEST_MAGIC, 8) != 0)
		return -EINVAL;
	uint32_t nd = get_u32(buf + 8), no = get_u32(buf + 12);
	if (nd > DIGEST_CACHE_MAX || no > DIGEST_CACHE_MAX)
		return -EINVAL;
	struct hmacpre h;
	if (!hmac_init(&h, key))
		return -ENOMEM;
	int n = 0;
	size_t off = 16;
	for (uint32_t k = 0; k < nd && off + DIGEST_ENTRY_SIZE <= len; k++, off += DIGEST_ENTRY_SIZE) {
		const uint8_t *p = buf + off;
		uint8_t m[32];
		if (!mac(&h, p, 88, m) || CRYPTO_memcmp(m, p + 88, 32) != 0) {
			c->rejected++;
			continue;
		}
		struct dentry d;
		d.k.dev = get_u64(p);
		d.k.ino = get_u64(p + 8);
		d.k.size = get_u64(p + 16);
		d.k.mtime_ns = (int64_t)get_u64(p + 24);
		d.k.ctime_ns = (int64_t)get_u64(p + 32);
		memcpy(d.v.md5, p + 40, 16);
		memcpy(d.v.sha256, p + 56, 32);
		if (cache_add(c, &d.k, &d.v, true, true) < 0) {
			hmac_done(&h);
			return -ENOMEM;
		}
		n++;
	}
	for (uint32_t k = 0; k < no && off + DIGEST_OWNER_SIZE <= len; k++, off += DIGEST_OWNER_SIZE) {
		const uint8_t *p = buf + off;
		uint8_t m[32];
		if (!mac(&h, p, 768, m) || CRYPTO_memcmp(m, p + 768, 32) != 0) {
			c->rejected++;
			continue;
		}
		struct oentry oe;
		owner_decode(p, &oe);
		if (owner_add(c, &oe) < 0) {
			hmac_done(&h);
			return -ENOMEM;
		}
		n++;
	}
	hmac_done(&h);
	if (off != len)
		c->rejected++; /* a torn or padded tail */
	return n;
}

int digest_cache_serialize(struct digest_cache *c, const uint8_t key[32], uint8_t **ret, size_t *ret_len)
{
	/* newest last: when over the bound, the oldest entries go */
	size_t nd = 0, no = 0, sd = 0, so = 0;
	for (size_t i = 0; i < c->n; i++)
		nd += c->e[i].persist;
	for (size_t i = 0; i < c->on; i++)
		no += c->o[i].persist && gen_live(c, c->o[i].gen);
	if (nd > DIGEST_CACHE_MAX) {
		sd = nd - DIGEST_CACHE_MAX;
		nd = DIGEST_CACHE_MAX;
	}
	if (no > DIGEST_CACHE_MAX) {
		so = no - DIGEST_CACHE_MAX;
		no = DIGEST_CACHE_MAX;
	}
	size_t len = 16 + nd * DIGEST_ENTRY_SIZE + no * DIGEST_OWNER_SIZE;
	uint8_t *b = malloc(len);
	struct hmacpre h;
	if (!b || !hmac_init(&h, key)) {
		free(b);
		return -ENOMEM;
	}
	memcpy(b, DIGEST_MAGIC, 8);
	put_u32(b + 8, (uint32_t)nd);
	put_u32(b + 12, (uint32_t)no);
	size_t off = 16;
	for (size_t i = 0; i < c->n; i++) {
		if (!c->e[i].persist)
			continue;
		if (sd) {
			sd--;
			continue;
		}
		entry_encode(&c->e[i], b + off);
		if (!mac(&h, b + off, 88, b + off + 88))
			goto fail;
		off += DIGEST_ENTRY_SIZE;
	}
	for (size_t i = 0; i < c->on; i++) {
		if (!c->o[i].persist || !gen_live(c, c->o[i].gen))
			continue;
		if (so) {
			so--;
			continue;
		}
		owner_encode(&c->o[i], b + off);
		if (!mac(&h, b + off, 768, b + off + 768))
			goto fail;
		off += DIGEST_OWNER_SIZE;
	}
	hmac_done(&h);
	*ret = b;
	*ret_len = off;
	return 0;
fail:
	hmac_done(&h);
	free(b);
	return -EIO;
}

/* A file or directory owl may rely on: ours, not writable by others. */
static bool safe_stat(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static int dir_of(const char *path, char *out, size_t outsz)
{
	const char *sl = strrchr(path, '/');
	if (!sl)
		return owl_strlcpy(out, ".", outsz) < outsz ? 0 : -ENAMETOOLONG;
	size_t n = sl == path ? 1 : (size_t)(sl - path);
	if (n >= outsz)
		return -ENAMETOOLONG;
	owl_strncpy0(out, outsz, path, n);
	return 0;
}

/* Load (or create) the MAC key beside the cache. */
static int load_key(struct digest_cache *c)
{
	char kp[OWL_PATH_MAX];
	if ((size_t)snprintf(kp, sizeof(kp), "%s.key", c->path) >= sizeof(kp))
		return -ENAMETOOLONG;
	int fd = open(kp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;
		ssize_t n = -1;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && safe_stat(&st) && !(st.st_mode & 077))
			n = read(fd, c->key, 32);
		close(fd);
		if (n != 32)
			return -EPERM;
		c->have_key = true;
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	if (getrandom(c->key, 32, 0) != 32)
		return -EIO;
	fd = open(kp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, c->key, 32);
	int e = close(fd);
	if (w != 32 || e != 0) {
		unlink(kp);
		return -EIO;
	}
	c->have_key = true;
	return 0;
}

int digest_cache_new(const char *path, struct digest_cache **ret)
{
	struct digest_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (owl_u64map_init(&c->idx, 1024) < 0 || owl_u64map_init(&c->oidx, 1024) < 0) {
		owl_u64map_free(&c->idx);
		free(c);
		return -ENOMEM;
	}
	if (path && *path) {
		c->path = strdup(path);
		if (!c->path) {
			digest_cache_free(c);
			return -ENOMEM;
		}
		char dir[OWL_PATH_MAX];
		struct stat st;
		if (dir_of(path, dir, sizeof(dir)) == 0) {
			if (stat(dir, &st) != 0 && errno == ENOENT)
				(void)mkdir(dir, 0700); /* the parent (/var/cache) must exist */
			c->safe = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && safe_stat(&st);
		}
		if (c->safe && load_key(c) < 0)
			c->safe = false;
		if (c->safe) {
			int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
			if (fd < 0) {
				c->safe = errno == ENOENT; /* ELOOP: a symlink planted in its place */
			} else {
				char *buf = NULL;
				size_t len = 0;
				if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !safe_stat(&st))
					c->safe = false;
				else if (vroot_read_fd(fd, 16 + (size_t)DIGEST_CACHE_MAX * (DIGEST_ENTRY_SIZE + DIGEST_OWNER_SIZE) + 1, &buf, &len) == 0)
					(void)digest_cache_parse(c, (const uint8_t *)buf, len, c->key);
				free(buf);
				close(fd);
			}
		}
	}
	*ret = c;
	return 0;
}

int digest_cache_save(struct digest_cache *c)
{
	if (!c || !c->path || !c->safe || !c->have_key || !c->dirty)
		return 0;
	uint8_t *b;
	size_t len;
	int rc = digest_cache_serialize(c, c->key, &b, &len);
	if (rc < 0)
		return rc;
	char tmp[OWL_PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", c->path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		free(b);
		return rc;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, b + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	free(b);
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, c->path) != 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	else
		c->dirty = false;
	return rc;
}

void digest_cache_free(struct digest_cache *c)
{
	if (!c)
		return;
	owl_u64map_free(&c->idx);
	owl_u64map_free(&c->oidx);
	free(c->e);
	free(c->o);
	free(c->path);
	OPENSSL_cleanse(c->key, sizeof(c->key));
	free(c);
}
