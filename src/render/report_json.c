#include "render/report.h"

#include <string.h>
#include <sys/socket.h>

#include "attribute/cgroup.h"
#include "attribute/procinfo.h"
#include "attribute/users.h"
#include "core/addr.h"
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

void report_record_fields(struct jsonw *w, const struct scan_result *s, const struct owl_record *rec,
			  const char *action)
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
			verify_json_container(w, p);
			jsonw_obj_close(w);
		}
		if (p->cg.pod_uid[0]) {
			jsonw_obj_open(w, "orchestrator");
			jsonw_str(w, "type", "kubernetes");
			jsonw_obj_open(w, "resource");
			jsonw_str(w, "type", "pod");
			jsonw_str(w, "id", p->cg.pod_uid);
			verify_json_pod(w, p);
			jsonw_obj_close(w);
			verify_json_orchestrator(w, p);
			jsonw_obj_close(w);
		}
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
	if (p && p->cg.unit[0])
		jsonw_str(w, "unit", p->cg.unit);
	if (p && p->cg.slice[0])
		jsonw_str(w, "slice", p->cg.slice);
	if (p && p->cgroup_path[0])
		jsonw_str(w, "cgroup", p->cgroup_path);
	if (p && p->args_truncated)
		jsonw_bool(w, "args_truncated", true); /* process.args holds only the first OWL_ARGS_MAX bytes */
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

	verify_json_owl(w, p);
	baseline_report_json(w, rec);
	endpoint_json_owl(w, rec);
	report_origin_fields(w, s, rec);
	jsonw_str(w, "severity", judge_severity_name(rec->severity));
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
	jsonw_obj_close(w); /* owl */
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
