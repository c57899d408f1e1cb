#include "collect/procnet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/util.h"

static const char *const files[SOCKDIAG__MAX] = {
	[SOCKDIAG_TCP4] = "tcp", [SOCKDIAG_TCP6] = "tcp6",
	[SOCKDIAG_UDP4] = "udp", [SOCKDIAG_UDP6] = "udp6",
	[SOCKDIAG_RAW4] = "raw", [SOCKDIAG_RAW6] = "raw6",
	[SOCKDIAG_PACKET] = "packet",
};

const char *procnet_file(enum sockdiag_kind kind)
{
	return (unsigned)kind < SOCKDIAG__MAX ? files[kind] : NULL;
}

#define MAX_TOK 20

struct tok {
	const char *s;
	size_t n;
};

static int tokenize(const char *line, size_t len, struct tok *t, int max)
{
	int n = 0;
	size_t i = 0;
	while (i < len && n < max) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= len || line[i] == '\n')
			break;
		size_t st = i;
		while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\n')
			i++;
		t[n].s = line + st;
		t[n].n = i - st;
		n++;
	}
	return n;
}

/* "0100007F:0277" → address + port, hex words in host order as the kernel prints them. */
static int parse_endpoint(const struct tok *t, int family, struct owl_addr *a, uint16_t *port)
{
	size_t hexlen = family == AF_INET ? 8 : 32;
	uint8_t bytes[16];
	uint64_t v;
	if (t->n != hexlen + 5 || t->s[hexlen] != ':')
		return -EINVAL;
	for (size_t w = 0; w < hexlen / 8; w++) {
		if (owl_parse_u64(t->s + w * 8, 8, 16, &v) < 0)
			return -EINVAL;
		uint32_t u = (uint32_t)v;
		memcpy(bytes + w * 4, &u, 4);
	}
	if (owl_parse_u64(t->s + hexlen + 1, 4, 16, &v) < 0)
		return -EINVAL;
	owl_addr_set(a, family, bytes);
	*port = (uint16_t)v;
	return 0;
}

static int tok_u64(const struct tok *t, int base, uint64_t *ret)
{
	return owl_parse_u64(t->s, t->n, base, ret);
}

static int parse_packet(const struct tok *t, int n, struct owl_conn *ret)
{
	/* sk RefCnt Type Proto Iface R Rmem User Inode */
	uint64_t type, proto, iface, rmem, user, inode;
	if (n < 9)
		return -EINVAL;
	if (tok_u64(&t[2], 10, &type) || tok_u64(&t[3], 16, &proto) || tok_u64(&t[4], 10, &iface) ||
	    tok_u64(&t[6], 10, &rmem) || tok_u64(&t[7], 10, &user) || tok_u64(&t[8], 10, &inode))
		return -EINVAL;
	if (proto > 0xffff || iface > 0x7fffffff || user > 0xffffffffu || type > 0xff)
		return -EINVAL;
	struct owl_conn c;
	memset(&c, 0, sizeof(c));
	c.transport = OWL_TP_PACKET;
	c.family = AF_PACKET;
	c.source = OWL_SRC_PROC;
	c.state = OWL_TCP_CLOSE;
	c.pkt_type = (uint8_t)type;
	c.protocol = (uint16_t)proto;
	c.ifindex = (int32_t)iface;
	c.rqueue = (uint32_t)OWL_MIN(rmem, 0xffffffffu);
	c.uid = (uint32_t)user;
	c.has_uid = true;
	c.inode = inode;
	*ret = c;
	return 0;
}

int procnet_parse_line(enum sockdiag_kind kind, const char *line, size_t len, struct owl_conn *ret)
{
	struct tok t[MAX_TOK];
	int n = tokenize(line, len, t, MAX_TOK);
	if (n == 0)
		return -EINVAL;
	if ((t[0].n == 2 && memcmp(t[0].s, "sl", 2) == 0) || (t[0].n == 2 && memcmp(t[0].s, "sk", 2) == 0))
		return 1;
	if (kind == SOCKDIAG_PACKET)
		return parse_packet(t, n, ret);
	if ((unsigned)kind >= SOCKDIAG__MAX)
		return -EINVAL;

	/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode ... */
	if (n < 10 || t[0].n < 2 || t[0].s[t[0].n - 1] != ':')
		return -EINVAL;
	int family = (kind == SOCKDIAG_TCP4 || kind == SOCKDIAG_UDP4 || kind == SOCKDIAG_RAW4) ? AF_INET : AF_INET6;
	struct owl_conn c;
	uint64_t st, uid, inode, tx, rx, retr;
	memset(&c, 0, sizeof(c));
	if (parse_endpoint(&t[1], family, &c.laddr, &c.lport) || parse_endpoint(&t[2], family, &c.raddr, &c.rport))
		return -EINVAL;
	if (tok_u64(&t[3], 16, &st) || st > 0xff)
		return -EINVAL;
	if (t[4].n != 17 || t[4].s[8] != ':' || owl_parse_u64(t[4].s, 8, 16, &tx) ||
	    owl_parse_u64(t[4].s + 9, 8, 16, &rx))
		return -EINVAL;
	if (tok_u64(&t[6], 16, &retr) || tok_u64(&t[7], 10, &uid) || uid > 0xffffffffu ||
	    tok_u64(&t[9], 10, &inode))
		return -EINVAL;

	switch (kind) {
	case SOCKDIAG_TCP4: case SOCKDIAG_TCP6: c.transport = OWL_TP_TCP; break;
	case SOCKDIAG_UDP4: case SOCKDIAG_UDP6: c.transport = OWL_TP_UDP; break;
	default: c.transport = OWL_TP_RAW; break;
	}
	c.family = (uint8_t)family;
	if (c.laddr.family == AF_INET || (c.raddr.family == AF_INET && owl_addr_is_any(&c.laddr)))
		c.family = AF_INET;
	c.source = OWL_SRC_PROC;
	c.state = (uint8_t)st;
	c.wqueue = (uint32_t)tx;
	c.rqueue = (uint32_t)rx;
	c.uid = (uint32_t)uid;
	c.has_uid = true;
	c.inode = inode;
	if (c.transport == OWL_TP_TCP) {
		c.retransmits = (uint8_t)OWL_MIN(retr, 255u);
	} else if (c.transport == OWL_TP_UDP) {
		c.state = (c.raddr.family && !owl_addr_is_any(&c.raddr)) ? OWL_TCP_ESTABLISHED : OWL_TCP_CLOSE;
	} else {
		c.protocol = c.lport;
	}
	*ret = c;
	return 0;
}

int procnet_parse_buffer(enum sockdiag_kind kind, const char *buf, size_t len, owl_conn_cb cb, void *arg,
			 unsigned *ret_bad)
{
	size_t i = 0;
	int count = 0, stop = 0;
	unsigned bad = 0;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (buf + i)) : len - i;
		struct owl_conn c;
		if (l > 0) {
			int r = procnet_parse_line(kind, buf + i, l, &c);
			if (r == 0) {
				count++;
				if (!stop && cb(&c, arg))
					stop = 1;
			} else if (r < 0) {
				bad++;
			}
		}
		i += l + 1;
	}
	if (ret_bad)
		*ret_bad = bad;
	return count;
}

int procnet_read(const char *dir, enum sockdiag_kind kind, owl_conn_cb cb, void *arg)
{
	char path[512];
	const char *f = procnet_file(kind);
	if (!f)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", dir, f);
	FILE *fp = fopen(path, "re");
	if (!fp)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int count = 0, stop = 0;
	while ((n = getline(&line, &cap, fp)) > 0) {
		struct owl_conn c;
		if (n > 4096)
			continue; /* no real line is this long */
		if (procnet_parse_line(kind, line, (size_t)n, &c) == 0) {
			count++;
			if (!stop && cb(&c, arg))
				stop = 1;
		}
	}
	free(line);
	fclose(fp);
	return count;
}
