/* An open-addressing hash map from a non-zero uint64_t key to a uint32_t
 * value (typically an index into an array).  Key 0 is reserved as empty. */
#ifndef OWL_HASHMAP_H
#define OWL_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* key and value side by side: a lookup costs one cache miss, not two */
struct owl_u64slot {
	uint64_t key;
	uint32_t val;
} __attribute__((packed));

struct owl_u64map {
	struct owl_u64slot *slots;
	size_t cap, n; /* cap is a power of two */
};

/* Size the map for about `expect` keys.  Returns 0 or -ENOMEM. */
int owl_u64map_init(struct owl_u64map *m, size_t expect);
void owl_u64map_free(struct owl_u64map *m);
/* Insert or overwrite.  Returns 0, -EINVAL for key 0, or -ENOMEM (map unaltered). */
int owl_u64map_put(struct owl_u64map *m, uint64_t key, uint32_t val);
/* Returns true and sets *ret when found. */
bool owl_u64map_get(const struct owl_u64map *m, uint64_t key, uint32_t *ret);

#endif
