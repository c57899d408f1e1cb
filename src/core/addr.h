/* IP address helpers on struct owl_addr. */
#ifndef OWL_ADDR_H
#define OWL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/model.h"

#define OWL_ADDRSTR_MAX 46 /* INET6_ADDRSTRLEN */

/* Set from raw network-order bytes; v4-mapped IPv6 (::ffff:a.b.c.d) becomes AF_INET. */
void owl_addr_set(struct owl_addr *a, int family, const void *bytes);
/* Text form (inet_ntop). */
const char *owl_addr_str(const struct owl_addr *a, char buf[OWL_ADDRSTR_MAX]);
/* Parse an IPv4 or IPv6 literal; returns 0 or -EINVAL. */
int owl_addr_parse(const char *s, struct owl_addr *ret);
bool owl_addr_is_any(const struct owl_addr *a);
bool owl_addr_is_loopback(const struct owl_addr *a);
bool owl_addr_equal(const struct owl_addr *a, const struct owl_addr *b);
/* Address width in bytes: 4 or 16 (0 for an unset family). */
size_t owl_addr_len(const struct owl_addr *a);

#endif
