/* Beacon scoring (src/trace/beacon.c): regular check-ins score high and are
 * reported; irregular, sparse or sub-second traffic is not. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "trace/beacon.h"

#define S 1000000000ULL

struct beacon_case {
	const char *what;
	double period;          /* seconds between connections */
	double jitter;          /* +- fraction of the period, deterministic pattern */
	int n;                  /* connections */
	int skip_every;         /* drop every k-th beat (0 = none) */
	bool want;              /* reported as beaconing */
};

static const struct beacon_case cases[] = {
	{"steady 2 s, 6 connections (10 s)", 2.0, 0, 6, 0, true},
	{"steady 2 s, 5 connections: too few", 2.0, 0, 5, 0, false},
	{"steady 1 s, 12 connections", 1.0, 0, 12, 0, true},
	{"steady 60 s, 8 connections", 60.0, 0, 8, 0, true},
	{"2 s with 10% jitter, 10 connections", 2.0, 0.10, 10, 0, true},
	{"2 s with 90% jitter: not regular", 2.0, 0.90, 20, 0, false},
	{"0.2 s: below the 1 s period floor", 0.2, 0, 30, 0, false},
	{"2 s with every other beat missing", 2.0, 0, 16, 2, true},
};

/* a fixed jitter pattern so the test cannot flake */
static const double pattern[] = {0.9, -0.7, 0.3, -1.0, 0.6, -0.2, 1.0, -0.5, 0.1, -0.8, 0.4, -0.3};

static size_t make_times(const struct beacon_case *c, uint64_t *ts)
{
	size_t n = 0;
	double t = 1000.0;
	for (int i = 0; i < c->n && n < BEACON_KEEP; i++) {
		double j = c->jitter * c->period * pattern[i % 12];
		if (!c->skip_every || i % c->skip_every)
			ts[n++] = (uint64_t)((t + j) * S);
		t += c->period;
	}
	return n;
}

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ts[BEACON_KEEP];
		struct beacon_score s;
		size_t n = make_times(&cases[i], ts);
		assert_int_equal(beacon_score(ts, n, &s), 0);
		if (s.beaconing != cases[i].want)
			fail_msg("%s: beaconing=%d score=%.3f (skew %.2f madm %.2f count %.2f duration %.2f) period %.2f",
				 cases[i].what, s.beaconing, s.score, s.skew, s.madm, s.count, s.duration, s.period_s);
	}
}

static void test_steady_scores(void **state)
{
	const struct beacon_case c = {"", 2.0, 0, 6, 0, true};
	uint64_t ts[BEACON_KEEP];
	struct beacon_score s;
	size_t n = make_times(&c, ts);
	assert_int_equal(beacon_score(ts, n, &s), 0);
	assert_true(s.skew > 0.999 && s.madm > 0.999 && s.count > 0.999);
	assert_true(s.duration > 0.499 && s.duration < 0.501);
	assert_true(s.score > 0.874 && s.score < 0.876);
	assert_true(s.period_s > 1.999 && s.period_s < 2.001);
	assert_int_equal(s.conns, 6);
}

static void test_missing_beats_lower_count(void **state)
{
	const struct beacon_case full = {"", 2.0, 0, 16, 0, true}, gappy = {"", 2.0, 0, 16, 3, true};
	uint64_t ts[BEACON_KEEP];
	struct beacon_score a, b;
	assert_int_equal(beacon_score(ts, make_times(&full, ts), &a), 0);
	assert_int_equal(beacon_score(ts, make_times(&gappy, ts), &b), 0);
	assert_true(b.count < a.count);
	assert_true(b.score < a.score);
}

static void test_too_few_and_ring(void **state)
{
	uint64_t ts[BEACON_KEEP] = {1, 2};
	struct beacon_score s;
	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(beacon_score(ts, 2, &s), -EINVAL);
	assert_int_equal(beacon_score(ts, BEACON_KEEP + 1, &s), -EINVAL);

	struct beacon_ring r;
	memset(&r, 0, sizeof(r));
	for (uint64_t i = 0; i < BEACON_KEEP + 5; i++)
		beacon_ring_push(&r, i * S);
	uint64_t out[BEACON_KEEP];
	assert_int_equal(beacon_ring_times(&r, out), BEACON_KEEP);
	assert_int_equal(out[0], 5 * S); /* the oldest kept */
	assert_int_equal(out[BEACON_KEEP - 1], (BEACON_KEEP + 4) * S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_steady_scores),
		cmocka_unit_test(test_missing_beats_lower_count),
		cmocka_unit_test(test_too_few_and_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
