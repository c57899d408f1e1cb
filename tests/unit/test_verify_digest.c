/* verify's digests and their cache: the cache may only ever cause a
 * re-hash, never trust. */
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
#include <openssl/hmac.h>

#include "core/util.h"
#include "verify/digest.h"

static void test_digest_fd(void **state)
{
	(void)state;
	char path[] = "/tmp/owlv-unit-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	struct digest_val v;
	assert_int_equal(digest_fd(fd, &v), 0);
	char hex[65];
	digest_hex(v.md5, 16, hex);
	assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72"); /* RFC 1321 */
	digest_hex(v.sha256, 32, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); /* FIPS 180-2 */
	close(fd);
	unlink(path);
}

static const uint8_t key1[32] = {1, 2, 3};
static const uint8_t key2[32] = {9, 9, 9};

static void fill(struct digest_key *k, struct digest_val *v, int i)
{
	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	k->dev = 2049;
	k->ino = 1000 + (uint64_t)i;
	k->size = 4096;
	k->mtime_ns = 1700000000000000000ll;
	k->ctime_ns = 1700000000000000000ll;
	v->md5[0] = (uint8_t)i;
	v->sha256[31] = (uint8_t)i;
}

static struct digest_cache *filled(int n)
{
	struct digest_cache *c;
	assert_int_equal(digest_cache_new(NULL, &c), 0);
	for (int i = 0; i < n; i++) {
		struct digest_key k;
		struct digest_val v;
		fill(&k, &v, i);
		assert_int_equal(digest_cache_put(c, &k, &v, owl_now_ns()), 0);
	}
	struct digest_owner o = {.owner = 1, .has_md5 = true};
	strcpy(o.name, "netcat-openbsd");
	strcpy(o.version, "1.219-1");
	strcpy(o.recorded, "/usr/bin/nc.openbsd");
	struct digest_key k;
	struct digest_val v;
	fill(&k, &v, 0);
	assert_int_equal(digest_cache_owner_put(c, &k, 77, 88, &o, owl_now_ns()), 0);
	return c;
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct digest_cache *c = filled(3);
	uint8_t *buf;
	size_t len;
	assert_int_equal(digest_cache_serialize(c, key1, &buf, &len), 0);
	assert_int_equal(len, 16 + 3 * DIGEST_ENTRY_SIZE + DIGEST_OWNER_SIZE);
	/* the MAC is standard HMAC-SHA256 over the entry's fields */
	uint8_t ref[32];
	unsigned int rl = 0;
	assert_non_null(HMAC(EVP_sha256(), key1, 32, buf + 16, 88, ref, &rl));
	assert_memory_equal(ref, buf + 16 + 88, 32);
	size_t oo = 16 + 3 * DIGEST_ENTRY_SIZE;
	assert_non_null(HMAC(EVP_sha256(), key1, 32, buf + oo, 768, ref, &rl));
	assert_memory_equal(ref, buf + oo + 768, 32);
	struct digest_cache *d;
	assert_int_equal(digest_cache_new(NULL, &d), 0);
	assert_int_equal(digest_cache_parse(d, buf, len, key1), 4);
	assert_int_equal(digest_cache_rejected(d), 0);
	for (int i = 0; i < 3; i++) {
		struct digest_key k;
		struct digest_val v, got;
		bool from_file = false;
		fill(&k, &v, i);
		assert_true(digest_cache_get(d, &k, &got, &from_file));
		assert_true(from_file);
		assert_memory_equal(&got, &v, sizeof(v));
		/* any change of the key fields is a miss */
		k.ctime_ns++;
		assert_false(digest_cache_get(d, &k, &got, NULL));
	}
	struct digest_key k;
	struct digest_val v;
	struct digest_owner o;
	fill(&k, &v, 0);
	assert_true(digest_cache_owner_get(d, &k, 77, 88, &o));
	assert_string_equal(o.name, "netcat-openbsd");
	assert_false(digest_cache_owner_get(d, &k, 77, 89, &o)); /* another dpkg generation */
	assert_false(digest_cache_owner_get(d, &k, 78, 88, &o)); /* another path */
	digest_cache_free(d);
	/* under another key every entry is rejected */
	assert_int_equal(digest_cache_new(NULL, &d), 0);
	assert_int_equal(digest_cache_parse(d, buf, len, key2), 0);
	assert_int_equal(digest_cache_rejected(d), 4);
	digest_cache_free(d);
	free(buf);
	digest_cache_free(c);
}

/* Flip every byte of the file in turn: no flipped entry is ever accepted. */
static void test_tamper(void **state)
{
	(void)state;
	struct digest_cache *c = filled(2);
	uint8_t *buf;
	size_t len;
	assert_int_equal(digest_cache_serialize(c, key1, &buf, &len), 0);
	for (size_t off = 0; off < len; off++) {
		buf[off] ^= 0x5a;
		struct digest_cache *d;
		assert_int_equal(digest_cache_new(NULL, &d), 0);
		int n = digest_cache_parse(d, buf, len, key1);
		/* the untouched entries may survive; the touched one never does */
		if (off >= 16)
			assert_true(n <= 2);
		for (int i = 0; i < 2; i++) {
			struct digest_key k;
			struct digest_val v, got;
			fill(&k, &v, i);
			if (digest_cache_get(d, &k, &got, NULL))
				assert_memory_equal(&got, &v, sizeof(v));
		}
		digest_cache_free(d);
		buf[off] ^= 0x5a;
	}
	/* truncated files */
	for (size_t l = 0; l < len; l += 7) {
		struct digest_cache *d;
		assert_int_equal(digest_cache_new(NULL, &d), 0);
		(void)digest_cache_parse(d, buf, l, key1);
		digest_cache_free(d);
	}
	free(buf);
	digest_cache_free(c);
}

/* An entry hashed right after the file changed is not written to the file. */
static void test_racy(void **state)
{
	(void)state;
	struct digest_cache *c;
	assert_int_equal(digest_cache_new(NULL, &c), 0);
	struct digest_key k;
	struct digest_val v;
	fill(&k, &v, 1);
	uint64_t now = owl_now_ns();
	k.ctime_ns = (int64_t)now - 1000;
	assert_int_equal(digest_cache_put(c, &k, &v, now), 0);
	assert_true(digest_cache_get(c, &k, &v, NULL)); /* usable within the run */
	uint8_t *buf;
	size_t len;
	assert_int_equal(digest_cache_serialize(c, key1, &buf, &len), 0);
	assert_int_equal(len, 16); /* but never persisted */
	free(buf);
	digest_cache_free(c);
}

/* The file: written 0600 with a 0600 key; ignored when others may write it. */
static void test_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/owlv-unit-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], kpath[300];
	snprintf(path, sizeof(path), "%s/digests", dir);
	snprintf(kpath, sizeof(kpath), "%s.key", path);
	struct digest_cache *c;
	assert_int_equal(digest_cache_new(path, &c), 0);
	struct digest_key k;
	struct digest_val v, got;
	fill(&k, &v, 5);
	assert_int_equal(digest_cache_put(c, &k, &v, owl_now_ns()), 0);
	assert_int_equal(digest_cache_save(c), 0);
	digest_cache_free(c);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(kpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(digest_cache_new(path, &c), 0);
	assert_true(digest_cache_get(c, &k, &got, NULL));
	digest_cache_free(c);
	chmod(path, 0666);
	assert_int_equal(digest_cache_new(path, &c), 0);
	assert_false(digest_cache_get(c, &k, &got, NULL));
	digest_cache_free(c);
	chmod(path, 0600);
	chmod(dir, 0777); /* a directory others may write: ignored too */
	assert_int_equal(digest_cache_new(path, &c), 0);
	assert_false(digest_cache_get(c, &k, &got, NULL));
	digest_cache_free(c);
	unlink(path);
	unlink(kpath);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_fd), cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_racy),      cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
