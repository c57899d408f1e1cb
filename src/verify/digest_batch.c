/* md5 + sha256 of many files: see digest_batch.h. */
#include "verify/digest_batch.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LANE_BUF (64 * 1024) /* per MD5 lane: 16 lanes stay in a 1 MiB L2 */
#define SHA_BUF (256 * 1024)
#define BATCH_THREADS_MAX 8

struct batch {
	struct digest_job *jobs;
	const size_t *order; /* biggest first */
	size_t n;
	enum md5mb_impl impl;
	pthread_mutex_t mu;
	size_t next; /* sha256 (or whole-file) jobs handed out, under mu */
	int *md5rc;  /* per job: the MD5 thread's result */
	int *sharc;  /* per job: the sha256 result */
};

static bool take(struct batch *b, size_t *ret)
{
	pthread_mutex_lock(&b->mu);
	bool ok = b->next < b->n;
	if (ok)
		*ret = b->order[b->next++];
	pthread_mutex_unlock(&b->mu);
	return ok;
}

/* ---- one stream per file */

static void *whole_worker(void *arg)
{
	struct batch *b = arg;
	size_t j;
	while (take(b, &j))
		b->jobs[j].rc = digest_fd(b->jobs[j].fd, &b->jobs[j].v);
	return NULL;
}

/* ---- sha256 per file */

static int sha256_fd(EVP_MD_CTX *s, unsigned char *buf, int fd, uint8_t out[32])
{
	if (!EVP_DigestInit_ex(s, EVP_sha256(), NULL))
		return -EIO;
	for (off_t off = 0;;) {
		ssize_t n = pread(fd, buf, SHA_BUF, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(s, buf, (size_t)n))
			return -EIO;
		off += n;
	}
	unsigned int len = 0;
	uint8_t v[EVP_MAX_MD_SIZE];
	if (!EVP_DigestFinal_ex(s, v, &len) || len != 32)
		return -EIO;
	memcpy(out, v, 32);
	return 0;
}

static void *sha_worker(void *arg)
{
	struct batch *b = arg;
	unsigned char *buf = malloc(SHA_BUF);
	EVP_MD_CTX *s = EVP_MD_CTX_new();
	size_t j;
	while (take(b, &j))
		b->sharc[j] = buf && s ? sha256_fd(s, buf, b->jobs[j].fd, b->jobs[j].v.sha256) : -ENOMEM;
	EVP_MD_CTX_free(s);
	free(buf);
	return NULL;
}

/* ---- every file's MD5 through the lanes */

struct mlane {
	size_t job;
	off_t off;
	uint8_t *buf;
};

/* Give lane l data: the next piece of its file, or, at the file's end, its
 * digest and the next file.  Leaves the lane free when no file is left. */
static void refill(struct batch *b, struct md5mb *m, struct mlane *ml, unsigned l, size_t *next)
{
	for (;;) {
		struct digest_job *J = &b->jobs[ml->job];
		ssize_t r = pread(J->fd, ml->buf, LANE_BUF, ml->off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0) {
			md5mb_feed(m, l, ml->buf, (size_t)r);
			ml->off += r;
			return;
		}
		uint8_t md5[16];
		md5mb_end(m, l, md5);
		if (r == 0) {
			memcpy(J->v.md5, md5, 16);
			b->md5rc[ml->job] = 0;
		} else {
			b->md5rc[ml->job] = -errno;
		}
		if (*next >= b->n)
			return;
		ml->job = b->order[(*next)++];
		ml->off = 0;
		md5mb_begin(m, l);
	}
}

static void md5_lanes(struct batch *b)
{
	struct md5mb *m = NULL;
	int rc = md5mb_new(b->impl, &m);
	unsigned nl = rc == 0 ? md5mb_lanes(m) : 0;
	uint8_t *bufs = nl ? aligned_alloc(64, (size_t)nl * LANE_BUF) : NULL;
	if (!bufs) {
		/* no memory for the lanes: no md5 (the caller hashes again) */
		md5mb_free(m);
		for (size_t i = 0; i < b->n; i++)
			b->md5rc[i] = -ENOMEM;
		return;
	}
	struct mlane ml[MD5MB_LANES_MAX];
	size_t next = 0;
	for (unsigned l = 0; l < nl && next < b->n; l++) {
		ml[l] = (struct mlane){.job = b->order[next++], .buf = bufs + (size_t)l * LANE_BUF};
		md5mb_begin(m, l);
		refill(b, m, &ml[l], l, &next);
	}
	for (;;) {
		uint32_t hungry = md5mb_run(m);
		if (!hungry)
			break;
		for (unsigned l = 0; l < nl; l++)
			if (hungry & (1u << l))
				refill(b, m, &ml[l], l, &next);
	}
	free(bufs);
	md5mb_free(m);
}

static void *mb_thread(void *arg)
{
	struct batch *b = arg;
	md5_lanes(b);
	return sha_worker(b); /* then help with the sha256 still to do */
}

/* ---- */

struct sjob {
	uint64_t size;
	size_t i;
};

static int cmp_size_desc(const void *x, const void *y)
{
	const struct sjob *a = x, *b = y;
	return a->size < b->size ? 1 : a->size > b->size ? -1 : a->i > b->i ? 1 : a->i < b->i ? -1 : 0;
}

void digest_batch(struct digest_job *jobs, size_t n, int threads, enum md5mb_impl impl)
{
	if (!n)
		return;
	if (threads < 1)
		threads = 1;
	if (threads > BATCH_THREADS_MAX)
		threads = BATCH_THREADS_MAX;
	size_t *order = malloc(n * sizeof(*order));
	int *rcs = calloc(2 * n, sizeof(*rcs));
	struct sjob *sj = malloc(n * sizeof(*sj));
	if (!order || !rcs || !sj) {
		free(order);
		free(rcs);
		free(sj);
		for (size_t i = 0; i < n; i++)
			jobs[i].rc = digest_fd(jobs[i].fd, &jobs[i].v);
		return;
	}
	for (size_t i = 0; i < n; i++)
		sj[i] = (struct sjob){.size = jobs[i].size, .i = i};
	qsort(sj, n, sizeof(*sj), cmp_size_desc);
	for (size_t i = 0; i < n; i++)
		order[i] = sj[i].i;
	free(sj);

	struct batch b = {.jobs = jobs, .order = order, .n = n, .impl = impl, .md5rc = rcs, .sharc = rcs + n};
	pthread_mutex_init(&b.mu, NULL);
	bool lanes = impl != MD5MB_NONE;
	void *(*other)(void *) = lanes ? sha_worker : whole_worker;
	pthread_t th[BATCH_THREADS_MAX];
	int started = 0;
	for (int t = 1; t < threads; t++)
		if (pthread_create(&th[started], NULL, other, &b) == 0)
			started++;
	if (lanes)
		mb_thread(&b);
	else
		whole_worker(&b);
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	pthread_mutex_destroy(&b.mu);
	if (lanes)
		for (size_t i = 0; i < n; i++)
			jobs[i].rc = b.md5rc[i] < 0 ? b.md5rc[i] : b.sharc[i];
	free(rcs);
	free(order);
}
