/* Digests of running images, and a cache of them keyed by file identity.
 *
 * The cache may only ever make owl hash again, never make it trust:
 *  - a key is (dev, inode, size, mtime, ctime) of the open image, re-read
 *    with fstat() at every use; ctime cannot be set from user space, so
 *    any write, chmod or utimes since hashing gives a new key (a miss);
 *  - an entry hashed less than DIGEST_RACY_NS after the file's ctime is
 *    never written to the file: a write within the same timestamp tick
 *    would not change the key (git's "racily clean" problem);
 *  - each entry carries an HMAC-SHA256 under a 32-byte random key kept in
 *    <cache>.key (0600): an entry that was corrupted, truncated, copied
 *    from another machine or forged without the key fails the check and is
 *    dropped, so the image is hashed again;
 *  - the cache, its key and their directory must be owned by owl's user and
 *    writable by nobody else, and are opened without following symlinks;
 *    otherwise the cache file is ignored entirely (and not written).
 * An attacker who is root can forge entries — and can equally replace owl;
 * the cache does not pretend to defend against that (see docs/verify.md). */
#ifndef OWL_VERIFY_DIGEST_H
#define OWL_VERIFY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define DIGEST_RACY_NS (2ull * 1000000000ull)
#define DIGEST_CACHE_MAX 65536      /* entries kept in the file */
#define DIGEST_ENTRY_SIZE 120       /* bytes of one digest entry on disk */
#define DIGEST_OWNER_SIZE 800       /* bytes of one owner entry on disk */
#define DIGEST_MAGIC "OWLDGST2"     /* then u32 ndigests, u32 nowners (little endian) */

struct digest_key {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

struct digest_val {
	uint8_t md5[16];
	uint8_t sha256[32];
};

void digest_key_from_stat(const struct stat *st, struct digest_key *ret);

/* What the package database said about a file, remembered across runs so
 * that a warm scan need not index the database.  Keyed by the file's
 * identity, a hash of the path it was looked up at, and the generation of
 * the database (a hash of the stat of status, info/ and diversions: any
 * dpkg run changes it).  Same rules as digests: HMAC, re-validated key. */
struct digest_owner {
	uint8_t owner;                /* enum verify_owner: PACKAGE or NONE */
	bool has_md5;
	uint8_t md5[16];              /* the record (the one that matched, if any) */
	uint64_t installed_ns;
	char name[128], version[128], arch[32], diverted_by[128], recorded[256];
};

/* md5 and sha256 of everything readable from fd (read from offset 0 with
 * pread, so the fd's position is left alone).  Returns 0 or -errno. */
int digest_fd(int fd, struct digest_val *ret);

/* Lower-case hex of n bytes into out (size ≥ 2n+1). */
void digest_hex(const uint8_t *b, size_t n, char *out);

struct digest_cache;

/* A cache backed by `path` ("" or NULL: in memory only).  Loading problems
 * (missing, unsafe, corrupt) are not errors: the cache starts empty.
 * Returns 0 or -ENOMEM. */
int digest_cache_new(const char *path, struct digest_cache **ret);
/* Write new entries back (atomically, via rename) when anything changed and
 * the location was judged safe.  Returns 0 or -errno. */
int digest_cache_save(struct digest_cache *c);
void digest_cache_free(struct digest_cache *c);

/* *ret_from_file (may be NULL): the entry came from the cache file (an
 * earlier run), not from this run. */
bool digest_cache_get(struct digest_cache *c, const struct digest_key *k, struct digest_val *ret, bool *ret_from_file);
/* hashed_at_ns: wall-clock time when the hash began (for the racy rule). */
int digest_cache_put(struct digest_cache *c, const struct digest_key *k, const struct digest_val *v,
		     uint64_t hashed_at_ns);

bool digest_cache_owner_get(struct digest_cache *c, const struct digest_key *k, uint64_t pathhash, uint64_t gen,
			    struct digest_owner *ret);
int digest_cache_owner_put(struct digest_cache *c, const struct digest_key *k, uint64_t pathhash, uint64_t gen,
			   const struct digest_owner *v, uint64_t looked_at_ns);

/* Parse cache file contents with the given 32-byte key into c (entries
 * whose HMAC fails are dropped).  Returns the number accepted, or -EINVAL
 * for a bad header.  Exposed for tests and fuzzing. */
int digest_cache_parse(struct digest_cache *c, const uint8_t *buf, size_t len, const uint8_t key[32]);
/* Number of entries held (memory and file), and how many the last parse
 * rejected. */
size_t digest_cache_count(const struct digest_cache *c);
unsigned digest_cache_rejected(const struct digest_cache *c);
/* Serialise (header + entries) with key; *ret malloc'd.  For tests. */
int digest_cache_serialize(struct digest_cache *c, const uint8_t key[32], uint8_t **ret, size_t *ret_len);

#endif
