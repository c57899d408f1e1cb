#include "act/target.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/util.h"

int target_parse_hostport(const char *s, struct owl_addr *ret_addr, uint16_t *ret_port)
{
	char host[64];
	const char *port = NULL;
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(host) + 8)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (size_t)(close - s - 1) >= sizeof(host))
			return -EINVAL;
		owl_strncpy0(host, sizeof(host), s + 1, (size_t)(close - s - 1));
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -EINVAL;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address: no port */
		size_t hl = colon ? (size_t)(colon - s) : n;
		if (hl >= sizeof(host))
			return -EINVAL;
		owl_strncpy0(host, sizeof(host), s, hl);
		if (colon)
			port = colon + 1;
	}
	struct owl_addr a;
	if (owl_addr_parse(host, &a) < 0)
		return -EINVAL;
	long long p = 0;
	if (port && owl_strtonum(port, 1, 65535, &p) < 0)
		return -EINVAL;
	if (port && (port[0] == '+' || port[0] == '-'))
		return -EINVAL;
	*ret_addr = a;
	*ret_port = (uint16_t)p;
	return 0;
}

int target_parse_cidr(const char *s, struct owl_addr *ret_addr, uint8_t *ret_prefix)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	owl_strncpy0(host, sizeof(host), s, hl);
	struct owl_addr a;
	if (owl_addr_parse(host, &a) < 0)
		return -EINVAL;
	/* "::ffff:192.0.2.1/120" would change meaning after v4-mapping: refuse */
	if (slash && a.family == AF_INET && strchr(host, ':'))
		return -EINVAL;
	long long max = a.family == AF_INET ? 32 : 128, len = max;
	if (slash) {
		if (!slash[1] || slash[1] == '+' || slash[1] == '-' || owl_strtonum(slash + 1, 0, max, &len) < 0)
			return -EINVAL;
	}
	/* host bits must be zero */
	for (long long bit = len; bit < max; bit++)
		if (a.bytes[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL;
	*ret_addr = a;
	*ret_prefix = (uint8_t)len;
	return 0;
}

int target_parse_transport(const char *s)
{
	if (strcmp(s, "tcp") == 0)
		return OWL_TP_TCP;
	if (strcmp(s, "udp") == 0)
		return OWL_TP_UDP;
	return -EINVAL;
}

int target_parse_duration(const char *s, uint64_t *ret_seconds)
{
	size_t n = strlen(s);
	uint64_t mult = 1, v;
	if (n == 0 || n > 16)
		return -EINVAL;
	switch (s[n - 1]) {
	case 's': mult = 1; n--; break;
	case 'm': mult = 60; n--; break;
	case 'h': mult = 3600; n--; break;
	case 'd': mult = 86400; n--; break;
	default: break;
	}
	int r = owl_parse_u64(s, n, 10, &v);
	if (r < 0)
		return r;
	if (v == 0)
		return -ERANGE;
	if (v > 365ull * 86400 / mult)
		return -ERANGE;
	*ret_seconds = v * mult;
	return 0;
}

void target_format_duration(uint64_t s, char *buf, size_t bufsz)
{
	uint64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
	size_t o = 0;
	buf[0] = '\0';
	if (d)
		o += (size_t)snprintf(buf + o, bufsz - o, "%llud", (unsigned long long)d);
	if (h && o < bufsz)
		o += (size_t)snprintf(buf + o, bufsz - o, "%lluh", (unsigned long long)h);
	if (m && o < bufsz)
		o += (size_t)snprintf(buf + o, bufsz - o, "%llum", (unsigned long long)m);
	if ((sec || o == 0) && o < bufsz)
		snprintf(buf + o, bufsz - o, "%llus", (unsigned long long)sec);
}
