#include "endpoint/endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "attribute/procinfo.h"
#include "core/addr.h"
#include "core/names.h"
#include "core/util.h"
#include "judge/judge.h"
#include "pipeline/scan.h"
#include "render/escape.h"

void endpoint_limits_default(struct endpoint_limits *ret)
{
	*ret = (struct endpoint_limits){
		.high_volume = ENDPOINT_HIGH_VOLUME,
		.large_upload = ENDPOINT_LARGE_UPLOAD,
		.upload_ratio = ENDPOINT_UPLOAD_RATIO,
		.attempts = ENDPOINT_ATTEMPTS,
		.resolve_ms = ENDPOINT_RESOLVE_MS,
	};
}

static int parse_size(const char *s, uint64_t *ret)
{
	size_t n = strlen(s);
	unsigned shift = 0;
	if (n && (s[n - 1] == 'K' || s[n - 1] == 'k'))
		shift = 10;
	else if (n && (s[n - 1] == 'M' || s[n - 1] == 'm'))
		shift = 20;
	else if (n && (s[n - 1] == 'G' || s[n - 1] == 'g'))
		shift = 30;
	if (shift)
		n--;
	uint64_t v;
	if (owl_parse_u64(s, n, 10, &v) < 0 || v == 0 || v > (UINT64_MAX >> 30))
		return -EINVAL;
	*ret = v << shift;
	return 0;
}

int endpoint_limit_set(struct endpoint_limits *l, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq)
		return -EINVAL;
	size_t kl = (size_t)(eq - kv);
	const char *v = eq + 1;
	long long n;
#define KEY(s) (kl == strlen(s) && memcmp(kv, s, kl) == 0)
	if (KEY("large-upload")) {
		uint64_t b;
		if (parse_size(v, &b) < 0)
			return -EINVAL;
		l->large_upload = b;
		return 0;
	}
	unsigned *dst = KEY("high-volume")    ? &l->high_volume
			: KEY("upload-ratio") ? &l->upload_ratio
			: KEY("attempts")     ? &l->attempts
			: KEY("resolve-ms")   ? &l->resolve_ms
					      : NULL;
#undef KEY
	if (!dst)
		return -ENOENT;
	if (owl_strtonum(v, 1, 1000000, &n) < 0)
		return -EINVAL;
	*dst = (unsigned)n;
	return 0;
}

/* ---- a small hash set of distinct keys (addresses, groups) ---- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return mix(h);
}

struct slots {
	uint32_t *idx; /* UINT32_MAX = empty */
	size_t mask;
};

static int slots_init(struct slots *s, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap <<= 1;
	s->idx = malloc(cap * sizeof(*s->idx));
	if (!s->idx)
		return -ENOMEM;
	memset(s->idx, 0xff, cap * sizeof(*s->idx));
	s->mask = cap - 1;
	return 0;
}

/* ---- known cloud agents, network daemons (by name: see docs) ---- */

static const char *const cloud_agents[] = {
	"cloud-init", "amazon-ssm-agent", "ssm-agent-worker", "ecs-agent", "google_guest_agent",
	"google_osconfig_agent", "google_metadata_script_runner", "waagent", "WALinuxAgent",
	"oracle-cloud-agent", "aliyun-service", "AliYunDun", "qemu-ga", "cloud-init-hotplugd",
	"ec2-instance-connect", "eic_run_authorized_keys", "hcloud-init",
};

static const char *const packet_daemons[] = {
	"dhclient", "dhcpcd", "systemd-network", "systemd-networkd", "NetworkManager", "wpa_supplicant",
	"lldpd", "keepalived", "udhcpc", "dnsmasq", "ptp4l", "arping", "ping", "ping6",
};

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static bool name_in(const struct owl_proc *p, const char *const *list, size_t n)
{
	if (!p)
		return false;
	const char *exe = p->exe[0] ? base(p->exe) : "";
	/* interpreters: the script named in argv[1] is the program */
	char script[256] = "";
	size_t alen;
	const char *a1 = p->argc > 1 ? procinfo_arg(p, 1, &alen) : NULL;
	if (a1)
		owl_strncpy0(script, sizeof(script), a1, OWL_MIN(alen, sizeof(script) - 1));
	const char *sb = base(script);
	for (size_t i = 0; i < n; i++)
		if (strcmp(p->comm, list[i]) == 0 || strcmp(exe, list[i]) == 0 || strcmp(sb, list[i]) == 0)
			return true;
	return false;
}

/* ---- building the facts ---- */

static bool has_remote(const struct owl_conn *c)
{
	if (c->transport == OWL_TP_PACKET || c->direction == OWL_DIR_LISTENING)
		return false;
	return !owl_addr_is_any(&c->raddr);
}

static int collect_addrs(struct endpoint_ctx *x, struct scan_result *r, uint32_t *rec_addr)
{
	struct slots s;
	int rc = slots_init(&s, r->nrecs + 1);
	if (rc < 0)
		return rc;
	/* grown as distinct addresses come: 100,000 sockets to one address
	 * need one entry, not 100,000 */
	size_t cap = 0;
	for (size_t i = 0; i < r->nrecs; i++) {
		const struct owl_conn *c = &r->recs[i].conn;
		rec_addr[i] = UINT32_MAX;
		if (!has_remote(c))
			continue;
		size_t len = owl_addr_len(&c->raddr);
		size_t h = (size_t)hash_bytes(c->raddr.bytes, len, c->raddr.family) & s.mask;
		for (;; h = (h + 1) & s.mask) {
			uint32_t k = s.idx[h];
			if (k == UINT32_MAX) {
				if (x->naddrs == cap) {
					size_t nc = cap ? cap * 2 : 64;
					struct endpoint_addr *na = realloc(x->addrs, nc * sizeof(*na));
					if (!na) {
						free(s.idx);
						return -ENOMEM;
					}
					memset(na + cap, 0, (nc - cap) * sizeof(*na));
					x->addrs = na;
					cap = nc;
				}
				k = (uint32_t)x->naddrs++;
				s.idx[h] = k;
				x->addrs[k].addr = c->raddr;
				rec_addr[i] = k;
				break;
			}
			if (owl_addr_equal(&x->addrs[k].addr, &c->raddr)) {
				rec_addr[i] = k;
				break;
			}
		}
	}
	free(s.idx);
	return 0;
}

static int resolve_all(struct endpoint_ctx *x)
{
	size_t n = 0;
	struct owl_addr *want = calloc(x->naddrs ? x->naddrs : 1, sizeof(*want));
	uint32_t *which = calloc(x->naddrs ? x->naddrs : 1, sizeof(*which));
	char(*names)[RESOLVE_NAME_MAX] = calloc(x->naddrs ? x->naddrs : 1, RESOLVE_NAME_MAX);
	int rc = -ENOMEM;
	if (!want || !which || !names)
		goto out;
	/* public addresses first: when a slow resolver eats the budget, the
	 * names that matter most are the likeliest to be in */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < x->naddrs; i++) {
			uint8_t s = x->addrs[i].scope;
			if (ep_scope_is_local(s) || (pass == 0) != (s == EP_SCOPE_PUBLIC))
				continue;
			want[n] = x->addrs[i].addr;
			which[n++] = (uint32_t)i;
		}
	rc = resolve_addrs(want, n, x->lim.resolve_ms, names, &x->resolve);
	if (rc < 0)
		goto out;
	x->resolved = true;
	for (size_t i = 0; i < n; i++)
		memcpy(x->addrs[which[i]].domain, names[i], RESOLVE_NAME_MAX);
out:
	free(want);
	free(which);
	free(names);
	return rc;
}

/* Group key: owner pid (0 = unknown), netns, transport, remote address, port. */
struct group {
	uint32_t pid;
	uint32_t addr;
	uint64_t netns;
	uint16_t rport;
	uint8_t transport;
};

static bool counts_for_group(const struct owl_conn *c)
{
	/* only sockets a process holds: orphans (inode 0, e.g. FIN-WAIT-2 after
	 * close) are no longer anyone's connections */
	if (c->direction != OWL_DIR_EGRESS || !c->inode)
		return false;
	if (c->transport == OWL_TP_TCP)
		return c->state != OWL_TCP_TIME_WAIT && c->state != OWL_TCP_LISTEN && c->state != OWL_TCP_CLOSE;
	return c->transport == OWL_TP_UDP;
}

/* One pass with a hash over (process, endpoint): O(n) for any number of
 * connections. */
static int build_groups(struct endpoint_ctx *x, struct scan_result *r, const uint32_t *rec_addr, uint32_t *rec_group)
{
	struct slots s;
	int rc = slots_init(&s, r->nrecs + 1);
	if (rc < 0)
		return rc;
	struct group *g = calloc(r->nrecs ? r->nrecs : 1, sizeof(*g));
	x->groups = calloc(r->nrecs ? r->nrecs : 1, sizeof(*x->groups));
	if (!g || !x->groups) {
		free(s.idx);
		free(g);
		free(rec_group);
		return -ENOMEM;
	}
	size_t ng = 0;
	for (size_t i = 0; i < r->nrecs; i++) {
		const struct owl_record *rec = &r->recs[i];
		const struct owl_conn *c = &rec->conn;
		rec_group[i] = UINT32_MAX;
		if (rec_addr[i] == UINT32_MAX || !counts_for_group(c))
			continue;
		struct group key = {
			.pid = rec->proc ? (uint32_t)rec->proc->pid : 0,
			.addr = rec_addr[i],
			.netns = c->netns_ino,
			.rport = c->rport,
			.transport = c->transport,
		};
		uint64_t hv = mix(((uint64_t)key.pid << 32 | key.addr) ^ mix(key.netns) ^
				  ((uint64_t)key.rport << 8 | key.transport));
		size_t h = (size_t)hv & s.mask;
		uint32_t k;
		for (;; h = (h + 1) & s.mask) {
			k = s.idx[h];
			if (k == UINT32_MAX) {
				k = (uint32_t)ng++;
				s.idx[h] = k;
				g[k] = key;
				break;
			}
			const struct group *o = &g[k];
			if (o->pid == key.pid && o->addr == key.addr && o->netns == key.netns && o->rport == key.rport &&
			    o->transport == key.transport)
				break;
		}
		rec_group[i] = k;
		struct endpoint_group *eg = &x->groups[k];
		struct endpoint_bytes b;
		eg->conns++;
		if (c->transport == OWL_TP_TCP && c->state == OWL_TCP_SYN_SENT)
			eg->synsent++;
		if (endpoint_bytes(c, &b)) {
			eg->out += b.out;
			eg->in += b.in;
		}
	}
	free(s.idx);
	free(g);
	return 0;
}

/* Sockets that share every endpoint fact share one endpoint_info: 100,000
 * sockets of one process to one port need one.  Returns its index in
 * x->infos (grown as needed), or UINT32_MAX when memory ran out. */
struct info_set {
	struct slots s;
	size_t cap;
};

static uint32_t intern_info(struct endpoint_ctx *x, struct info_set *is, const struct endpoint_info *ei)
{
	uint64_t hv = mix((uint64_t)(uintptr_t)ei->remote ^ mix((uint64_t)(uintptr_t)ei->group) ^
			  mix((uint64_t)(uintptr_t)ei->port_name ^ ((uint64_t)(uintptr_t)ei->port_why << 1)) ^
			  ((uint64_t)ei->port_class << 8 | ei->port_checked));
	for (size_t h = (size_t)hv & is->s.mask;; h = (h + 1) & is->s.mask) {
		uint32_t k = is->s.idx[h];
		if (k == UINT32_MAX) {
			if (x->ninfos == is->cap) {
				size_t nc = is->cap ? is->cap * 2 : 64;
				struct endpoint_info *n = realloc(x->infos, nc * sizeof(*n));
				if (!n)
					return UINT32_MAX;
				x->infos = n;
				is->cap = nc;
			}
			k = (uint32_t)x->ninfos++;
			x->infos[k] = *ei;
			is->s.idx[h] = k;
			return k;
		}
		const struct endpoint_info *o = &x->infos[k];
		if (o->remote == ei->remote && o->group == ei->group && o->port_name == ei->port_name &&
		    o->port_why == ei->port_why && o->port_class == ei->port_class && o->port_checked == ei->port_checked)
			return k;
	}
}

/* ---- the rules ---- */

static void who(const struct owl_record *rec, char *buf, size_t bufsz)
{
	if (!rec->proc) {
		snprintf(buf, bufsz, "an unknown process");
		return;
	}
	/* raw: reasons are escaped where they are shown */
	snprintf(buf, bufsz, "pid %d (%s)", (int)rec->proc->pid, rec->proc->comm);
}

static void fmt_bytes(uint64_t b, char *buf, size_t bufsz)
{
	if (b >= (1ull << 30))
		snprintf(buf, bufsz, "%.1f GiB", (double)b / (double)(1ull << 30));
	else if (b >= (1ull << 20))
		snprintf(buf, bufsz, "%.1f MiB", (double)b / (double)(1ull << 20));
	else if (b >= 1024)
		snprintf(buf, bufsz, "%.1f KiB", (double)b / 1024.0);
	else
		snprintf(buf, bufsz, "%llu B", (unsigned long long)b);
}

static void remote_text(const struct owl_conn *c, char *buf, size_t bufsz)
{
	char ip[OWL_ADDRSTR_MAX];
	owl_addr_str(&c->raddr, ip);
	if (c->transport == OWL_TP_RAW)
		snprintf(buf, bufsz, "%s", ip);
	else if (c->raddr.family == AF_INET6)
		snprintf(buf, bufsz, "[%s]:%u", ip, c->rport);
	else
		snprintf(buf, bufsz, "%s:%u", ip, c->rport);
}

static bool is_upload(uint64_t out, uint64_t in, const struct endpoint_limits *l)
{
	return out >= l->large_upload && out / l->upload_ratio >= in;
}

static void judge_one(const struct endpoint_ctx *x, struct owl_record *rec, const struct endpoint_info *ei)
{
	const struct owl_conn *c = &rec->conn;
	const struct endpoint_addr *ra = ei->remote;
	const struct endpoint_limits *l = &x->lim;
	char w[OWL_COMM_MAX + 32], rt[80], b1[32], b2[32];
	who(rec, w, sizeof(w));
	if (ra)
		remote_text(c, rt, sizeof(rt));

	if (ra && ra->has_intel) {
		const char *name = ra->intel.list->name;
		char ip[OWL_ADDRSTR_MAX], entry[INTEL_ENTRY_MAX];
		judge_add(rec, "ioc-match", OWL_SEV_HIGH, "%s is on threat-intel list %s (entry %s)",
			  owl_addr_str(&ra->addr, ip), name, intel_entry_str(&ra->intel, entry));
	}
	if (ra && ra->scope == EP_SCOPE_METADATA && c->direction == OWL_DIR_EGRESS &&
	    !name_in(rec->proc, cloud_agents, OWL_ARRAY_SIZE(cloud_agents)))
		judge_add(rec, "metadata-service", OWL_SEV_MEDIUM,
			  "%s contacts the cloud metadata service %s and is not a known cloud agent", w, rt);
	if (ei->port_checked && ei->port_class == PORT_ABUSE)
		judge_add(rec, "port-unusual", OWL_SEV_MEDIUM, "remote port %u is known for abuse: %s", c->rport,
			  ei->port_why);
	else if (ei->port_checked && ei->port_class == PORT_UNCOMMON)
		judge_add(rec, "port-unusual", OWL_SEV_LOW, "remote port %u is not a common service port", c->rport);
	static const struct endpoint_group nogroup;
	const struct endpoint_group *g = ei->group ? ei->group : &nogroup;
	struct endpoint_bytes b;
	bool has_bytes = endpoint_bytes(c, &b);
	if (g->conns >= l->high_volume)
		judge_add(rec, "high-volume", ra && ra->scope == EP_SCOPE_LOOPBACK ? OWL_SEV_LOW : OWL_SEV_MEDIUM,
			  "%u concurrent connections from %s to %s (threshold %u)", g->conns, w, rt,
			  l->high_volume);
	if (has_bytes && is_upload(b.out, b.in, l)) {
		fmt_bytes(b.out, b1, sizeof(b1));
		fmt_bytes(b.in, b2, sizeof(b2));
		judge_add(rec, "large-upload", OWL_SEV_MEDIUM,
			  "this connection sent %s to %s and received %s (possible exfiltration)", b1, rt, b2);
	} else if (g->conns > 1 && is_upload(g->out, g->in, l)) {
		fmt_bytes(g->out, b1, sizeof(b1));
		fmt_bytes(g->in, b2, sizeof(b2));
		judge_add(rec, "large-upload", OWL_SEV_MEDIUM,
			  "%u connections from %s sent %s to %s and received %s (possible exfiltration)",
			  g->conns, w, b1, rt, b2);
	}
	if (g->synsent >= l->attempts)
		judge_add(rec, "repeated-attempts", OWL_SEV_MEDIUM,
			  "%u unanswered connection attempts (SYN-SENT) from %s to %s", g->synsent, w, rt);
	else if (c->transport == OWL_TP_TCP && c->state == OWL_TCP_SYN_SENT && c->has_tcpinfo &&
		 (c->retransmits || c->backoff))
		judge_add(rec, "repeated-attempts", OWL_SEV_LOW,
			  "connection attempt to %s unanswered: SYN sent %u more times", rt,
			  (unsigned)OWL_MAX(c->retransmits, c->backoff));

	if (c->transport == OWL_TP_RAW || c->transport == OWL_TP_PACKET) {
		bool known = name_in(rec->proc, packet_daemons, OWL_ARRAY_SIZE(packet_daemons));
		char what[160], filt[64] = "";
		if (c->transport == OWL_TP_RAW) {
			const char *pn = owl_ipproto_name(c->protocol);
			snprintf(what, sizeof(what), "raw %s socket for IP protocol %s%s%u%s",
				 c->family == AF_INET6 ? "IPv6" : "IPv4", pn ? pn : "", pn ? " (" : "",
				 c->protocol, pn ? ")" : "");
		} else {
			const char *pn = owl_ethertype_name(c->protocol);
			char ifn[OWL_IFNAME_MAX * 4];
			if (c->ifname[0])
				owl_strlcpy(ifn, c->ifname, sizeof(ifn));
			else if (c->ifindex)
				snprintf(ifn, sizeof(ifn), "ifindex %d", (int)c->ifindex);
			else
				snprintf(ifn, sizeof(ifn), "every interface");
			snprintf(what, sizeof(what), "packet socket (%s, %s) on %s", pn ? pn : "ethertype",
				 c->pkt_type == SOCK_DGRAM ? "cooked" : "raw frames", ifn);
			if (c->has_filter)
				snprintf(filt, sizeof(filt), " with a %u-instruction BPF filter attached", c->filter_len);
			else if (c->source == OWL_SRC_DIAG)
				snprintf(filt, sizeof(filt), " with no BPF filter (sees all traffic)");
		}
		judge_add(rec, "raw-socket", known ? OWL_SEV_LOW : OWL_SEV_MEDIUM, "%s holds a %s%s%s", w, what, filt,
			  known ? " (a network daemon that does this normally)" : "");
	}
}

/* Sockets of a TCP or UDP flow that tcp_info says nothing about (loopback:
 * owl asks tcp_info only for other peers) get the same findings when they
 * share the process, the endpoint facts, the direction and the remote
 * port: judged once, then shared. */
struct jkey {
	const struct endpoint_info *ei;
	const struct owl_proc *proc;
	uint16_t rport;
	uint8_t direction, transport;
};

static bool memoizable(const struct owl_conn *c)
{
	return (c->transport == OWL_TP_TCP || c->transport == OWL_TP_UDP) && !c->has_tcpinfo;
}

static int judge_all(const struct endpoint_ctx *x, struct scan_result *r)
{
	struct slots s;
	/* room for a template per (process, endpoint) group: they grow with the
	 * sockets; past half full the rest are judged one by one */
	int rc = slots_init(&s, OWL_MIN(OWL_MAX(r->nrecs / 4, (size_t)1024), (size_t)1 << 20));
	if (rc < 0)
		return rc;
	struct jkey *keys = NULL;
	struct owl_record *tmpl = NULL;
	size_t n = 0, cap = 0, full = (s.mask + 1) / 2;
	struct judge_memo *memo = judge_memo_new(); /* NULL: merged without one */
	for (size_t i = 0; i < r->nrecs; i++) {
		struct owl_record *rec = &r->recs[i];
		const struct owl_conn *c = &rec->conn;
		if (!memoizable(c) || n >= full) {
			judge_one(x, rec, rec->endpoint);
			continue;
		}
		struct jkey k;
		memset(&k, 0, sizeof(k));
		k.ei = rec->endpoint;
		k.proc = rec->proc;
		/* the remote port shows only in egress findings (port, volume,
		 * attempts, metadata): an inbound socket's peer port is not part
		 * of its story */
		k.rport = c->direction == OWL_DIR_EGRESS ? c->rport : 0;
		k.direction = c->direction;
		k.transport = c->transport;
		uint64_t hv = mix((uint64_t)(uintptr_t)k.ei ^ mix((uint64_t)(uintptr_t)k.proc) ^
				  ((uint64_t)k.rport << 16 | (uint64_t)k.direction << 8 | k.transport));
		size_t h = (size_t)hv & s.mask;
		uint32_t t;
		for (;; h = (h + 1) & s.mask) {
			t = s.idx[h];
			if (t == UINT32_MAX || memcmp(&keys[t], &k, sizeof(k)) == 0)
				break;
		}
		if (t == UINT32_MAX) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct jkey *nk = realloc(keys, nc * sizeof(*nk));
				if (nk)
					keys = nk;
				struct owl_record *nt = nk ? realloc(tmpl, nc * sizeof(*nt)) : NULL;
				if (!nk || !nt) {
					judge_one(x, rec, rec->endpoint);
					continue;
				}
				tmpl = nt;
				cap = nc;
			}
			t = (uint32_t)n++;
			keys[t] = k;
			memset(&tmpl[t], 0, sizeof(tmpl[t]));
			tmpl[t].conn = *c;
			tmpl[t].proc = rec->proc;
			tmpl[t].pids = rec->pids;
			tmpl[t].npids = rec->npids;
			tmpl[t].endpoint = rec->endpoint;
			judge_one(x, &tmpl[t], rec->endpoint);
			s.idx[h] = t;
		}
		judge_add_all_memo(memo, rec, &tmpl[t]);
	}
	judge_memo_free(memo);
	judge_free_findings(tmpl, n);
	free(tmpl);
	free(keys);
	free(s.idx);
	return 0;
}

int endpoint_stage_run(const struct scan_opts *o, struct scan_result *r)
{
	struct endpoint_ctx *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	r->endpoint = x;
	if (o->endpoint_limits)
		x->lim = *o->endpoint_limits;
	else
		endpoint_limits_default(&x->lim);
	int rc = intel_init(&x->intel);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < o->nintel; i++) {
		rc = intel_load_file(&x->intel, o->intel[i]);
		if (rc < 0) {
			x->failed_what = "threat-intel list";
			owl_strlcpy(x->failed_path, o->intel[i], sizeof(x->failed_path));
			x->failed_err = rc;
			return rc;
		}
	}
	const char *dir = o->intel_dir ? o->intel_dir : ENDPOINT_INTEL_DIR;
	if (dir[0] && (rc = intel_load_dir(&x->intel, dir)) < 0) {
		x->failed_what = "threat-intel directory";
		owl_strlcpy(x->failed_path, dir, sizeof(x->failed_path));
		x->failed_err = rc;
		return rc;
	}
	if ((rc = intel_finish(&x->intel)) < 0)
		return rc;
	const char *const *gp = o->geoips;
	size_t ng = o->ngeoip;
	if (!gp && o->geoip) {
		gp = &o->geoip;
		ng = 1;
	}
	size_t bad = 0;
	if ((rc = geo_open(&x->geo, gp, ng, NULL, &bad)) < 0) {
		x->failed_what = "GeoIP database";
		owl_strlcpy(x->failed_path, gp[bad], sizeof(x->failed_path));
		x->failed_err = rc;
		return rc;
	}
	if ((rc = ports_load(&x->ports, NULL)) < 0)
		return rc;

	uint32_t *rec_addr = malloc((r->nrecs ? r->nrecs : 1) * sizeof(*rec_addr));
	if (!rec_addr)
		return -ENOMEM;
	rc = collect_addrs(x, r, rec_addr);
	if (rc < 0) {
		free(rec_addr);
		return rc;
	}
	bool want_geo = geo_available(&x->geo);
	for (size_t i = 0; i < x->naddrs; i++) {
		struct endpoint_addr *a = &x->addrs[i];
		a->scope = (uint8_t)ep_scope_of(&a->addr);
		a->has_intel = intel_lookup(&x->intel, &a->addr, &a->intel);
		if (want_geo && !ep_scope_is_local(a->scope) && a->scope != EP_SCOPE_LOOPBACK)
			a->has_geo = geo_lookup(&x->geo, &a->addr, &a->geo);
	}
	if (o->resolve && (rc = resolve_all(x)) < 0) {
		free(rec_addr);
		return rc;
	}
	/* rec_group, then rec_info: one index per record, reused */
	uint32_t *rec_idx = malloc((r->nrecs ? r->nrecs : 1) * sizeof(*rec_idx));
	struct info_set is = {.cap = 0};
	if (!rec_idx || (rc = build_groups(x, r, rec_addr, rec_idx)) < 0 ||
	    (rc = slots_init(&is.s, r->nrecs + 1)) < 0) {
		free(rec_idx);
		free(rec_addr);
		return rc < 0 ? rc : -ENOMEM;
	}
	for (size_t i = 0; i < r->nrecs; i++) {
		const struct owl_conn *c = &r->recs[i].conn;
		struct endpoint_info ei;
		memset(&ei, 0, sizeof(ei));
		if (rec_addr[i] != UINT32_MAX)
			ei.remote = &x->addrs[rec_addr[i]];
		if (rec_idx[i] != UINT32_MAX)
			ei.group = &x->groups[rec_idx[i]]; /* the groups stay where they are */
		if (ei.remote && c->direction == OWL_DIR_EGRESS && c->rport &&
		    (c->transport == OWL_TP_TCP || c->transport == OWL_TP_UDP)) {
			ei.port_class = (uint8_t)ports_classify(&x->ports, c->transport == OWL_TP_TCP, c->rport,
								&ei.port_name, &ei.port_why);
			/* local IPC on odd loopback ports is normal; abuse ports (a Tor
			 * SOCKS port, say) still count */
			ei.port_checked = ei.remote->scope != EP_SCOPE_LOOPBACK || ei.port_class == PORT_ABUSE;
		}
		rec_idx[i] = intern_info(x, &is, &ei);
		if (rec_idx[i] == UINT32_MAX) {
			rc = -ENOMEM;
			break;
		}
	}
	free(is.s.idx);
	free(rec_addr);
	if (rc < 0) {
		free(rec_idx);
		return rc;
	}
	/* x->infos moved while it grew: pointers only now */
	for (size_t i = 0; i < r->nrecs; i++)
		r->recs[i].endpoint = &x->infos[rec_idx[i]];
	free(rec_idx);
	return judge_all(x, r);
}

void endpoint_ctx_free(struct endpoint_ctx *x)
{
	if (!x)
		return;
	intel_free(&x->intel);
	geo_close(&x->geo);
	ports_free(&x->ports);
	free(x->addrs);
	free(x->infos);
	free(x->groups);
	free(x);
}

void endpoint_where(const struct owl_record *rec, char *buf, size_t bufsz)
{
	const struct endpoint_info *ei = rec->endpoint;
	buf[0] = '\0';
	if (!ei || !ei->remote)
		return;
	const struct endpoint_addr *a = ei->remote;
	struct owl_buf b;
	owl_buf_init(&b);
	owl_buf_puts(&b, ep_scope_name(a->scope));
	if (a->has_geo && a->geo.country[0])
		owl_buf_printf(&b, " %s", a->geo.country);
	if (a->has_geo && a->geo.asn)
		owl_buf_printf(&b, " AS%u", a->geo.asn);
	if (a->domain[0]) {
		owl_buf_putc(&b, ' ');
		owl_escape(&b, a->domain, strlen(a->domain), OWL_ESC_TEXT);
	}
	if (ei->port_name && ei->port_checked) {
		owl_buf_putc(&b, ' ');
		owl_escape(&b, ei->port_name, strlen(ei->port_name), OWL_ESC_TEXT);
	}
	/* already escaped (valid UTF-8): cut on a character boundary */
	size_t n = owl_display_prefix(owl_buf_str(&b), b.len, bufsz / 4 - 1);
	while (n >= bufsz)
		n--;
	memcpy(buf, owl_buf_str(&b), n);
	buf[n] = '\0';
	owl_buf_free(&b);
}
