/* A longest-prefix-match trie for IPv4 or IPv6 prefixes (threat-intel lists).
 *
 * The top 16 bits index a direct table of 65,536 buckets; under each bucket
 * is a path-compressed binary (PATRICIA) trie of the prefixes of length
 * >= 16, and prefixes shorter than 16 bits are pushed down into the buckets
 * they cover.  So a lookup costs one table read plus a few node visits,
 * whatever the number of prefixes, and memory is at most two nodes per
 * prefix.  Keys are 128-bit; IPv4 uses the top 32. */
#ifndef OWL_ENDPOINT_IPTRIE_H
#define OWL_ENDPOINT_IPTRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPTRIE_NONE UINT32_MAX
#define IPTRIE_SHORT_SEEN_BYTES (65536 / 8)

struct iptrie_key {
	uint64_t hi, lo;
};

struct iptrie_node;
struct iptrie_short;

struct iptrie {
	unsigned maxlen;               /* 32 or 128 */
	struct iptrie_node *nodes;     /* nodes[0] unused: index 0 means "none" */
	uint32_t nnodes, cap;
	uint32_t *bucket;              /* 65536 subtrie roots */
	uint32_t *bucket_short;        /* 65536 indexes into shorts, or IPTRIE_NONE */
	struct iptrie_short *shorts;   /* prefixes shorter than 16 bits */
	uint32_t nshorts, shorts_cap;
	uint8_t short_seen[IPTRIE_SHORT_SEEN_BYTES]; /* which short prefixes exist */
	size_t nprefixes;
};

/* What a lookup matched: the prefix and the value stored with it. */
struct iptrie_match {
	struct iptrie_key key;
	unsigned plen;
	uint32_t val;
};

/* maxlen: 32 (IPv4) or 128 (IPv6).  Returns 0 or -ENOMEM / -EINVAL. */
int iptrie_init(struct iptrie *t, unsigned maxlen);
/* Frees everything; accepts a zeroed or already freed trie. */
void iptrie_free(struct iptrie *t);

/* Key from network-order address bytes (4 or 16 of them, per maxlen). */
struct iptrie_key iptrie_key_from(const uint8_t *bytes, unsigned maxlen);
/* Network-order bytes of a key (4 or 16). */
void iptrie_key_bytes(struct iptrie_key k, unsigned maxlen, uint8_t *ret);

/* Insert prefix key/plen (host bits are cleared) with value val
 * (< IPTRIE_NONE).  Returns 0, -EEXIST when that exact prefix is already
 * present (its first value is kept), -EINVAL for a bad plen or val, or
 * -ENOMEM (trie unaltered). */
int iptrie_insert(struct iptrie *t, struct iptrie_key key, unsigned plen, uint32_t val);

/* Longest prefix containing key.  Returns true and fills *ret when one
 * matches. */
bool iptrie_lookup(const struct iptrie *t, struct iptrie_key key, struct iptrie_match *ret);

#endif
