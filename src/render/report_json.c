#include "render/report.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "attribute/cgroup.h"
#include "attribute/procinfo.h"
#include "attribute/users.h"
#include "core/addr.h"
#include "core/hashmap.h"
#include "core/names.h"
#include "endpoint/endpoint_json.h"
#include "judge/judge.h"
#include "render/report_origin.h"
#include "store/stage.h"
#include "verify/verify.h"
#include "trace/trace_json.h"

void report_process_fields(struct jsonw *w, const struct owl_proc *p)
{
	char t[40];
	jsonw_u64(w, "pid", (uint64_t)p->pid);
	jsonw_str(w, "name", p->comm);
	if (p->exe[0])
		jsonw_str(w, "executable", p->exe);
	if (p->argc > 0) {
		jsonw_arr_open(w, "args");
		size_t off = 0;
		for (int i = 0; i < p->argc && off <= p->args_len; i++) {
			const char *a = p->args + off;
			const char *z = memchr(a, '\0', p->args_len - off);
			size_t n = z ? (size_t)(z - a) : p->args_len - off;
			jsonw_strn(w, NULL, a, n);
			off += n + 1;
		}
		jsonw_arr_close(w);
		jsonw_u64(w, "args_count", (uint64_t)p->argc);
	}
	jsonw_obj_open(w, "parent");
	jsonw_u64(w, "pid", (uint64_t)p->ppid);
	report_origin_parent(w, p);
	jsonw_obj_close(w);
	if (p->start_time_ns) {
		owl_format_time(p->start_time_ns, t, sizeof(t));
		jsonw_str(w, "start", t);
	}
	if (p->tty_nr) {
		/* tty_nr packs major in bits 8-15 and minor in 0-7 and 20-31 */
		unsigned major = ((unsigned)p->tty_nr >> 8) & 0xff;
		unsigned minor = ((unsigned)p->tty_nr & 0xff) | (((unsigned)p->tty_nr >> 12) & 0xfff00);
		jsonw_obj_open(w, "tty");
		jsonw_u64(w, "char_device_major", major);
		jsonw_u64(w, "char_device_minor", minor);
		jsonw_obj_close(w);
	}
	verify_json_process(w, p);
}

static void endpoint_obj(struct jsonw *w, const char *key, const struct owl_addr *a, uint16_t port, bool with_port,
			 const struct owl_record *rec)
{
	char ip[OWL_ADDRSTR_MAX];
	jsonw_obj_open(w, key);
	jsonw_str(w, "ip", owl_addr_str(a, ip));
	if (with_port)
		jsonw_u64(w, "port", port);
	endpoint_json_end(w, rec, key[0] == 'd');
	trace_json_endpoint(w, rec, key[0] == 'd');
	jsonw_obj_close(w);
}

/* ---- the per-process parts of a record, cached per process ---- */

/* process, package, user, container, orchestrator: top level */
static void seg_process(struct jsonw *w, const struct scan_result *s, const void *key)
{
	const struct owl_proc *p = key;
	char t[40];
	jsonw_obj_open(w, "process");
	report_process_fields(w, p);
	jsonw_obj_close(w);
	verify_json_package(w, p);
	if (p->have_status) {
		jsonw_obj_open(w, "user");
		snprintf(t, sizeof(t), "%u", p->uid);
		jsonw_str(w, "id", t);
		if (p->user[0])
			jsonw_str(w, "name", p->user);
		jsonw_obj_close(w);
	}
	if (p->cg.container_id[0]) {
		jsonw_obj_open(w, "container");
		jsonw_str(w, "id", p->cg.container_id);
		if (p->cg.runtime)
			jsonw_str(w, "runtime", cgroup_runtime_name(p->cg.runtime));
		jsonw_obj_close(w);
	}
	if (p->cg.pod_uid[0]) {
		jsonw_obj_open(w, "orchestrator");
		jsonw_str(w, "type", "kubernetes");
		jsonw_obj_open(w, "resource");
		jsonw_str(w, "type", "pod");
		jsonw_str(w, "id", p->cg.pod_uid);
		jsonw_obj_close(w);
		jsonw_obj_close(w);
	}
}

/* owl.unit, slice, cgroup, args_truncated */
static void seg_owl_proc(struct jsonw *w, const struct scan_result *s, const void *key)
{
	const struct owl_proc *p = key;
	if (p->cg.unit[0])
		jsonw_str(w, "unit", p->cg.unit);
	if (p->cg.slice[0])
		jsonw_str(w, "slice", p->cg.slice);
	if (p->cgroup_path[0])
		jsonw_str(w, "cgroup", p->cgroup_path);
	if (p->args_truncated)
		jsonw_bool(w, "args_truncated", true); /* process.args holds only the first OWL_ARGS_MAX bytes */
}

static void seg_verify(struct jsonw *w, const struct scan_result *s, const void *key)
{
	verify_json_owl(w, key);
}

static void seg_origin(struct jsonw *w, const struct scan_result *s, const void *key)
{
	report_origin_head(w, key);
}

static void seg_tl_head(struct jsonw *w, const struct scan_result *s, const void *key)
{
	report_timeline_head(w, key);
}

static void seg_tl_tail(struct jsonw *w, const struct scan_result *s, const void *key)
{
	report_timeline_tail(w, s, key);
}

/* owl.findings: keyed by the interned set */
static void seg_findings(struct jsonw *w, const struct scan_result *s, const void *key)
{
	const struct owl_record *rec = key;
	jsonw_arr_open(w, "findings");
	for (uint32_t i = 0; i < rec->nfindings; i++) {
		const struct owl_finding *f = &rec->findings[i];
		jsonw_obj_open(w, NULL);
		jsonw_str(w, "id", f->id);
		jsonw_str(w, "severity", judge_severity_name(f->severity));
		jsonw_str(w, "reason", f->reason);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

enum { SEG_PROCESS, SEG_OWL_PROC, SEG_VERIFY, SEG_ORIGIN, SEG_TL_HEAD, SEG_TL_TAIL, SEG_FINDINGS, SEG__N };

typedef void (*seg_fn)(struct jsonw *w, const struct scan_result *s, const void *key);

/* One process's (or one finding set's) JSON, written once per scan. */
struct seg_entry {
	size_t off[SEG__N];
	uint32_t len[SEG__N];
	uint8_t have;              /* bit per segment */
};

struct report_cache {
	const struct scan_result *s;
	struct owl_u64map map;     /* key: address of the process / finding set */
	struct seg_entry *e;
	size_t n, cap;
	struct owl_buf frag;
};

struct report_cache *report_cache_new(void)
{
	struct report_cache *c = calloc(1, sizeof(*c));
	if (c && owl_u64map_init(&c->map, 256) < 0) {
		free(c);
		return NULL;
	}
	if (c)
		owl_buf_init(&c->frag);
	return c;
}

void report_cache_free(struct report_cache *c)
{
	if (!c)
		return;
	owl_u64map_free(&c->map);
	free(c->e);
	owl_buf_free(&c->frag);
	free(c);
}

/* Write segment k of key: from the cache when it holds it, else written
 * into the cache first.  Anything failing falls back to writing directly. */
static void seg(struct jsonw *w, struct report_cache *c, int k, seg_fn fn, const struct scan_result *s,
		const void *key, const void *arg)
{
	if (!c || c->s != s || c->frag.oom) {
		fn(w, s, arg);
		return;
	}
	uint32_t idx;
	uint64_t kk = (uint64_t)(uintptr_t)key;
	if (!owl_u64map_get(&c->map, kk, &idx)) {
		if (c->n == c->cap) {
			size_t nc = c->cap ? c->cap * 2 : 64;
			struct seg_entry *ne = realloc(c->e, nc * sizeof(*ne));
			if (!ne) {
				fn(w, s, arg);
				return;
			}
			c->e = ne;
			c->cap = nc;
		}
		if (owl_u64map_put(&c->map, kk, (uint32_t)c->n) < 0) {
			fn(w, s, arg);
			return;
		}
		idx = (uint32_t)c->n++;
		c->e[idx].have = 0;
	}
	struct seg_entry *e = &c->e[idx];
	if (!(e->have & (1u << k))) {
		struct jsonw rw;
		size_t start = c->frag.len;
		jsonw_init_members(&rw, &c->frag);
		fn(&rw, s, arg);
		if (c->frag.oom || c->frag.len - start > UINT32_MAX) {
			fn(w, s, arg);
			return;
		}
		e->off[k] = start;
		e->len[k] = (uint32_t)(c->frag.len - start);
		e->have |= (uint8_t)(1u << k);
	}
	jsonw_members(w, c->frag.data + e->off[k], e->len[k]);
}

static void record_fields(struct jsonw *w, const struct scan_result *s, const struct owl_record *rec,
			  const char *action, struct report_cache *cache)
{
	const struct owl_conn *c = &rec->conn;
	const struct owl_proc *p = rec->proc;
	char t[40];
	/* one timestamp per scan: format it once */
	static uint64_t ts_ns;
	static char ts[40];
	if (ts_ns != s->time_ns || !ts[0]) {
		owl_format_time(s->time_ns, ts, sizeof(ts));
		ts_ns = s->time_ns;
	}
	jsonw_str(w, "@timestamp", ts);

	jsonw_obj_open(w, "event");
	jsonw_str(w, "kind", rec->severity >= OWL_SEV_MEDIUM ? "alert" : "event");
	jsonw_str(w, "action", action);
	jsonw_arr_open(w, "category");
	jsonw_str(w, NULL, "network");
	jsonw_arr_close(w);
	jsonw_arr_open(w, "type");
	jsonw_str(w, NULL, "connection");
	jsonw_arr_close(w);
	trace_json_event(w, rec);
	jsonw_obj_close(w);

	jsonw_obj_open(w, "network");
	jsonw_str(w, "transport", owl_transport_name(c->transport));
	if (owl_network_type(c))
		jsonw_str(w, "type", owl_network_type(c));
	jsonw_str(w, "direction", owl_direction_name(c->direction));
	if (c->transport == OWL_TP_TCP)
		jsonw_u64(w, "iana_number", 6);
	else if (c->transport == OWL_TP_UDP)
		jsonw_u64(w, "iana_number", 17);
	else if (c->transport == OWL_TP_RAW)
		jsonw_u64(w, "iana_number", c->protocol);
	jsonw_obj_close(w);

	if (c->transport != OWL_TP_PACKET) {
		endpoint_obj(w, "source", &c->laddr, c->lport, c->transport != OWL_TP_RAW, rec);
		/* a listening or unconnected socket has no remote end */
		if (!owl_addr_is_any(&c->raddr) || c->rport)
			endpoint_obj(w, "destination", &c->raddr, c->rport, c->transport != OWL_TP_RAW, rec);
	}

	if (p) {
		seg(w, cache, SEG_PROCESS, seg_process, s, p, p);
	} else if (c->has_uid) {
		char name[OWL_USER_MAX];
		jsonw_obj_open(w, "user");
		snprintf(t, sizeof(t), "%u", c->uid);
		jsonw_str(w, "id", t);
		if (users_name(c->uid, name, sizeof(name)) == 0)
			jsonw_str(w, "name", name);
		jsonw_obj_close(w);
	}

	jsonw_obj_open(w, "owl");
	const struct owl_netns *ns = scan_find_netns(s, c->netns_ino);
	jsonw_obj_open(w, "netns");
	jsonw_u64(w, "inode", c->netns_ino);
	if (ns)
		jsonw_str(w, "name", ns->name);
	jsonw_obj_close(w);
	jsonw_str(w, "state", owl_state_name(c));
	if (p)
		seg(w, cache, SEG_OWL_PROC, seg_owl_proc, s, p, p);
	jsonw_arr_open(w, "pids");
	for (uint32_t i = 0; i < rec->npids; i++)
		jsonw_u64(w, NULL, rec->pids[i]);
	jsonw_arr_close(w);
	if (p && p->gone)
		jsonw_bool(w, "process_exited", true);

	jsonw_obj_open(w, "socket");
	jsonw_u64(w, "inode", c->inode);
	if (c->cookie)
		jsonw_u64(w, "cookie", c->cookie);
	if (c->has_uid)
		jsonw_u64(w, "uid", c->uid);
	jsonw_u64(w, "rqueue", c->rqueue);
	jsonw_u64(w, "wqueue", c->wqueue);
	if (c->cgroup_id)
		jsonw_u64(w, "cgroup_id", c->cgroup_id);
	jsonw_str(w, "source", c->source == OWL_SRC_DIAG ? "sock_diag" : c->source == OWL_SRC_EBPF ? "ebpf" : "procfs");
	if (c->transport == OWL_TP_TCP && c->has_tcpinfo) {
		jsonw_u64(w, "bytes_acked", c->bytes_acked);
		jsonw_u64(w, "bytes_received", c->bytes_received);
		jsonw_u64(w, "retransmits", c->retransmits);
		jsonw_u64(w, "total_retrans", c->total_retrans);
		jsonw_u64(w, "rtt_us", c->rtt_us);
	}
	jsonw_obj_close(w);

	if (c->transport == OWL_TP_RAW) {
		jsonw_obj_open(w, "raw");
		jsonw_u64(w, "protocol", c->protocol);
		if (owl_ipproto_name(c->protocol))
			jsonw_str(w, "protocol_name", owl_ipproto_name(c->protocol));
		jsonw_obj_close(w);
	}
	if (c->transport == OWL_TP_PACKET) {
		jsonw_obj_open(w, "packet");
		snprintf(t, sizeof(t), "0x%04x", c->protocol);
		jsonw_str(w, "protocol", t);
		if (owl_ethertype_name(c->protocol))
			jsonw_str(w, "protocol_name", owl_ethertype_name(c->protocol));
		jsonw_str(w, "type", c->pkt_type == SOCK_DGRAM ? "dgram" : "raw");
		jsonw_i64(w, "ifindex", c->ifindex);
		if (c->ifname[0])
			jsonw_str(w, "interface", c->ifname);
		if (c->source == OWL_SRC_DIAG) {
			jsonw_obj_open(w, "filter");
			jsonw_bool(w, "attached", c->has_filter);
			if (c->has_filter)
				jsonw_u64(w, "instructions", c->filter_len);
			jsonw_obj_close(w);
		}
		jsonw_obj_close(w);
	}

	if (p)
		seg(w, cache, SEG_VERIFY, seg_verify, s, p, p);
	else
		verify_json_owl(w, p);
	baseline_report_json(w, rec);
	endpoint_json_owl(w, rec);
	if (p && p->origin) {
		seg(w, cache, SEG_ORIGIN, seg_origin, s, p, p);
		jsonw_obj_open(w, "timeline");
		seg(w, cache, SEG_TL_HEAD, seg_tl_head, s, p, p);
		report_timeline_first_seen(w, rec);
		seg(w, cache, SEG_TL_TAIL, seg_tl_tail, s, p, p);
		jsonw_obj_close(w);
	}
	jsonw_str(w, "severity", judge_severity_name(rec->severity));
	/* keyed by the interned set: records with the same findings share it */
	if (rec->findings)
		seg(w, cache, SEG_FINDINGS, seg_findings, s, rec->findings, rec);
	else
		seg_findings(w, s, rec);
	jsonw_obj_close(w); /* owl */
}

void report_record_fields(struct jsonw *w, const struct scan_result *s, const struct owl_record *rec,
			  const char *action)
{
	record_fields(w, s, rec, action, NULL);
}

void report_json_line_cached(struct owl_buf *out, const struct scan_result *s, const struct owl_record *rec,
			     struct report_cache *cache)
{
	if (cache && !cache->s)
		cache->s = s;
	struct jsonw w;
	jsonw_init(&w, out);
	jsonw_obj_open(&w, NULL);
	record_fields(&w, s, rec, "connection-observed", cache);
	jsonw_obj_close(&w);
	owl_buf_putc(out, '\n');
}

void report_json_line(struct owl_buf *out, const struct scan_result *s, const struct owl_record *rec)
{
	struct jsonw w;
	jsonw_init(&w, out);
	jsonw_obj_open(&w, NULL);
	report_record_fields(&w, s, rec, "connection-observed");
	jsonw_obj_close(&w);
	owl_buf_putc(out, '\n');
}
