/* Parsing what the user names as a containment target: addresses with
 * ports, CIDR prefixes, transports and durations.  Pure functions. */
#ifndef OWL_ACT_TARGET_H
#define OWL_ACT_TARGET_H

#include <stdint.h>

#include "core/model.h"

/* "192.0.2.1", "192.0.2.1:80", "2001:db8::1", "[2001:db8::1]:80", "[2001:db8::1]".
 * *ret_port is 0 when no port is given.  Returns 0 or -EINVAL; outputs
 * untouched on failure. */
int target_parse_hostport(const char *s, struct owl_addr *ret_addr, uint16_t *ret_port);

/* "192.0.2.0/25", "2001:db8:8::/48" or a plain address (full-length prefix).
 * Host bits under the prefix must be zero (so the block is exactly what the
 * user wrote).  Returns 0 or -EINVAL. */
int target_parse_cidr(const char *s, struct owl_addr *ret_addr, uint8_t *ret_prefix);

/* "tcp" / "udp" → OWL_TP_TCP / OWL_TP_UDP, else -EINVAL. */
int target_parse_transport(const char *s);

/* "90", "90s", "15m", "2h", "7d" → seconds (1 s .. 365 d).  Returns 0 or
 * -EINVAL / -ERANGE. */
int target_parse_duration(const char *s, uint64_t *ret_seconds);

/* "1h2m3s"-style text of a number of seconds, into buf (>= 32 bytes). */
void target_format_duration(uint64_t seconds, char *buf, size_t bufsz);

#endif
