/* Multi-buffer MD5 and SHA-256 against OpenSSL's, for every implementation
 * this CPU runs (avx512, avx2, scalar), and the batch hasher (md5 in lanes,
 * sha256 beside it) against digest_fd() on real packaged binaries. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "verify/digest.h"
#include "verify/digest_batch.h"
#include "verify/md5mb.h"
#include "verify/sha256mb.h"

static const enum md5mb_impl impls[] = {MD5MB_SCALAR, MD5MB_AVX2, MD5MB_AVX512};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* the two hashes behind one set of calls */
struct alg {
	const char *name;
	size_t dlen;
	const EVP_MD *(*md)(void);
	int (*new_)(enum md5mb_impl, void **);
	void (*free_)(void *);
	unsigned (*lanes)(const void *);
	void (*begin)(void *, unsigned);
	void (*feed)(void *, unsigned, const void *, size_t);
	uint32_t (*run)(void *);
	void (*end)(void *, unsigned, uint8_t *);
};

static int m_new(enum md5mb_impl i, void **r)
{
	struct md5mb *m = NULL;
	int rc = md5mb_new(i, &m);
	*r = m;
	return rc;
}
static void m_free(void *m) { md5mb_free(m); }
static unsigned m_lanes(const void *m) { return md5mb_lanes(m); }
static void m_begin(void *m, unsigned l) { md5mb_begin(m, l); }
static void m_feed(void *m, unsigned l, const void *p, size_t n) { md5mb_feed(m, l, p, n); }
static uint32_t m_run(void *m) { return md5mb_run(m); }
static void m_end(void *m, unsigned l, uint8_t *o) { md5mb_end(m, l, o); }
static int s_new(enum md5mb_impl i, void **r)
{
	struct sha256mb *m = NULL;
	int rc = sha256mb_new(i, &m);
	*r = m;
	return rc;
}
static void s_free(void *m) { sha256mb_free(m); }
static unsigned s_lanes(const void *m) { return sha256mb_lanes(m); }
static void s_begin(void *m, unsigned l) { sha256mb_begin(m, l); }
static void s_feed(void *m, unsigned l, const void *p, size_t n) { sha256mb_feed(m, l, p, n); }
static uint32_t s_run(void *m) { return sha256mb_run(m); }
static void s_end(void *m, unsigned l, uint8_t *o) { sha256mb_end(m, l, o); }

static const struct alg algs[] = {
	{"md5", 16, EVP_md5, m_new, m_free, m_lanes, m_begin, m_feed, m_run, m_end},
	{"sha256", 32, EVP_sha256, s_new, s_free, s_lanes, s_begin, s_feed, s_run, s_end},
};
static const struct alg *A = &algs[0]; /* the one under test */

static void ref_digest(const uint8_t *p, size_t n, uint8_t *out)
{
	unsigned int len = 0;
	assert_true(EVP_Digest(p, n, out, &len, A->md(), NULL));
	assert_int_equal(len, A->dlen);
}

enum chunking { WHOLE, RANDOM, SMALL, BUFSIZED };

/* Hash msgs[0..n) through m's lanes: a lane takes the next message when
 * its message ends; data fed in pieces per `how`. */
static void run_lanes(void *m, const uint8_t *const *msgs, const size_t *lens, size_t n, enum chunking how,
		      uint8_t (*out)[32])
{
	unsigned nl = A->lanes(m);
	size_t job[MD5MB_LANES_MAX], off[MD5MB_LANES_MAX];
	size_t next = 0, done = 0;
	/* give lane l its next piece; end its message and take another when it has none */
	for (unsigned l = 0; l < nl && next < n; l++) {
		job[l] = next++;
		off[l] = 0;
		A->begin(m, l);
	}
	uint32_t hungry = 0;
	for (unsigned l = 0; l < nl && l < n; l++)
		hungry |= 1u << l;
	for (;;) {
		for (unsigned l = 0; l < nl; l++) {
			if (!(hungry & (1u << l)))
				continue;
			for (;;) {
				size_t j = job[l], left = lens[j] - off[l];
				if (left) {
					size_t c = left;
					if (how == RANDOM)
						c = 1 + rnd() % (left < 200000 ? left : 200000);
					else if (how == SMALL)
						c = 1 + rnd() % 70;
					else if (how == BUFSIZED)
						c = 65536;
					if (c > left)
						c = left;
					A->feed(m, l, msgs[j] + off[l], c);
					off[l] += c;
					break;
				}
				A->end(m, l, out[j]);
				done++;
				if (next >= n)
					break;
				job[l] = next++;
				off[l] = 0;
				A->begin(m, l);
			}
		}
		hungry = A->run(m);
		if (!hungry)
			break;
	}
	assert_int_equal(done, n);
}

static void check_all(enum md5mb_impl impl, const uint8_t *const *msgs, const size_t *lens, size_t n,
		      enum chunking how)
{
	void *m;
	assert_int_equal(A->new_(impl, &m), 0);
	uint8_t(*got)[32] = calloc(n, 32);
	assert_non_null(got);
	run_lanes(m, msgs, lens, n, how, got);
	for (size_t i = 0; i < n; i++) {
		uint8_t want[32];
		ref_digest(msgs[i], lens[i], want);
		if (memcmp(got[i], want, A->dlen) != 0)
			fail_msg("%s %s: message %zu of %zu (%zu bytes, chunking %d) differs", A->name,
				 md5mb_impl_name(impl), i, n, lens[i], (int)how);
	}
	free(got);
	A->free_(m);
}

static uint8_t *random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rnd() >> 24);
	return p;
}

static const size_t edge_lens[] = {0, 1, 2, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 191, 192, 1000, 4095, 4096, 65535, 65536, 65537};
#define NEDGE (sizeof(edge_lens) / sizeof(edge_lens[0]))

static void for_each_impl(void (*fn)(enum md5mb_impl))
{
	int ran = 0;
	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		A = &algs[a];
		for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
			if (!md5mb_supported(impls[i])) {
				void *m;
				assert_int_equal(A->new_(impls[i], &m), -ENOTSUP);
				print_message("%s: %s not supported by this CPU, not tested\n", A->name,
					      md5mb_impl_name(impls[i]));
				continue;
			}
			fn(impls[i]);
			ran++;
		}
	}
	assert_true(ran >= 2);
}

/* the standards' own examples (RFC 1321; FIPS 180-2), each message alone */
static void rfc_one(enum md5mb_impl impl)
{
	static const struct {
		const char *msg, *md5, *sha256;
	} t[] = {
		{"", "d41d8cd98f00b204e9800998ecf8427e",
		 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"a", "0cc175b9c0f1b6a831c399e269772661", NULL},
		{"abc", "900150983cd24fb0d6963f7d28e17f72",
		 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"message digest", "f96b697d7cb7938d525a2f31aaf161d0", NULL},
		{"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b", NULL},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f", NULL},
		{"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		 "57edf4a22be3c955ac49da2e2107b67a", NULL},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", NULL,
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};
	void *m;
	assert_int_equal(A->new_(impl, &m), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *want = A->dlen == 16 ? t[i].md5 : t[i].sha256;
		if (!want)
			continue;
		/* in the last lane, so that lanes 0.. stay empty (masked) */
		unsigned l = A->lanes(m) - 1;
		A->begin(m, l);
		A->feed(m, l, t[i].msg, strlen(t[i].msg));
		assert_int_equal(A->run(m), 1u << l);
		uint8_t out[32];
		A->end(m, l, out);
		char hex[65];
		digest_hex(out, A->dlen, hex);
		assert_string_equal(hex, want);
		assert_int_equal(A->run(m), 0);
	}
	A->free_(m);
}

static void test_rfc1321(void **state)
{
	(void)state;
	for_each_impl(rfc_one);
}

/* every edge length, all at once (more messages than lanes), each chunking */
static void edges_one(enum md5mb_impl impl)
{
	const uint8_t *msgs[NEDGE];
	size_t lens[NEDGE];
	uint8_t *bufs[NEDGE];
	for (size_t i = 0; i < NEDGE; i++) {
		bufs[i] = random_bytes(edge_lens[i]);
		msgs[i] = bufs[i];
		lens[i] = edge_lens[i];
	}
	for (int how = WHOLE; how <= BUFSIZED; how++)
		check_all(impl, msgs, lens, NEDGE, (enum chunking)how);
	/* and each edge length alone, and in reverse order */
	for (size_t i = 0; i < NEDGE; i++)
		check_all(impl, &msgs[i], &lens[i], 1, WHOLE);
	const uint8_t *rmsgs[NEDGE];
	size_t rlens[NEDGE];
	for (size_t i = 0; i < NEDGE; i++) {
		rmsgs[i] = msgs[NEDGE - 1 - i];
		rlens[i] = lens[NEDGE - 1 - i];
	}
	check_all(impl, rmsgs, rlens, NEDGE, RANDOM);
	for (size_t i = 0; i < NEDGE; i++)
		free(bufs[i]);
}

static void test_edge_lengths(void **state)
{
	(void)state;
	for_each_impl(edges_one);
}

/* 24 random messages up to 128 KiB and one of 512 KiB: lanes end at
 * different times */
static void random_one(enum md5mb_impl impl)
{
	enum { N = 24 };
	const uint8_t *msgs[N];
	size_t lens[N];
	uint8_t *bufs[N];
	for (size_t i = 0; i < N; i++) {
		lens[i] = i == 1 ? (1u << 19) + 13 : i % 7 == 0 ? rnd() % 200 : rnd() % (1u << 17);
		bufs[i] = random_bytes(lens[i]);
		msgs[i] = bufs[i];
	}
	check_all(impl, msgs, lens, N, RANDOM);
	check_all(impl, msgs, lens, N, BUFSIZED);
	check_all(impl, msgs + 2, lens + 2, 5, SMALL);
	for (size_t i = 0; i < N; i++)
		free(bufs[i]);
}

static void test_random_lengths(void **state)
{
	(void)state;
	for_each_impl(random_one);
}

/* end() hashes whole blocks still waiting; begin() drops a message */
static void api_one(enum md5mb_impl impl)
{
	void *m;
	assert_int_equal(A->new_(impl, &m), 0);
	uint8_t *p = random_bytes(1000), want[32], got[32];
	ref_digest(p, 1000, want);
	A->begin(m, 0);
	A->feed(m, 0, p, 1000);
	A->end(m, 0, got);
	assert_memory_equal(got, want, A->dlen);
	A->begin(m, 0);
	A->feed(m, 0, "junk", 4);
	A->begin(m, 0);
	A->feed(m, 0, p, 500);
	assert_int_equal(A->run(m), 1u);
	A->feed(m, 0, p + 500, 500);
	(void)A->run(m);
	A->end(m, 0, got);
	assert_memory_equal(got, want, A->dlen);
	/* out-of-range lanes are ignored */
	A->begin(m, MD5MB_LANES_MAX);
	A->feed(m, MD5MB_LANES_MAX, p, 10);
	assert_int_equal(A->run(m), 0);
	free(p);
	A->free_(m);
}

static void test_api(void **state)
{
	(void)state;
	for_each_impl(api_one);
}

static void test_pick(void **state)
{
	(void)state;
	struct md5mb *m;
	assert_int_equal(md5mb_new(MD5MB_NONE, &m), -ENOTSUP);
	assert_int_equal(md5mb_new((enum md5mb_impl)42, &m), -EINVAL);
	struct sha256mb *s;
	assert_int_equal(sha256mb_new(MD5MB_NONE, &s), -ENOTSUP);
	assert_int_equal(sha256mb_new((enum md5mb_impl)42, &s), -EINVAL);
	setenv("OWL_MD5MB", "off", 1);
	assert_int_equal(md5mb_pick(), MD5MB_NONE);
	setenv("OWL_MD5MB", "scalar", 1);
	assert_int_equal(md5mb_pick(), MD5MB_SCALAR);
	setenv("OWL_MD5MB", "bogus", 1);
	enum md5mb_impl best = md5mb_pick();
	unsetenv("OWL_MD5MB");
	assert_int_equal(md5mb_pick(), best);
	assert_true(best == MD5MB_AVX512 || best == MD5MB_AVX2 || best == MD5MB_NONE);
	if (md5mb_supported(MD5MB_AVX512))
		assert_int_equal(best, MD5MB_AVX512);
	assert_int_equal(best != MD5MB_NONE, md5mb_supported(MD5MB_AVX2) || md5mb_supported(MD5MB_AVX512));
	assert_string_equal(md5mb_impl_name(MD5MB_AVX2), "avx2");
}

/* ---- the batch hasher on real files */

#define NFILES 32

/* packaged executables from /usr/bin and /usr/sbin, of varied sizes (an
 * eighth of those up to 512 KiB, and the smallest of 4 MiB or more: hashed
 * alone, one stream), plus an
 * empty file, a file of one odd length and a directory (unreadable) */
static size_t open_files(int *fds, uint64_t *sizes, char (*names)[512])
{
	size_t n = 0;
	char bigpath[512] = "";
	off_t bigsize = 0;
	static const char *const dirs[] = {"/usr/bin", "/usr/sbin", "/usr/lib/apt"};
	for (size_t d = 0; d < 3 && n < NFILES - 4; d++) {
		DIR *dir = opendir(dirs[d]);
		if (!dir)
			continue;
		struct dirent *e;
		while ((e = readdir(dir)) && n < NFILES - 4) {
			char path[512];
			snprintf(path, sizeof(path), "%s/%s", dirs[d], e->d_name);
			struct stat st;
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (st.st_size >= (off_t)4 << 20) {
				if (!bigsize || st.st_size < bigsize) {
					bigsize = st.st_size;
					memcpy(bigpath, path, sizeof(path));
				}
				continue;
			}
			if (rnd() % 8 != 0 || st.st_size > (512 << 10))
				continue;
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			fds[n] = fd;
			sizes[n] = (uint64_t)st.st_size;
			memcpy(names[n], path, sizeof(path));
			n++;
		}
		closedir(dir);
	}
	if (bigsize && (fds[n] = open(bigpath, O_RDONLY | O_CLOEXEC)) >= 0) {
		sizes[n] = (uint64_t)bigsize;
		memcpy(names[n++], bigpath, sizeof(bigpath));
	}
	char tmpl[] = "/tmp/owlv-md5mb-XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	unlink(tmpl);
	fds[n] = fd;
	sizes[n] = 0;
	snprintf(names[n++], 512, "empty");
	char tmpl2[] = "/tmp/owlv-md5mb-XXXXXX";
	fd = mkstemp(tmpl2);
	assert_true(fd >= 0);
	unlink(tmpl2);
	uint8_t *b = random_bytes(65536 * 3 + 7);
	assert_int_equal(write(fd, b, 65536 * 3 + 7), 65536 * 3 + 7);
	free(b);
	fds[n] = fd;
	sizes[n] = 65536 * 3 + 7;
	snprintf(names[n++], 512, "odd");
	fds[n] = open("/usr", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fds[n] >= 0);
	sizes[n] = 8u << 20; /* hashed first (alone), fails (EISDIR) */
	snprintf(names[n++], 512, "directory");
	return n;
}

static void test_batch_real_files(void **state)
{
	(void)state;
	int fds[NFILES];
	uint64_t sizes[NFILES];
	char names[NFILES][512];
	size_t n = open_files(fds, sizes, names);
	assert_true(n >= 16);
	struct digest_val want[NFILES];
	int wantrc[NFILES];
	for (size_t i = 0; i < n; i++)
		wantrc[i] = digest_fd(fds[i], &want[i]);
	assert_int_equal(wantrc[n - 1], -EISDIR);
	/* (scalar lanes: never picked, and slow under the sanitizers) */
	static const enum md5mb_impl all[] = {MD5MB_NONE, MD5MB_AVX2, MD5MB_AVX512};
	for (size_t a = 0; a < 3; a++) {
		if (!md5mb_supported(all[a]))
			continue;
		/* AVX-512: 1 and 3 threads, sha256 in lanes or not; then only
		 * three files (each hashed alone: a lane would be slower), and
		 * the files below 1 MiB with every size declared 0 (sizes only
		 * order the files: the directory goes through the lanes too).
		 * The others once with 2 threads (AVX2 with sha256 in lanes). */
		int runs = all[a] == MD5MB_AVX512 ? 6 : 1;
		for (int k = 0; k < runs; k++) {
			int threads = runs == 6 ? 1 + 2 * (k % 2) : 2, sl = runs == 6 ? k / 2 % 2 : 1;
			size_t nj = 0, idx[NFILES];
			for (size_t i = 0; i < n && !(k == 4 && nj == 3); i++)
				if (k != 5 || sizes[i] < (1u << 20) || wantrc[i] != 0)
					idx[nj++] = i;
			struct digest_job jobs[NFILES];
			memset(jobs, 0, sizeof(jobs));
			for (size_t q = 0; q < nj; q++) {
				jobs[q].fd = fds[idx[q]];
				jobs[q].size = k == 5 ? 0 : sizes[idx[q]];
				jobs[q].rc = 12345;
			}
			digest_batch(jobs, nj, threads, all[a], sl);
			for (size_t q = 0; q < nj; q++) {
				size_t i = idx[q];
				if (jobs[q].rc != wantrc[i])
					fail_msg("%s, %d threads, sha lanes %d: %s: rc %d, digest_fd %d",
						 md5mb_impl_name(all[a]), threads, sl, names[i], jobs[q].rc, wantrc[i]);
				if (wantrc[i] == 0 && memcmp(&jobs[q].v, &want[i], sizeof(want[i])) != 0)
					fail_msg("%s, %d threads, sha lanes %d: %s: digests differ from digest_fd",
						 md5mb_impl_name(all[a]), threads, sl, names[i]);
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1321),		cmocka_unit_test(test_edge_lengths),
		cmocka_unit_test(test_random_lengths), cmocka_unit_test(test_api),
		cmocka_unit_test(test_pick),		cmocka_unit_test(test_batch_real_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
