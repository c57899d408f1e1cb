/* Address scope: what kind of place an IP address is (loopback, private,
 * CGNAT, link-local, metadata, multicast, documentation, benchmarking,
 * public, ...).  A small table of IANA special-purpose blocks, most
 * specific first; see docs/endpoint.md for the whole table. */
#ifndef OWL_ENDPOINT_SCOPE_H
#define OWL_ENDPOINT_SCOPE_H

#include <stdbool.h>

#include "core/model.h"

enum ep_scope {
	EP_SCOPE_PUBLIC = 0,
	EP_SCOPE_UNSPECIFIED,   /* 0.0.0.0/8, :: */
	EP_SCOPE_LOOPBACK,      /* 127/8, ::1 */
	EP_SCOPE_PRIVATE,       /* RFC 1918, fc00::/7 (ULA) */
	EP_SCOPE_CGNAT,         /* 100.64/10 (RFC 6598) */
	EP_SCOPE_LINK_LOCAL,    /* 169.254/16, fe80::/10 */
	EP_SCOPE_METADATA,      /* cloud instance metadata endpoints */
	EP_SCOPE_MULTICAST,     /* 224/4, ff00::/8 */
	EP_SCOPE_BROADCAST,     /* 255.255.255.255 */
	EP_SCOPE_DOCUMENTATION, /* TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20 */
	EP_SCOPE_BENCHMARKING,  /* 198.18/15, 2001:2::/48 */
	EP_SCOPE_RESERVED,      /* 240/4, 192.0.0/24, 100::/64, ... */
	EP_SCOPE_NAT64,         /* 64:ff9b::/96, 64:ff9b:1::/48 */
	EP_SCOPE__MAX,
};

/* The scope of an address (AF_INET or AF_INET6; anything else is
 * EP_SCOPE_UNSPECIFIED). */
enum ep_scope ep_scope_of(const struct owl_addr *a);

/* "public", "private", "link-local", ... as docs/endpoint.md spells them. */
const char *ep_scope_name(enum ep_scope s);

/* True for scopes that never leave this machine or its link, so reverse DNS
 * and GeoIP make no sense for them. */
bool ep_scope_is_local(enum ep_scope s);

#endif
