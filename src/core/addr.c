#include "core/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void owl_addr_set(struct owl_addr *a, int family, const void *bytes)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->bytes, bytes, 4);
	} else if (family == AF_INET6) {
		const uint8_t *b = bytes;
		if (memcmp(b, v4mapped_prefix, 12) == 0) {
			a->family = AF_INET;
			memcpy(a->bytes, b + 12, 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->bytes, b, 16);
		}
	}
}

const char *owl_addr_str(const struct owl_addr *a, char buf[OWL_ADDRSTR_MAX])
{
	if (a->family == AF_INET) {
		/* dotted quad by hand: inet_ntop goes through sprintf, and a
		 * report of 100,000 sockets formats 200,000 addresses */
		char *p = buf;
		for (int i = 0; i < 4; i++) {
			unsigned v = a->bytes[i];
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return buf;
	}
	if (a->family != AF_INET6 ||
	    !inet_ntop(a->family, a->bytes, buf, OWL_ADDRSTR_MAX))
		strcpy(buf, "?");
	return buf;
}

int owl_addr_parse(const char *s, struct owl_addr *ret)
{
	uint8_t b[16];
	if (inet_pton(AF_INET, s, b) == 1) {
		owl_addr_set(ret, AF_INET, b);
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		owl_addr_set(ret, AF_INET6, b);
		return 0;
	}
	return -EINVAL;
}

size_t owl_addr_len(const struct owl_addr *a)
{
	return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

bool owl_addr_is_any(const struct owl_addr *a)
{
	size_t n = owl_addr_len(a);
	for (size_t i = 0; i < n; i++)
		if (a->bytes[i])
			return false;
	return true;
}

bool owl_addr_is_loopback(const struct owl_addr *a)
{
	static const uint8_t v6lo[16] = {[15] = 1};
	if (a->family == AF_INET)
		return a->bytes[0] == 127;
	if (a->family == AF_INET6)
		return memcmp(a->bytes, v6lo, 16) == 0;
	return false;
}

bool owl_addr_equal(const struct owl_addr *a, const struct owl_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, owl_addr_len(a)) == 0;
}
