/* libFuzzer: the common-cause catalogue parser (and matching what it
 * loaded), plus the baseline's destination and port parsers on the same
 * bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "judge/catalogue.h"
#include "store/baseline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalogue c;
	cat_init(&c);
	/* twice: the second pass replaces or duplicates every entry */
	cat_parse(&c, "fuzz", (const char *)data, size, false);
	cat_parse(&c, "fuzz2", (const char *)data, size, true);
	struct owl_addr a;
	owl_addr_parse("198.51.100.7", &a);
	for (size_t i = 0; i < c.n; i++) {
		const struct cat_entry *e = &c.e[i];
		const char *exe = e->nexes ? e->exes[0] : "";
		const char *pkg = e->npackages ? e->packages[0] : "";
		const char *dom = e->ndomains ? e->domains[0] : NULL;
		uint16_t port = e->nports ? e->ports[0].lo : 0;
		cat_match(&c, exe, pkg, "tcp", port, cat_scope_of(&a), dom);
		cat_match(&c, exe, pkg, "udp", port, CAT_SCOPE_PUBLIC, "x.example.com");
	}
	cat_free(&c);

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct baseline_entry *e = calloc(1, sizeof(*e));
	if (e) {
		if (baseline_parse_dest(s, e) == 0 && e->dest_type == BL_DEST_DOMAIN) {
			struct baseline_identity id = {.exe = "/x", .package = "", .digest = "", .user = "", .unit = "",
						       .container = ""};
			struct baseline_dest d = {.addr = a, .port = 1, .transport = "tcp", .domain = s};
			struct baseline_rule r;
			baseline_rule_view(e, &r);
			baseline_rule_matches(&r, &id, &d);
		}
		baseline_parse_ports(s, &e->port_lo, &e->port_hi);
		free(e);
	}
	free(s);
	return 0;
}
