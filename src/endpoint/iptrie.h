/* A longest-prefix-match table for IPv4 or IPv6 prefixes (threat-intel
 * lists), built once, looked up many times.
 *
 * Prefixes are collected, sorted and de-duplicated, then pushed down into a
 * multibit trie with strides 16 and 8: a direct table of 65,536 first-level
 * nodes (the top 16 bits), a 256-way second-level node under each dense
 * first-level node, and range-compressed leaves (the sorted starts of the
 * disjoint address ranges that the nested prefixes cut the space into, each
 * naming its longest prefix).  A lookup is two table reads and a short
 * binary search, whatever the number of prefixes: no per-prefix pointer
 * chasing.  Keys are 128-bit, IPv4 in the top 32. */
#ifndef OWL_ENDPOINT_IPTRIE_H
#define OWL_ENDPOINT_IPTRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPTRIE_NONE UINT32_MAX

struct iptrie_key {
	uint64_t hi, lo;
};

struct iptrie_pfx;

/* Addresses from start up to the next range's start have as their longest
 * prefix the one of length plen containing start, with value val
 * (IPTRIE_NONE: no prefix). */
struct iptrie_range {
	struct iptrie_key start;
	uint32_t val;
	uint8_t plen;
};

struct iptrie {
	unsigned maxlen;               /* 32 or 128 */
	struct iptrie_pfx *pfx;        /* inserted prefixes; after build: sorted, unique */
	size_t npfx, cap;
	size_t nprefixes;              /* distinct prefixes (after build) */
	bool built;
	/* the built table */
	struct iptrie_range *ranges;   /* ascending starts */
	size_t nranges;
	uint32_t *first;               /* 65537: first range starting at or after each 16-bit node */
	uint32_t *sub;                 /* 65536: second-level node index, or IPTRIE_NONE */
	uint32_t *subs;                /* second-level nodes, 257 entries each */
	size_t nsubs;
};

/* What a lookup matched: the prefix and the value stored with it. */
struct iptrie_match {
	struct iptrie_key key;
	unsigned plen;
	uint32_t val;
};

/* maxlen: 32 (IPv4) or 128 (IPv6).  Returns 0 or -EINVAL. */
int iptrie_init(struct iptrie *t, unsigned maxlen);
/* Frees everything; accepts a zeroed or already freed trie. */
void iptrie_free(struct iptrie *t);

/* Key from network-order address bytes (4 or 16 of them, per maxlen). */
struct iptrie_key iptrie_key_from(const uint8_t *bytes, unsigned maxlen);
/* Network-order bytes of a key (4 or 16). */
void iptrie_key_bytes(struct iptrie_key k, unsigned maxlen, uint8_t *ret);

/* Add prefix key/plen (host bits are cleared) with value val
 * (< IPTRIE_NONE).  Takes effect at the next iptrie_build().  Returns 0,
 * -EINVAL for a bad plen or val, or -ENOMEM (trie unaltered). */
int iptrie_insert(struct iptrie *t, struct iptrie_key key, unsigned plen, uint32_t val);

/* Build the lookup table from everything inserted so far.  A prefix
 * inserted more than once keeps its first value; on_dup (may be NULL) is
 * called with the value of every later copy.  Returns 0 or -ENOMEM (the
 * previous table, if any, stays). */
int iptrie_build(struct iptrie *t, void (*on_dup)(void *arg, uint32_t val), void *arg);

/* Longest prefix containing key (in the last build).  Returns true and
 * fills *ret when one matches. */
bool iptrie_lookup(const struct iptrie *t, struct iptrie_key key, struct iptrie_match *ret);

#endif
