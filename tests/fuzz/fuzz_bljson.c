/* libFuzzer: the baseline JSON-lines reader (owl baseline import), and the
 * writer on whatever it accepted (write → parse must give the entry back). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/bljson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct baseline_entry e, back;
	const char *why = NULL;
	char detail[256];
	if (size > BLJSON_LINE_MAX)
		return 0;
	if (baseline_json_parse((const char *)data, size, &e, &why, detail, sizeof(detail)) != 0)
		return 0;
	struct baseline_rule r;
	baseline_rule_view(&e, &r);
	struct owl_buf b;
	owl_buf_init(&b);
	baseline_json_write(&b, &r, false);
	if (b.len && baseline_json_parse(b.data, b.len - 1, &back, &why, detail, sizeof(detail)) == 0) {
		/* what was accepted must come back unchanged */
		if (strcmp(back.note, e.note) || strcmp(back.exe, e.exe) || strcmp(back.dest, e.dest) ||
		    back.port_lo != e.port_lo || back.port_hi != e.port_hi || back.count != e.count)
			abort();
	}
	owl_buf_free(&b);
	return 0;
}
