/* libFuzzer: the escaping function must always produce valid UTF-8 free of
 * control characters, in both modes, and never overrun a fixed buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "render/escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int m = 0; m < 2; m++) {
		struct owl_buf b;
		owl_buf_init(&b);
		owl_escape(&b, (const char *)data, size, m ? OWL_ESC_JSON : OWL_ESC_TEXT);
		for (size_t i = 0; i < b.len; i++) {
			unsigned char c = (unsigned char)b.data[i];
			if (c < 0x20 || c == 0x7f)
				abort();
		}
		/* re-escaping escaped text changes only backslashes */
		size_t w = owl_display_width(owl_buf_str(&b), b.len);
		if (owl_display_prefix(owl_buf_str(&b), b.len, w) != b.len)
			abort();
		owl_buf_free(&b);
		char small[17];
		size_t n = owl_escape_to(small, sizeof(small), (const char *)data, size, m ? OWL_ESC_JSON : OWL_ESC_TEXT);
		if (n >= sizeof(small) || small[n] != '\0')
			abort();
	}
	return 0;
}
