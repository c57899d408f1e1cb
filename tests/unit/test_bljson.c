/* Baseline JSON lines: what export writes, import reads back the same; and
 * every kind of bad line is refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"
#include "store/bljson.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"

static void test_round_trip(void **s)
{
	static struct baseline_entry e, back;
	memset(&e, 0, sizeof(e));
	e.kind = BASELINE_ALLOWED;
	strcpy(e.exe, "/opt/vendor/bin/agent \"quoted\" \\ back");
	strcpy(e.package, "vendor-agent");
	strcpy(e.digest, D1);
	strcpy(e.user, "svc");
	strcpy(e.unit, "vendor.service");
	strcpy(e.container, "");
	assert_int_equal(baseline_parse_dest("2001:db8:6::/48", &e), 0);
	e.port_lo = 8000;
	e.port_hi = 8100;
	strcpy(e.transport, "tcp");
	strcpy(e.note, "CHG-42: Müller's uplink ✓, tab\there, \xe2\x80\xae reversed, \x1b[2J");
	strcpy(e.host, "web-1.example");
	e.first_seen = 1700000000;
	e.last_seen = 1700000500;
	e.count = 7;
	struct baseline_rule r;
	baseline_rule_view(&e, &r);
	struct owl_buf b;
	owl_buf_init(&b);
	baseline_json_write(&b, &r, false);
	assert_true(b.len > 0 && b.data[b.len - 1] == '\n');
	/* ASCII only, one line: nothing in it can move a terminal's cursor */
	for (size_t i = 0; i + 1 < b.len; i++)
		assert_true(b.data[i] >= 0x20 && b.data[i] < 0x7f);
	assert_non_null(strstr(b.data, "\\u202E"));
	assert_non_null(strstr(b.data, "\\u001B"));
	const char *why = NULL;
	char detail[256];
	assert_int_equal(baseline_json_parse(b.data, b.len - 1, &back, &why, detail, sizeof(detail)), 0);
	assert_int_equal(back.kind, e.kind);
	assert_string_equal(back.exe, e.exe);
	assert_string_equal(back.package, e.package);
	assert_string_equal(back.digest, e.digest);
	assert_string_equal(back.user, e.user);
	assert_string_equal(back.unit, e.unit);
	assert_string_equal(back.dest, "2001:db8:6::/48");
	assert_int_equal(back.prefix, 48);
	assert_int_equal(back.port_lo, 8000);
	assert_int_equal(back.port_hi, 8100);
	assert_string_equal(back.transport, "tcp");
	assert_string_equal(back.note, e.note);
	assert_string_equal(back.host, e.host);
	assert_int_equal(back.first_seen, e.first_seen);
	assert_int_equal(back.last_seen, e.last_seen);
	assert_int_equal(back.count, 7);
	owl_buf_free(&b);
}

static const struct {
	const char *line;
	const char *why; /* substring */
} bad[] = {
	{"", "not JSON"},
	{"{", "not JSON"},
	{"[1]", "not a JSON object"},
	{"{\"kind\":\"allowed\",\"kind\":\"learned\"}", "not JSON"}, /* duplicate key */
	{"{\"kind\":\"maybe\",\"executable\":\"/x\",\"sha256\":\"" D1 "\",\"note\":\"n\",\"host\":\"h\",\"first_seen\":1,\"last_seen\":1,\"count\":1}", "kind is learned or allowed"},
	{"{\"kind\":\"allowed\",\"exe\":\"/x\"}", "unknown field \"exe\""},
	{"{\"kind\":\"allowed\",\"executable\":7,\"host\":\"h\",\"first_seen\":1,\"last_seen\":1,\"count\":1}", "should be a string"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\",\"host\":\"h\",\"first_seen\":\"1\",\"last_seen\":1,\"count\":1}", "non-negative integers"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\",\"host\":\"h\",\"first_seen\":-1,\"last_seen\":1,\"count\":1}", "non-negative integers"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\",\"host\":\"h\",\"last_seen\":1,\"count\":1}", "missing a required field"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\",\"first_seen\":1,\"last_seen\":1,\"count\":1,\"note\":\"n\",\"sha256\":\"" D1 "\"}", "missing a required field"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\",\"sha256\":\"" D1 "\",\"note\":\"n\",\"host\":\"h\",\"first_seen\":5,\"last_seen\":1,\"count\":1}", "first_seen is after last_seen"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\",\"sha256\":\"" D1 "\",\"note\":\"n\",\"host\":\"h\",\"destination\":\"10.0.0.0/40\",\"first_seen\":1,\"last_seen\":1,\"count\":1}", "destination is not"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\",\"sha256\":\"" D1 "\",\"note\":\"n\",\"host\":\"h\",\"ports\":\"99999\",\"first_seen\":1,\"last_seen\":1,\"count\":1}", "ports is not"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\",\"sha256\":\"" D1 "\",\"host\":\"h\",\"first_seen\":1,\"last_seen\":1,\"count\":1}", "needs a note"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\",\"sha256\":\"ABC\",\"note\":\"n\",\"host\":\"h\",\"first_seen\":1,\"last_seen\":1,\"count\":1}", "digest must be"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\",\"sha256\":\"" D1 "\",\"note\":\"n\",\"host\":\"h\",\"transport\":\"sctp\",\"first_seen\":1,\"last_seen\":1,\"count\":1}", "transport must be"},
	{"{\"kind\":\"allowed\",\"executable\":\"/x\\u0000y\",\"sha256\":\"" D1 "\",\"note\":\"n\",\"host\":\"h\",\"first_seen\":1,\"last_seen\":1,\"count\":1}", "not JSON"}, /* NUL refused by the reader */
};

static void test_bad_lines(void **s)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		static struct baseline_entry e;
		const char *why = NULL;
		char detail[256];
		int rc = baseline_json_parse(bad[i].line, strlen(bad[i].line), &e, &why, detail, sizeof(detail));
		if (rc != -EINVAL || !why || !strstr(why, bad[i].why)) {
			print_error("case %zu: rc %d why '%s', want '%s'\n", i, rc, why ? why : "(null)", bad[i].why);
			fail();
		}
	}
}

static void test_too_long_field(void **s)
{
	static char line[BL_NOTE_MAX + 512];
	static struct baseline_entry e;
	int n = snprintf(line, sizeof(line), "{\"kind\":\"allowed\",\"executable\":\"/x\",\"sha256\":\"" D1 "\",\"host\":\"h\","
					     "\"first_seen\":1,\"last_seen\":1,\"count\":1,\"note\":\"");
	memset(line + n, 'n', BL_NOTE_MAX);
	strcpy(line + n + BL_NOTE_MAX, "\"}");
	const char *why = NULL;
	char detail[256];
	assert_int_equal(baseline_json_parse(line, strlen(line), &e, &why, detail, sizeof(detail)), -EINVAL);
	assert_non_null(strstr(why, "too long"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_too_long_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
