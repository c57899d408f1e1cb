/* libFuzzer: `nft -j list table inet owl` output (act/nftblock). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "act/nftblock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct owl_vec v;
	owl_vec_init(&v, sizeof(struct block_entry));
	int n = nftblock_parse_json((const char *)data, size, &v);
	struct owl_addr a = {.family = 2, .bytes = {192, 0, 2, 1}};
	for (int i = 0; i < n; i++) {
		const struct block_entry *e = OWL_VEC_AT(&v, struct block_entry, i);
		if (strnlen(e->dest, sizeof(e->dest)) == sizeof(e->dest))
			__builtin_trap();
		block_entry_covers(e, &a);
	}
	owl_vec_free(&v);
	return 0;
}
