#include "act/nftblock.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "act/target.h"
#include "core/addr.h"

#define NFT_OUT_MAX (1u << 20)

static const char *const chains[] = {"output", "forward"};

void block_spec_text(const struct block_spec *b, char *buf, size_t bufsz)
{
	char ip[OWL_ADDRSTR_MAX], port[24] = "";
	size_t full = b->addr.family == AF_INET ? 32 : 128;
	owl_addr_str(&b->addr, ip);
	if (b->port)
		snprintf(port, sizeof(port), " port %u", b->port);
	char pfx[8] = "";
	if (b->prefix != full)
		snprintf(pfx, sizeof(pfx), "/%u", b->prefix);
	snprintf(buf, bufsz, "%s%s%s%s%s", ip, pfx, b->transport >= 0 ? " " : "",
		 b->transport == OWL_TP_TCP ? "tcp" : b->transport == OWL_TP_UDP ? "udp" : "", port);
}

static bool is_v4(const struct block_spec *b)
{
	return b->addr.family == AF_INET;
}

void nftblock_script_setup(struct owl_buf *o)
{
	const char *t = NFTBLOCK_FAMILY " " NFTBLOCK_TABLE;
	owl_buf_printf(o, "add table %s { comment \"owl contain block: destinations blocked by owl\"; }\n", t);
	owl_buf_printf(o, "add set %s dst4 { type ipv4_addr; flags interval, timeout; }\n", t);
	owl_buf_printf(o, "add set %s dst6 { type ipv6_addr; flags interval, timeout; }\n", t);
	owl_buf_printf(o, "add set %s svc4 { type ipv4_addr . inet_proto . inet_service; flags interval, timeout; }\n", t);
	owl_buf_printf(o, "add set %s svc6 { type ipv6_addr . inet_proto . inet_service; flags interval, timeout; }\n", t);
	for (size_t i = 0; i < OWL_ARRAY_SIZE(chains); i++) {
		owl_buf_printf(o, "add chain %s %s { type filter hook %s priority filter; policy accept; }\n", t,
			       chains[i], chains[i]);
		owl_buf_printf(o, "flush chain %s %s\n", t, chains[i]);
		static const char *const rules[] = {
			"ip daddr @dst4",
			"ip6 daddr @dst6",
			"ip daddr . meta l4proto . th dport @svc4",
			"ip6 daddr . meta l4proto . th dport @svc6",
		};
		for (size_t r = 0; r < OWL_ARRAY_SIZE(rules); r++)
			owl_buf_printf(o, "add rule %s %s %s counter reject with icmpx type admin-prohibited\n", t,
				       chains[i], rules[r]);
	}
}

/* The element keys of one block (one, or two for a port on any transport). */
static void elements(const struct block_spec *b, bool with_timeout, struct owl_buf *o)
{
	char ip[OWL_ADDRSTR_MAX], key[96];
	size_t full = is_v4(b) ? 32 : 128;
	owl_addr_str(&b->addr, ip);
	if (b->prefix != full)
		snprintf(key, sizeof(key), "%s/%u", ip, b->prefix);
	else
		snprintf(key, sizeof(key), "%s", ip);
	char tmo[48] = "";
	if (with_timeout && b->timeout)
		snprintf(tmo, sizeof(tmo), " timeout %llus", (unsigned long long)b->timeout);
	if (b->transport < 0 && !b->port) {
		owl_buf_printf(o, "%s%s", key, tmo);
		return;
	}
	char port[16];
	if (b->port)
		snprintf(port, sizeof(port), "%u", b->port);
	else
		snprintf(port, sizeof(port), "0-65535");
	if (b->transport == OWL_TP_TCP || b->transport < 0)
		owl_buf_printf(o, "%s . tcp . %s%s", key, port, tmo);
	if (b->transport < 0)
		owl_buf_puts(o, ", ");
	if (b->transport == OWL_TP_UDP || b->transport < 0)
		owl_buf_printf(o, "%s . udp . %s%s", key, port, tmo);
}

static const char *set_of(const struct block_spec *b)
{
	bool svc = b->transport >= 0 || b->port;
	return is_v4(b) ? (svc ? "svc4" : "dst4") : (svc ? "svc6" : "dst6");
}

void nftblock_script_add(const struct block_spec *b, struct owl_buf *o)
{
	owl_buf_printf(o, "add element %s %s %s { ", NFTBLOCK_FAMILY, NFTBLOCK_TABLE, set_of(b));
	elements(b, true, o);
	owl_buf_puts(o, " }\n");
}

void nftblock_script_del(const struct block_spec *b, struct owl_buf *o)
{
	owl_buf_printf(o, "delete element %s %s %s { ", NFTBLOCK_FAMILY, NFTBLOCK_TABLE, set_of(b));
	elements(b, false, o);
	owl_buf_puts(o, " }\n");
}

void nftblock_script_flush(struct owl_buf *o)
{
	owl_buf_printf(o, "delete table %s %s\n", NFTBLOCK_FAMILY, NFTBLOCK_TABLE);
}

static const char *find_nft(void)
{
	/* fixed locations: owl runs as root and must not follow $PATH */
	static const char *const paths[] = {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"};
	const char *env = getenv("OWL_NFT"); /* tests only: a wrapper that records calls */
	if (env && *env && access(env, X_OK) == 0)
		return env;
	for (size_t i = 0; i < OWL_ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

int nftblock_run(const char *const *args, const char *stdin_text, struct owl_buf *ret_out,
		 struct owl_buf *ret_err)
{
	const char *nft = find_nft();
	if (!nft)
		return -ENOENT;
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		int e = -errno;
		close(in[0]), close(in[1]);
		return e;
	}
	if (pipe2(err, O_CLOEXEC) < 0) {
		int e = -errno;
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(in[0]), close(in[1]), close(out[0]), close(out[1]), close(err[0]), close(err[1]);
		return e;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		char *argv[16];
		size_t n = 0;
		argv[n++] = (char *)nft;
		for (size_t i = 1; args[i] && n < OWL_ARRAY_SIZE(argv) - 1; i++)
			argv[n++] = (char *)args[i];
		argv[n] = NULL;
		char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
		execve(nft, argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	/* nft reads its whole script before it writes much, but pump all three
	 * pipes together anyway so neither side can block the other */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	const char *w = stdin_text ? stdin_text : "";
	size_t wlen = strlen(w);
	int fds_open = 2, in_open = 1;
	if (!wlen) {
		close(in[1]);
		in_open = 0;
	}
	char buf[4096];
	while (fds_open > 0 || in_open) {
		struct pollfd p[3] = {
			{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN},
			{.fd = in_open ? in[1] : -1, .events = POLLOUT},
		};
		if (p[0].fd < 0 && p[1].fd < 0 && !in_open)
			break;
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(i == 0 ? out[0] : err[0]);
				if (i == 0)
					out[0] = -1;
				else
					err[0] = -1;
				fds_open--;
				continue;
			}
			struct owl_buf *dst = i == 0 ? ret_out : ret_err;
			if (dst && dst->len + (size_t)n <= NFT_OUT_MAX)
				owl_buf_putn(dst, buf, (size_t)n);
		}
		if (in_open && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(in[1], w, wlen);
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				wlen = 0;
			else if (n > 0)
				w += n, wlen -= (size_t)n;
			if (!wlen) {
				close(in[1]);
				in_open = 0;
			}
		}
	}
	if (in_open)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	sigaction(SIGPIPE, &old, NULL);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 127 ? -ENOENT : WEXITSTATUS(status);
	return -EINTR;
}

int nftblock_apply(const char *script, struct owl_buf *err)
{
	static const char *const args[] = {"nft", "-f", "-", NULL};
	struct owl_buf e;
	owl_buf_init(&e);
	int r = nftblock_run(args, script, NULL, &e);
	if (r > 0) {
		const char *s = owl_buf_str(&e);
		if (strstr(s, "does not exist") || strstr(s, "No such file"))
			r = -ENOENT;
		else if (strstr(s, "Operation not permitted"))
			r = -EPERM;
		else
			r = -EIO;
	}
	if (err)
		owl_buf_putn(err, owl_buf_str(&e), e.len);
	owl_buf_free(&e);
	return r;
}

int nftblock_show(struct owl_buf *out)
{
	static const char *const args[] = {"nft", "list", "table", NFTBLOCK_FAMILY, NFTBLOCK_TABLE, NULL};
	struct owl_buf e;
	owl_buf_init(&e);
	int r = nftblock_run(args, NULL, out, &e);
	if (r > 0)
		r = strstr(owl_buf_str(&e), "No such file") ? -ENOENT : strstr(owl_buf_str(&e), "not permitted") ? -EPERM : -EIO;
	owl_buf_free(&e);
	return r;
}

/* Text of one value of a set element: "192.0.2.1", "192.0.2.0/25",
 * "0-65535", "tcp", "80". */
static void val_text(const json_t *v, char *buf, size_t bufsz)
{
	buf[0] = '\0';
	if (json_is_string(v)) {
		snprintf(buf, bufsz, "%s", json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(buf, bufsz, "%lld", (long long)json_integer_value(v));
	} else if (json_is_object(v)) {
		const json_t *p = json_object_get(v, "prefix");
		const json_t *r = json_object_get(v, "range");
		if (p && json_is_string(json_object_get(p, "addr")) && json_is_integer(json_object_get(p, "len")))
			snprintf(buf, bufsz, "%s/%lld", json_string_value(json_object_get(p, "addr")),
				 (long long)json_integer_value(json_object_get(p, "len")));
		else if (json_is_array(r) && json_array_size(r) == 2) {
			char a[64], b[64];
			val_text(json_array_get(r, 0), a, sizeof(a));
			val_text(json_array_get(r, 1), b, sizeof(b));
			owl_strlcpy(buf, a, bufsz);
			size_t l = strlen(buf);
			if (l + 1 < bufsz) {
				buf[l] = '-';
				owl_strlcpy(buf + l + 1, b, bufsz - l - 1);
			}
		}
	}
}

static uint64_t u64_of(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* An address, a prefix, or an address range "A-B" (what nft prints). */
static bool valid_dest(const char *d)
{
	struct owl_addr a;
	uint8_t len;
	if (target_parse_cidr(d, &a, &len) == 0)
		return true;
	const char *dash = strchr(d, '-');
	char lo[64];
	if (!dash || (size_t)(dash - d) >= sizeof(lo))
		return false;
	owl_strncpy0(lo, sizeof(lo), d, (size_t)(dash - d));
	return owl_addr_parse(lo, &a) == 0 && owl_addr_parse(dash + 1, &a) == 0;
}

static int parse_elem(const char *set, const json_t *el, struct owl_vec *ret)
{
	struct block_entry e;
	memset(&e, 0, sizeof(e));
	snprintf(e.set, sizeof(e.set), "%s", set);
	const json_t *val = el;
	const json_t *wrap = json_is_object(el) ? json_object_get(el, "elem") : NULL;
	if (wrap) {
		val = json_object_get(wrap, "val");
		e.timeout = u64_of(wrap, "timeout");
		e.expires = u64_of(wrap, "expires");
	}
	const json_t *cc = json_is_object(val) ? json_object_get(val, "concat") : NULL;
	if (cc) {
		if (!json_is_array(cc) || json_array_size(cc) != 3)
			return 0;
		val_text(json_array_get(cc, 0), e.dest, sizeof(e.dest));
		val_text(json_array_get(cc, 1), e.proto, sizeof(e.proto));
		val_text(json_array_get(cc, 2), e.port, sizeof(e.port));
		if (strcmp(e.port, "0-65535") == 0)
			e.port[0] = '\0';
	} else {
		val_text(val, e.dest, sizeof(e.dest));
	}
	if (!valid_dest(e.dest))
		return 0;
	struct block_entry *slot = owl_vec_push(ret);
	if (!slot)
		return -ENOMEM;
	*slot = e;
	return 1;
}

int nftblock_parse_json(const char *text, size_t len, struct owl_vec *ret)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return -EINVAL;
	const json_t *arr = json_object_get(root, "nftables");
	if (!json_is_array(arr)) {
		json_decref(root);
		return -EINVAL;
	}
	int count = 0;
	size_t i;
	const json_t *item;
	json_array_foreach(arr, i, item) {
		const json_t *set = json_object_get(item, "set");
		if (!json_is_object(set))
			continue;
		const json_t *tbl = json_object_get(set, "table"), *name = json_object_get(set, "name");
		if (!json_is_string(tbl) || strcmp(json_string_value(tbl), NFTBLOCK_TABLE) != 0 || !json_is_string(name))
			continue;
		const json_t *elems = json_object_get(set, "elem");
		if (!json_is_array(elems))
			continue;
		size_t k;
		const json_t *el;
		json_array_foreach(elems, k, el) {
			int r = parse_elem(json_string_value(name), el, ret);
			if (r < 0) {
				json_decref(root);
				return r;
			}
			count += r;
		}
	}
	json_decref(root);
	return count;
}

int nftblock_list(struct owl_vec *ret)
{
	static const char *const args[] = {"nft", "-j", "list", "table", NFTBLOCK_FAMILY, NFTBLOCK_TABLE, NULL};
	struct owl_buf out, err;
	owl_buf_init(&out);
	owl_buf_init(&err);
	int r = nftblock_run(args, NULL, &out, &err);
	if (r > 0)
		r = strstr(owl_buf_str(&err), "No such file") ? 0 : strstr(owl_buf_str(&err), "not permitted") ? -EPERM : -EIO;
	else if (r == 0)
		r = nftblock_parse_json(owl_buf_str(&out), out.len, ret);
	owl_buf_free(&out);
	owl_buf_free(&err);
	return r;
}

bool block_entry_covers(const struct block_entry *e, const struct owl_addr *a)
{
	struct owl_addr net;
	uint8_t len;
	if (target_parse_cidr(e->dest, &net, &len) < 0 || net.family != a->family)
		return false;
	for (unsigned bit = 0; bit < len; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));
		if ((net.bytes[bit / 8] & m) != (a->bytes[bit / 8] & m))
			return false;
	}
	return true;
}
