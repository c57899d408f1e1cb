/* A string → uint32_t map whose keys live in its own arena (verify's path
 * and package tables).  Keys are byte strings of any content. */
#ifndef OWL_VERIFY_STRMAP_H
#define OWL_VERIFY_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vstrmap {
	uint64_t *slots;        /* hash << 32 | (entry index + 1), 0 = empty; cap is a power of two.
				 * The hash beside the index: a probe that passes a different key
				 * does not touch the entry (a cache miss per probe otherwise). */
	size_t cap;
	struct vstrmap_ent { uint32_t off, len, val; uint32_t hash; } *ents;
	size_t n, ecap;
	char *arena;
	size_t alen, acap;
};

void vstrmap_init(struct vstrmap *m);
void vstrmap_free(struct vstrmap *m);
/* Insert key (or find it).  *ret_ent gets the entry index, *ret_new whether
 * it was inserted (then its value is val).  Returns 0 or -ENOMEM (map
 * unaltered) / -E2BIG (arena over 4 GiB). */
int vstrmap_put(struct vstrmap *m, const char *key, size_t len, uint32_t val, uint32_t *ret_ent, bool *ret_new);
/* Returns true and the value when found. */
bool vstrmap_get(const struct vstrmap *m, const char *key, size_t len, uint32_t *ret_val);
/* The key of entry i (not NUL-terminated) and its length. */
const char *vstrmap_key(const struct vstrmap *m, uint32_t i, size_t *ret_len);
/* 32-bit hash of a byte string, 8 bytes at a time (paths are long). */
uint32_t vstrmap_hash(const char *s, size_t n);

#endif
