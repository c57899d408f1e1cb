#include "trace/dns.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/util.h"

#define DNS_HDR 12
#define DNS_MAX_JUMPS 32

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Decode the name at *off.  On success *off is past the name as it sits in
 * the message (a pointer counts 2 bytes).  out may be NULL (skip only). */
static int read_name(const uint8_t *m, size_t len, size_t *off, char *out, size_t outsz)
{
	size_t pos = *off, end = 0, n = 0;
	int jumps = 0;
	bool jumped = false;
	for (;;) {
		if (pos >= len)
			return -EINVAL;
		uint8_t l = m[pos];
		if (l == 0) {
			pos++;
			break;
		}
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -EINVAL;
			size_t to = (size_t)(l & 0x3f) << 8 | m[pos + 1];
			/* only backwards, and bounded: no loops */
			if (to >= pos || ++jumps > DNS_MAX_JUMPS)
				return -EINVAL;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = to;
			continue;
		}
		if (l & 0xc0)
			return -EINVAL; /* 0x40 / 0x80: extended label types, not used */
		if (pos + 1 + l > len)
			return -EINVAL;
		/* dotted length so far + dot + label must stay within 253 */
		if (n + (n ? 1 : 0) + l > 253)
			return -EINVAL;
		if (out) {
			if (n)
				out[n] = '.';
			for (size_t i = 0; i < l; i++) {
				uint8_t c = m[pos + 1 + i];
				if (c == 0)
					c = '?';
				if (c >= 'A' && c <= 'Z')
					c = (uint8_t)(c - 'A' + 'a');
				out[n + (n ? 1 : 0) + i] = (char)c;
			}
		}
		n += (n ? 1 : 0) + l;
		pos += 1 + (size_t)l;
	}
	if (out) {
		if (n >= outsz)
			return -EINVAL;
		out[n] = '\0';
	}
	*off = jumped ? end : pos;
	return 0;
}

int dns_parse_response(const uint8_t *m, size_t len, struct dns_answer *ret, size_t max, size_t *ret_n)
{
	char qname[DNS_NAME_MAX];
	size_t off = DNS_HDR, n = 0;
	if (!m || len < DNS_HDR)
		return -EINVAL;
	uint16_t flags = rd16(m + 2);
	if (!(flags & 0x8000))
		return -EINVAL; /* a query, not a response */
	if ((flags >> 11 & 0xf) != 0)
		return -EINVAL; /* not a standard query's answer */
	uint16_t qd = rd16(m + 4), an = rd16(m + 6);
	if (qd == 0)
		return -EINVAL;
	for (uint16_t i = 0; i < qd; i++) {
		if (read_name(m, len, &off, i == 0 ? qname : NULL, sizeof(qname)) < 0)
			return -EINVAL;
		if (off + 4 > len)
			return -EINVAL;
		off += 4;
	}
	for (uint16_t i = 0; i < an; i++) {
		if (read_name(m, len, &off, NULL, 0) < 0)
			return -EINVAL;
		if (off + 10 > len)
			return -EINVAL;
		uint16_t type = rd16(m + off), cls = rd16(m + off + 2);
		uint32_t ttl = (uint32_t)m[off + 4] << 24 | (uint32_t)m[off + 5] << 16 | (uint32_t)m[off + 6] << 8 |
			       m[off + 7];
		uint16_t rdlen = rd16(m + off + 8);
		off += 10;
		if (off + rdlen > len)
			return -EINVAL;
		if (cls == 1 && n < max && ret &&
		    ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16))) {
			struct dns_answer *a = &ret[n++];
			memset(a, 0, sizeof(*a));
			owl_strlcpy(a->name, qname, sizeof(a->name));
			owl_addr_set(&a->addr, type == 1 ? AF_INET : AF_INET6, m + off);
			a->ttl = ttl > 0x7fffffff ? 0 : ttl; /* RFC 2181: top bit set means 0 */
		}
		off += rdlen;
	}
	*ret_n = n;
	return 0;
}

/* ---- cache ---- */

struct dns_slot {
	uint64_t key;           /* 0 = empty */
	uint64_t expires_ns;
	struct owl_addr addr;
	uint32_t tgid;
	uint64_t netns;
	char name[DNS_NAME_MAX];
};

struct dns_cache {
	struct dns_slot *by_proc;  /* (tgid, addr) */
	struct dns_slot *by_ns;    /* (netns, addr) */
	size_t slots;              /* power of two */
};

static uint64_t hash_addr(uint64_t seed, const struct owl_addr *a)
{
	uint64_t h = 1469598103934665603ULL ^ seed;
	h ^= a->family;
	h *= 1099511628211ULL;
	size_t n = owl_addr_len(a);
	for (size_t i = 0; i < n; i++) {
		h ^= a->bytes[i];
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

int dns_cache_new(size_t slots, struct dns_cache **ret)
{
	size_t n = 64;
	while (n < slots && n < (1u << 20))
		n <<= 1;
	struct dns_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->by_proc = calloc(n, sizeof(*c->by_proc));
	c->by_ns = calloc(n, sizeof(*c->by_ns));
	if (!c->by_proc || !c->by_ns) {
		dns_cache_free(c);
		return -ENOMEM;
	}
	c->slots = n;
	*ret = c;
	return 0;
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	free(c->by_proc);
	free(c->by_ns);
	free(c);
}

static void slot_put(struct dns_slot *s, uint64_t key, uint32_t tgid, uint64_t netns, const struct dns_answer *a,
		     uint64_t exp)
{
	s->key = key;
	s->tgid = tgid;
	s->netns = netns;
	s->addr = a->addr;
	s->expires_ns = exp;
	owl_strlcpy(s->name, a->name, sizeof(s->name));
}

void dns_cache_put(struct dns_cache *c, uint32_t tgid, uint64_t netns, const struct dns_answer *a, uint64_t now_ns,
		   uint32_t min_ttl_s, uint32_t max_ttl_s)
{
	uint32_t ttl = OWL_MAX(a->ttl, min_ttl_s);
	ttl = OWL_MIN(ttl, max_ttl_s);
	uint64_t exp = now_ns + (uint64_t)ttl * 1000000000ULL;
	uint64_t k1 = hash_addr((uint64_t)tgid << 1, &a->addr);
	uint64_t k2 = hash_addr(netns << 1 | 1, &a->addr);
	slot_put(&c->by_proc[k1 & (c->slots - 1)], k1, tgid, netns, a, exp);
	slot_put(&c->by_ns[k2 & (c->slots - 1)], k2, tgid, netns, a, exp);
}

const char *dns_cache_get(const struct dns_cache *c, uint32_t tgid, uint64_t netns, const struct owl_addr *addr,
			  uint64_t now_ns)
{
	uint64_t k1 = hash_addr((uint64_t)tgid << 1, addr);
	const struct dns_slot *s = &c->by_proc[k1 & (c->slots - 1)];
	if (s->key == k1 && s->tgid == tgid && s->expires_ns > now_ns && owl_addr_equal(&s->addr, addr))
		return s->name;
	uint64_t k2 = hash_addr(netns << 1 | 1, addr);
	s = &c->by_ns[k2 & (c->slots - 1)];
	if (s->key == k2 && s->netns == netns && s->expires_ns > now_ns && owl_addr_equal(&s->addr, addr))
		return s->name;
	return NULL;
}
