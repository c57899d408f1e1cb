#include "trace/beacon.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Quantile of sorted v[0..n) by linear interpolation (numpy's default). */
static double quantile(const double *v, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t i = (size_t)pos;
	double frac = pos - (double)i;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (v[i + 1] - v[i]) * frac;
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

int beacon_score(const uint64_t *ts, size_t n, struct beacon_score *ret)
{
	double d[BEACON_KEEP], dev[BEACON_KEEP];
	if (n < 3 || n > BEACON_KEEP)
		return -EINVAL;
	size_t m = n - 1;
	for (size_t i = 0; i < m; i++)
		d[i] = ts[i + 1] > ts[i] ? (double)(ts[i + 1] - ts[i]) / 1e9 : 0;
	qsort(d, m, sizeof(*d), cmp_double);
	double q1 = quantile(d, m, 0.25), q2 = quantile(d, m, 0.5), q3 = quantile(d, m, 0.75);
	struct beacon_score s = {0};
	s.conns = (uint32_t)n;
	s.period_s = q2;
	s.span_s = ts[n - 1] > ts[0] ? (double)(ts[n - 1] - ts[0]) / 1e9 : 0;
	/* a spread below 1% of the period is clock noise, not skew */
	if (q3 - q1 <= q2 * 0.01)
		s.skew = 1.0;
	else
		s.skew = clamp01(1.0 - fabs((q1 + q3 - 2 * q2) / (q3 - q1)));
	for (size_t i = 0; i < m; i++)
		dev[i] = fabs(d[i] - q2);
	qsort(dev, m, sizeof(*dev), cmp_double);
	double madm = quantile(dev, m, 0.5);
	s.madm = q2 > 0 ? clamp01(1.0 - madm / q2) : 0;
	s.count = q2 > 0 ? clamp01((double)n / (s.span_s / q2 + 1.0)) : 0;
	s.duration = q2 > 0 ? clamp01(s.span_s / (BEACON_DURATION_PERIODS * q2)) : 0;
	s.score = (s.skew + s.madm + s.count + s.duration) / 4.0;
	s.beaconing = n >= BEACON_MIN_CONNS && q2 >= BEACON_MIN_PERIOD_S && s.score >= BEACON_THRESHOLD;
	*ret = s;
	return 0;
}

void beacon_ring_push(struct beacon_ring *r, uint64_t ts_ns)
{
	r->ts[r->head] = ts_ns;
	r->head = (r->head + 1) % BEACON_KEEP;
	if (r->n < BEACON_KEEP)
		r->n++;
}

size_t beacon_ring_times(const struct beacon_ring *r, uint64_t *out)
{
	uint32_t start = (r->head + BEACON_KEEP - r->n) % BEACON_KEEP;
	for (uint32_t i = 0; i < r->n; i++)
		out[i] = r->ts[(start + i) % BEACON_KEEP];
	return r->n;
}
