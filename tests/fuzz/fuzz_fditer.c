/* libFuzzer: the BPF iterator's record stream (fdmap_from_records), with
 * and without a `want` set.  Checks the map's chains: each inode's owners
 * in strictly ascending pid order, every chain ends. */
#include <stdint.h>
#include <stdlib.h>

#include "attribute/fdmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct fdmap *m)
{
	for (size_t i = 0; i < m->head.cap; i++) {
		if (!m->head.slots[i].key)
			continue;
		uint32_t j = m->head.slots[i].val;
		size_t steps = 0;
		uint32_t last = 0;
		for (; j != UINT32_MAX; j = m->owners[j].next) {
			if (j >= m->nowners || ++steps > m->nowners || (steps > 1 && m->owners[j].pid <= last))
				abort();
			last = m->owners[j].pid;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fdmap m;
	if (fdmap_from_records(&m, data, size, NULL) == 0) {
		check(&m);
		fdmap_free(&m);
	}
	struct owl_u64map want;
	if (owl_u64map_init(&want, 8) < 0)
		return 0;
	for (uint64_t ino = 1; ino < 64; ino += 3)
		owl_u64map_put(&want, ino, 0);
	if (fdmap_from_records(&m, data, size, &want) == 0) {
		check(&m);
		fdmap_free(&m);
	}
	owl_u64map_free(&want);
	return 0;
}
