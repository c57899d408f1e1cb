/* Beacon scoring: are these connection times a program checking in at a
 * regular period?  After RITA's beacon analysis (Active Countermeasures),
 * adapted to a live stream of one (program, endpoint) pair:
 *
 *   intervals  d_i = t_{i+1} - t_i of the last BEACON_KEEP connection starts
 *   skew       1 - |Bowley skewness| = 1 - |(Q1 + Q3 - 2 Q2) / (Q3 - Q1)|
 *              (1 when Q3 == Q1: all intervals alike)
 *   madm       1 - MADM / Q2, the median absolute deviation about the median
 *              relative to the period (RITA uses an absolute 30 s; relative
 *              keeps short periods comparable), clamped to [0, 1]
 *   count      connections seen / connections the span should hold:
 *              min(1, n / (span / Q2 + 1)), low when beats are missing
 *   duration   min(1, span / (BEACON_DURATION_PERIODS * Q2)): how long the
 *              pattern has lasted, in periods
 *   score      the mean of the four.
 *
 * A pair is reported as beaconing when it has at least BEACON_MIN_CONNS
 * connections, a period (Q2) of at least BEACON_MIN_PERIOD_S, and a score of
 * at least BEACON_THRESHOLD.  With these values a steady 2 s beacon fires at
 * its 6th connection (10 s: skew 1, madm 1, count 1, duration 0.5 → 0.875),
 * a 60 s one after 5 minutes; 20% random jitter lowers madm and skew and
 * delays it by a few beats. */
#ifndef OWL_TRACE_BEACON_H
#define OWL_TRACE_BEACON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BEACON_KEEP 32
#define BEACON_MIN_CONNS 6
#define BEACON_MIN_PERIOD_S 1.0
#define BEACON_DURATION_PERIODS 10.0
#define BEACON_THRESHOLD 0.8

struct beacon_score {
	double skew, madm, count, duration, score;
	double period_s;  /* Q2 of the intervals */
	uint32_t conns;   /* connection times scored */
	double span_s;
	bool beaconing;   /* the thresholds above are met */
};

/* Score n connection start times (ns, ascending; n <= BEACON_KEEP).
 * Returns 0, or -EINVAL with fewer than 3 times. */
int beacon_score(const uint64_t *ts_ns, size_t n, struct beacon_score *ret);

/* The last BEACON_KEEP connection times of one pair. */
struct beacon_ring {
	uint64_t ts[BEACON_KEEP];
	uint32_t n, head;
};

void beacon_ring_push(struct beacon_ring *r, uint64_t ts_ns);
/* Copy the ring in time order into out[BEACON_KEEP]; returns the count. */
size_t beacon_ring_times(const struct beacon_ring *r, uint64_t *out);

#endif
