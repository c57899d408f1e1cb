#include "endpoint/scope.h"

#include <string.h>
#include <sys/socket.h>

/* One special-purpose block.  Checked in table order, so a more specific
 * block (169.254.169.254/32) comes before the one containing it
 * (169.254.0.0/16). */
struct scope_block {
	uint8_t family;
	uint8_t plen;
	uint8_t prefix[16];
	uint8_t scope;
};

#define V4(a, b, c, d, len, s) {AF_INET, len, {a, b, c, d}, s}

static const struct scope_block blocks[] = {
	/* cloud metadata first: they sit inside link-local and CGNAT */
	V4(169, 254, 169, 254, 32, EP_SCOPE_METADATA),  /* AWS, GCP, Azure, OpenStack, ... */
	V4(169, 254, 170, 2, 32, EP_SCOPE_METADATA),    /* AWS ECS task metadata */
	V4(100, 100, 100, 200, 32, EP_SCOPE_METADATA),  /* Alibaba Cloud */
	{AF_INET6, 128, {0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54}, EP_SCOPE_METADATA}, /* fd00:ec2::254 */
	V4(0, 0, 0, 0, 8, EP_SCOPE_UNSPECIFIED),
	V4(127, 0, 0, 0, 8, EP_SCOPE_LOOPBACK),
	V4(10, 0, 0, 0, 8, EP_SCOPE_PRIVATE),
	V4(172, 16, 0, 0, 12, EP_SCOPE_PRIVATE),
	V4(192, 168, 0, 0, 16, EP_SCOPE_PRIVATE),
	V4(100, 64, 0, 0, 10, EP_SCOPE_CGNAT),
	V4(169, 254, 0, 0, 16, EP_SCOPE_LINK_LOCAL),
	V4(224, 0, 0, 0, 4, EP_SCOPE_MULTICAST),
	V4(255, 255, 255, 255, 32, EP_SCOPE_BROADCAST),
	V4(240, 0, 0, 0, 4, EP_SCOPE_RESERVED),
	V4(192, 0, 2, 0, 24, EP_SCOPE_DOCUMENTATION),   /* TEST-NET-1 */
	V4(198, 51, 100, 0, 24, EP_SCOPE_DOCUMENTATION),/* TEST-NET-2 */
	V4(203, 0, 113, 0, 24, EP_SCOPE_DOCUMENTATION), /* TEST-NET-3 */
	V4(198, 18, 0, 0, 15, EP_SCOPE_BENCHMARKING),
	V4(192, 0, 0, 0, 24, EP_SCOPE_RESERVED),        /* IETF protocol assignments */
	V4(192, 88, 99, 0, 24, EP_SCOPE_RESERVED),      /* deprecated 6to4 relay anycast */
	{AF_INET6, 128, {0}, EP_SCOPE_UNSPECIFIED},                      /* :: */
	{AF_INET6, 128, {[15] = 1}, EP_SCOPE_LOOPBACK},                  /* ::1 */
	{AF_INET6, 96, {0, 0x64, 0xff, 0x9b}, EP_SCOPE_NAT64},           /* 64:ff9b::/96 */
	{AF_INET6, 48, {0, 0x64, 0xff, 0x9b, 0, 1}, EP_SCOPE_NAT64},     /* 64:ff9b:1::/48 */
	{AF_INET6, 64, {0x01, 0x00}, EP_SCOPE_RESERVED},                 /* 100::/64 discard */
	{AF_INET6, 48, {0x20, 0x01, 0x00, 0x02}, EP_SCOPE_BENCHMARKING}, /* 2001:2::/48 */
	{AF_INET6, 32, {0x20, 0x01, 0x0d, 0xb8}, EP_SCOPE_DOCUMENTATION},/* 2001:db8::/32 */
	{AF_INET6, 20, {0x3f, 0xff}, EP_SCOPE_DOCUMENTATION},            /* 3fff::/20 (RFC 9637) */
	{AF_INET6, 7, {0xfc}, EP_SCOPE_PRIVATE},                         /* fc00::/7 ULA */
	{AF_INET6, 10, {0xfe, 0x80}, EP_SCOPE_LINK_LOCAL},               /* fe80::/10 */
	{AF_INET6, 10, {0xfe, 0xc0}, EP_SCOPE_RESERVED},                 /* fec0::/10 site-local (deprecated) */
	{AF_INET6, 8, {0xff}, EP_SCOPE_MULTICAST},                       /* ff00::/8 */
	{AF_INET6, 8, {0x00}, EP_SCOPE_RESERVED},                        /* ::/8 other (v4-compatible, ...) */
};

static const char *const names[EP_SCOPE__MAX] = {
	[EP_SCOPE_PUBLIC] = "public",
	[EP_SCOPE_UNSPECIFIED] = "unspecified",
	[EP_SCOPE_LOOPBACK] = "loopback",
	[EP_SCOPE_PRIVATE] = "private",
	[EP_SCOPE_CGNAT] = "cgnat",
	[EP_SCOPE_LINK_LOCAL] = "link-local",
	[EP_SCOPE_METADATA] = "metadata",
	[EP_SCOPE_MULTICAST] = "multicast",
	[EP_SCOPE_BROADCAST] = "broadcast",
	[EP_SCOPE_DOCUMENTATION] = "documentation",
	[EP_SCOPE_BENCHMARKING] = "benchmarking",
	[EP_SCOPE_RESERVED] = "reserved",
	[EP_SCOPE_NAT64] = "nat64",
};

static bool prefix_match(const uint8_t *a, const uint8_t *p, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(a, p, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (p[full] & mask);
}

enum ep_scope ep_scope_of(const struct owl_addr *a)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return EP_SCOPE_UNSPECIFIED;
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (blocks[i].family == a->family && prefix_match(a->bytes, blocks[i].prefix, blocks[i].plen))
			return (enum ep_scope)blocks[i].scope;
	return EP_SCOPE_PUBLIC;
}

const char *ep_scope_name(enum ep_scope s)
{
	return (unsigned)s < EP_SCOPE__MAX ? names[s] : "public";
}

bool ep_scope_is_local(enum ep_scope s)
{
	switch (s) {
	case EP_SCOPE_UNSPECIFIED:
	case EP_SCOPE_LOOPBACK:
	case EP_SCOPE_LINK_LOCAL:
	case EP_SCOPE_MULTICAST:
	case EP_SCOPE_BROADCAST:
		return true;
	default:
		return false;
	}
}
