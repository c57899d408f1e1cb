/* DNS answers: a bounded parser for response messages, and a cache that
 * remembers, per process, which name an address was the answer for. */
#ifndef OWL_TRACE_DNS_H
#define OWL_TRACE_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

#define DNS_NAME_MAX 256 /* 253 characters of a name + NUL, with room */
#define DNS_ANSWERS_MAX 32

struct dns_answer {
	char name[DNS_NAME_MAX];  /* the name the question asked for (not the CNAME target) */
	struct owl_addr addr;     /* from an A or AAAA record */
	uint32_t ttl;
};

/* Parse a DNS response message msg[0..len).  Up to max A/AAAA answers go to
 * ret[], each labelled with the first question's name (so an answer reached
 * through CNAMEs still carries the name the program asked for); *ret_n gets
 * their number.  Names are dotted, lower-case, without the final dot, and may
 * hold any byte except NUL (escape them before printing).  Compression
 * pointers are followed at most 32 times and only backwards.  Returns 0,
 * -EINVAL for anything that is not a well-formed response (a query, a
 * truncated message, a loop); *ret_n untouched on failure. */
int dns_parse_response(const uint8_t *msg, size_t len, struct dns_answer *ret, size_t max, size_t *ret_n);

/* name → address memory, per process (tgid) and per network namespace. */
struct dns_cache;

int dns_cache_new(size_t slots, struct dns_cache **ret);
void dns_cache_free(struct dns_cache *c);
/* Remember that process tgid in netns got addr for name, until now + ttl
 * (clamped to [min_ttl_s, max_ttl_s]). */
void dns_cache_put(struct dns_cache *c, uint32_t tgid, uint64_t netns, const struct dns_answer *a, uint64_t now_ns,
		   uint32_t min_ttl_s, uint32_t max_ttl_s);
/* The name process tgid asked for that answered addr; failing that, the
 * latest name any process of the same netns got it for.  NULL if none. */
const char *dns_cache_get(const struct dns_cache *c, uint32_t tgid, uint64_t netns, const struct owl_addr *addr,
			  uint64_t now_ns);

#endif
