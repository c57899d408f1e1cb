/* The one escaping function: hostile strings must come out inert. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "render/escape.h"

struct esc_case {
	const char *in;
	size_t len;            /* 0 = strlen(in) */
	const char *text;      /* expected in TEXT mode */
	const char *json;      /* expected in JSON mode */
};

static const struct esc_case cases[] = {
	{"nginx", 0, "nginx", "nginx"},
	{"a b", 0, "a b", "a b"},
	{"back\\slash", 0, "back\\\\slash", "back\\\\\\\\slash"}, /* doubled, in JSON too */
	{"lit\\xff", 0, "lit\\\\xff", "lit\\\\\\\\xff"},       /* the text \xff is not the byte */
	{"q\"uote", 0, "q\"uote", "q\\\"uote"},
	{"line\nbreak", 0, "line\\nbreak", "line\\nbreak"},
	{"tab\there", 0, "tab\\there", "tab\\there"},
	{"\x1b[2J\x1b[Hclear", 0, "\\x1b[2J\\x1b[Hclear", "\\u001b[2J\\u001b[Hclear"},
	{"bell\a", 0, "bell\\x07", "bell\\u0007"},
	{"del\x7f", 0, "del\\x7f", "del\\u007f"},
	{"nul\0x", 5, "nul\\x00x", "nul\\u0000x"},
	{"caf\xc3\xa9", 0, "caf\xc3\xa9", "caf\xc3\xa9"},                    /* valid UTF-8 stays */
	{"bad\xff", 0, "bad\\xff", "bad\\\\xff"},                           /* invalid byte */
	{"\xc3", 0, "\\xc3", "\\\\xc3"},                                      /* truncated sequence */
	{"\xc0\xaf", 0, "\\xc0\\xaf", "\\\\xc0\\\\xaf"},                     /* overlong '/' */
	{"\xed\xa0\x80", 0, "\\xed\\xa0\\x80", "\\\\xed\\\\xa0\\\\x80"},   /* surrogate */
	{"evil\xe2\x80\xaegnp.exe", 0, "evil\\u{202e}gnp.exe", "evil\\\\u{202e}gnp.exe"}, /* RLO */
	{"zero\xe2\x80\x8bwidth", 0, "zero\\u{200b}width", "zero\\\\u{200b}width"},
	{"c1\xc2\x9b" "31m", 0, "c1\\u{009b}31m", "c1\\\\u{009b}31m"},     /* C1 CSI */
	{"[kworker/0:1]", 0, "[kworker/0:1]", "[kworker/0:1]"},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct esc_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		struct owl_buf b;
		owl_buf_init(&b);
		owl_escape(&b, c->in, len, OWL_ESC_TEXT);
		assert_string_equal(owl_buf_str(&b), c->text);
		owl_buf_reset(&b);
		owl_escape(&b, c->in, len, OWL_ESC_JSON);
		assert_string_equal(owl_buf_str(&b), c->json);
		owl_buf_free(&b);
	}
}

/* Whatever the input, the output holds no control byte and no invalid UTF-8. */
static void test_every_byte(void **state)
{
	(void)state;
	char in[4];
	for (int a = 0; a < 256; a++) {
		for (int m = 0; m < 2; m++) {
			in[0] = (char)a;
			in[1] = (char)0x9b;
			in[2] = 'x';
			struct owl_buf b;
			owl_buf_init(&b);
			owl_escape(&b, in, 3, m ? OWL_ESC_JSON : OWL_ESC_TEXT);
			for (size_t i = 0; i < b.len; i++) {
				unsigned char ch = (unsigned char)b.data[i];
				assert_false(ch < 0x20 || ch == 0x7f);
			}
			owl_buf_free(&b);
		}
	}
}

static void test_fixed_buffer_cuts_on_boundary(void **state)
{
	(void)state;
	char out[6];
	/* "ééé" is 6 bytes: only two fit in 5 bytes + NUL */
	size_t n = owl_escape_to(out, sizeof(out), "\xc3\xa9\xc3\xa9\xc3\xa9", 6, OWL_ESC_TEXT);
	assert_int_equal(n, 4);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9");
}

static void test_display_width(void **state)
{
	(void)state;
	assert_int_equal(owl_display_width("abc", 3), 3);
	assert_int_equal(owl_display_width("\xc3\xa9", 2), 1);
	assert_int_equal(owl_display_width("\xe4\xb8\xad", 3), 2); /* CJK is wide */
	assert_int_equal(owl_display_prefix("abcdef", 6, 3), 3);
	assert_int_equal(owl_display_prefix("\xe4\xb8\xad\xe4\xb8\xad", 6, 3), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_fixed_buffer_cuts_on_boundary),
		cmocka_unit_test(test_display_width),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
