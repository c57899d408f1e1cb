#include "endpoint/endpoint_json.h"

#include <string.h>

#include "endpoint/endpoint.h"

void endpoint_json_end(struct jsonw *w, const struct owl_record *rec, bool remote)
{
	const struct endpoint_info *ei = rec->endpoint;
	if (!ei)
		return;
	struct endpoint_bytes b;
	if (endpoint_bytes(&rec->conn, &b))
		jsonw_u64(w, "bytes", remote ? b.in : b.out);
	const struct endpoint_addr *a = ei->remote;
	if (!remote || !a)
		return;
	if (a->domain[0])
		jsonw_str(w, "domain", a->domain);
	if (a->has_geo && (a->geo.country[0] || a->geo.city[0])) {
		jsonw_obj_open(w, "geo");
		if (a->geo.country[0])
			jsonw_str(w, "country_iso_code", a->geo.country);
		if (a->geo.city[0])
			jsonw_str(w, "city_name", a->geo.city);
		jsonw_obj_close(w);
	}
	if (a->has_geo && (a->geo.asn || a->geo.as_org[0])) {
		jsonw_obj_open(w, "as");
		if (a->geo.asn)
			jsonw_u64(w, "number", a->geo.asn);
		if (a->geo.as_org[0]) {
			jsonw_obj_open(w, "organization");
			jsonw_str(w, "name", a->geo.as_org);
			jsonw_obj_close(w);
		}
		jsonw_obj_close(w);
	}
}

void endpoint_json_owl(struct jsonw *w, const struct owl_record *rec)
{
	const struct endpoint_info *ei = rec->endpoint;
	if (!ei)
		return;
	const struct endpoint_addr *a = ei->remote;
	struct endpoint_bytes b;
	bool has_bytes = endpoint_bytes(&rec->conn, &b);
	/* nothing to say (a packet socket, a listener): no empty object */
	if (!a && !ei->port_checked && !(ei->group && ei->group->conns) && !has_bytes)
		return;
	jsonw_obj_open(w, "endpoint");
	if (a) {
		jsonw_str(w, "scope", ep_scope_name(a->scope));
		if (a->has_intel) {
			jsonw_obj_open(w, "intel");
			jsonw_str(w, "list", a->intel.list->name);
			jsonw_str(w, "path", a->intel.list->path);
			char entry[INTEL_ENTRY_MAX];
			jsonw_str(w, "entry", intel_entry_str(&a->intel, entry));
			jsonw_obj_close(w);
		}
		if (a->has_geo && a->geo.source)
			jsonw_str(w, "geo_source", a->geo.source);
	}
	if (ei->port_checked) {
		static const char *const cls[] = {"common", "abuse", "uncommon"};
		jsonw_obj_open(w, "port");
		jsonw_str(w, "class", ei->port_class < 3 ? cls[ei->port_class] : "uncommon");
		if (ei->port_name)
			jsonw_str(w, "service", ei->port_name);
		if (ei->port_why)
			jsonw_str(w, "abuse", ei->port_why);
		jsonw_obj_close(w);
	}
	if (has_bytes) {
		jsonw_u64(w, "bytes_sent", b.out);
		jsonw_u64(w, "bytes_acked", b.acked);
		jsonw_u64(w, "bytes_received", b.in);
	}
	if (ei->group && ei->group->conns) {
		jsonw_obj_open(w, "group");
		jsonw_u64(w, "connections", ei->group->conns);
		jsonw_u64(w, "syn_sent", ei->group->synsent);
		jsonw_u64(w, "bytes_sent", ei->group->out);
		jsonw_u64(w, "bytes_received", ei->group->in);
		jsonw_obj_close(w);
	}
	jsonw_obj_close(w);
}
