/* Interned, immutable finding sets.
 *
 * A scan of 100,000 sockets held by a handful of programs carries the same
 * few findings on every socket of a program ("no installed package owns
 * /opt/x", "250 connections to 10.0.0.5:443").  Each distinct set is kept
 * once, reference-counted, and records point at it; changing a record's
 * findings (judge_add, judge_set_severity) builds the new set and swaps the
 * pointer.  One mutex guards the table: the stages add findings from
 * several threads.
 */
#include "judge/fset.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct fset {
	struct fset *next;
	uint64_t hash;
	uint32_t refs;
	uint32_t n;
	uint64_t fh[OWL_FINDINGS_MAX];  /* each finding's hash */
	struct owl_finding f[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fset **buckets;
static size_t nbuckets, count;

static struct fset *of(const struct owl_finding *f)
{
	/* integer arithmetic: the compiler must not read it as indexing f[-1] */
	uintptr_t a = (uintptr_t)f - offsetof(struct fset, f);
	return (struct fset *)a;
}

/* A quick hash of a string, 8 bytes at a time. */
static uint64_t hash_str(uint64_t h, const char *p, size_t n)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		h = (h ^ v) * k;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	uint64_t v = 0;
	memcpy(&v, p, n);
	h = (h ^ v ^ ((uint64_t)n << 56)) * k;
	return h ^ (h >> 32);
}

static uint64_t hash_one(const struct owl_finding *f)
{
	uint64_t h = hash_str(0xcbf29ce484222325ULL ^ f->severity, f->id, strlen(f->id));
	return hash_str(h, f->reason, strnlen(f->reason, sizeof(f->reason)));
}

/* The set's hash from its findings' hashes (order matters). */
static uint64_t hash_set(const uint64_t *fh, uint32_t n)
{
	uint64_t h = n;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ fh[i]) * 0x100000001b3ULL + (h >> 31);
	return h;
}

static bool same(const struct owl_finding *a, const struct owl_finding *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i].severity != b[i].severity || strcmp(a[i].id, b[i].id) != 0 ||
		    strncmp(a[i].reason, b[i].reason, sizeof(a[i].reason)) != 0)
			return false;
	return true;
}

static int grow(void)
{
	size_t nb = nbuckets ? nbuckets * 2 : 256;
	struct fset **b = calloc(nb, sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < nbuckets; i++) {
		for (struct fset *e = buckets[i], *nx; e; e = nx) {
			nx = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(buckets);
	buckets = b;
	nbuckets = nb;
	return 0;
}

const struct owl_finding *fset_intern_from(const struct owl_finding *old, uint32_t same_upto,
					   const struct owl_finding *f, uint32_t n)
{
	if (n == 0)
		return NULL;
	if (n > OWL_FINDINGS_MAX)
		n = OWL_FINDINGS_MAX;
	uint64_t fh[OWL_FINDINGS_MAX];
	/* findings [0, same_upto) are old's own: their hashes are known */
	uint32_t known = 0;
	if (old) {
		known = same_upto < n ? same_upto : n;
		if (known > of(old)->n)
			known = of(old)->n;
		memcpy(fh, of(old)->fh, known * sizeof(fh[0]));
	}
	for (uint32_t i = known; i < n; i++)
		fh[i] = hash_one(&f[i]);
	uint64_t h = hash_set(fh, n);
	const struct owl_finding *ret = NULL;
	pthread_mutex_lock(&lock);
	if (count >= nbuckets && grow() < 0 && !nbuckets)
		goto out;
	for (struct fset *e = buckets[h & (nbuckets - 1)]; e; e = e->next) {
		if (e->hash == h && e->n == n && same(e->f, f, n)) {
			e->refs++;
			ret = e->f;
			goto out;
		}
	}
	struct fset *e = malloc(sizeof(*e) + n * sizeof(*f));
	if (!e)
		goto out;
	e->hash = h;
	e->refs = 1;
	e->n = n;
	memcpy(e->fh, fh, n * sizeof(fh[0]));
	memcpy(e->f, f, n * sizeof(*f));
	e->next = buckets[h & (nbuckets - 1)];
	buckets[h & (nbuckets - 1)] = e;
	count++;
	ret = e->f;
out:
	pthread_mutex_unlock(&lock);
	return ret;
}

void fset_ref(const struct owl_finding *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&lock);
	of(f)->refs++;
	pthread_mutex_unlock(&lock);
}

void fset_unref(const struct owl_finding *f)
{
	if (!f)
		return;
	struct fset *e = of(f);
	pthread_mutex_lock(&lock);
	if (--e->refs == 0) {
		struct fset **pp = &buckets[e->hash & (nbuckets - 1)];
		while (*pp && *pp != e)
			pp = &(*pp)->next;
		if (*pp)
			*pp = e->next;
		count--;
		free(e);
		if (count == 0) {
			/* nothing held: give the table back (long-running watch,
			 * leak checkers) */
			free(buckets);
			buckets = NULL;
			nbuckets = 0;
		}
	}
	pthread_mutex_unlock(&lock);
}

const struct owl_finding *fset_intern(const struct owl_finding *f, uint32_t n)
{
	return fset_intern_from(NULL, 0, f, n);
}

size_t fset_count(void)
{
	pthread_mutex_lock(&lock);
	size_t n = count;
	pthread_mutex_unlock(&lock);
	return n;
}
