#include "attribute/cgroup.h"

#include <errno.h>
#include <string.h>

#include "core/util.h"

int cgroup_pick_path(const char *buf, size_t len, char *ret, size_t retsz)
{
	const char *best = NULL, *fallback = NULL;
	size_t bestn = 0, fbn = 0;
	int rank = 0;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		/* hierarchy-id:controllers:path */
		const char *c1 = memchr(p, ':', (size_t)(le - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
		if (c2) {
			const char *path = c2 + 1;
			size_t n = (size_t)(le - path);
			size_t ctl = (size_t)(c2 - c1 - 1);
			int r = 0;
			if (c1 - p == 1 && p[0] == '0' && ctl == 0)
				r = 3; /* cgroup v2 */
			else if (ctl == 12 && memcmp(c1 + 1, "name=systemd", 12) == 0)
				r = 2;
			if (r > rank && !(n == 1 && path[0] == '/' && r == 3 && rank == 2)) {
				rank = r;
				best = path;
				bestn = n;
			}
			if (!fallback && n > 1) {
				fallback = path;
				fbn = n;
			}
		}
		p = le + 1;
	}
	/* hybrid hosts show "0::/" while name=systemd has the real path */
	if (best && bestn == 1 && fallback) {
		best = fallback;
		bestn = fbn;
	}
	if (!best) {
		best = fallback;
		bestn = fbn;
	}
	if (!best)
		return -ENOENT;
	owl_strncpy0(ret, retsz, best, bestn);
	return 0;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return n > 0;
}

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n >= k && memcmp(s + n - k, suf, k) == 0;
}

static bool has_prefix(const char *s, size_t n, const char *pre)
{
	size_t k = strlen(pre);
	return n >= k && memcmp(s, pre, k) == 0;
}

static bool is_unit_name(const char *s, size_t n)
{
	return has_suffix(s, n, ".service") || has_suffix(s, n, ".scope") || has_suffix(s, n, ".socket") ||
	       has_suffix(s, n, ".mount") || has_suffix(s, n, ".swap") || has_suffix(s, n, ".timer");
}

const char *cgroup_runtime_name(int rt)
{
	switch (rt) {
	case OWL_CT_DOCKER: return "docker";
	case OWL_CT_CONTAINERD: return "containerd";
	case OWL_CT_CRIO: return "cri-o";
	case OWL_CT_PODMAN: return "podman";
	case OWL_CT_KUBERNETES: return "kubernetes";
	case OWL_CT_LXC: return "lxc";
	case OWL_CT_OTHER: return "other";
	default: return "";
	}
}

struct prefix_rt {
	const char *prefix;
	int rt;
};

/* "<runtime>-<64hex>.scope" forms of the systemd cgroup driver */
static const struct prefix_rt scope_prefixes[] = {
	{"docker-", OWL_CT_DOCKER},
	{"cri-containerd-", OWL_CT_CONTAINERD},
	{"crio-", OWL_CT_CRIO},
	{"libpod-", OWL_CT_PODMAN},
};

static void set_container(struct owl_cgroup_info *ci, const char *id, size_t n, int rt)
{
	owl_strncpy0(ci->container_id, sizeof(ci->container_id), id, n);
	/* a kubernetes pod keeps its runtime; else the first seen wins */
	if (ci->runtime != OWL_CT_KUBERNETES || rt == OWL_CT_KUBERNETES)
		ci->runtime = (uint8_t)rt;
}

void cgroup_parse_path(const char *path, struct owl_cgroup_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	const char *p = path;
	const char *prev = NULL;
	size_t prevn = 0;
	bool in_kube = false, in_container = false;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *c = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - c);

		/* kubernetes */
		if (has_prefix(c, n, "kubepods")) {
			in_kube = true;
			ci->runtime = OWL_CT_KUBERNETES;
			const char *pod = NULL;
			size_t podn = 0;
			/* kubepods-burstable-pod<uid>.slice */
			for (size_t i = 0; i + 3 < n; i++) {
				if (memcmp(c + i, "pod", 3) == 0 && (i == 0 || c[i - 1] == '-')) {
					pod = c + i + 3;
					podn = n - i - 3;
					if (has_suffix(pod, podn, ".slice"))
						podn -= 6;
				}
			}
			if (pod && podn > 0 && podn < sizeof(ci->pod_uid)) {
				owl_strncpy0(ci->pod_uid, sizeof(ci->pod_uid), pod, podn);
				for (char *q = ci->pod_uid; *q; q++)
					if (*q == '_')
						*q = '-';
			}
			goto next;
		}
		if (in_kube && has_prefix(c, n, "pod") && n > 3 && n - 3 < sizeof(ci->pod_uid)) {
			owl_strncpy0(ci->pod_uid, sizeof(ci->pod_uid), c + 3, n - 3);
			goto next;
		}
		/* <runtime>-<id>.scope */
		if (has_suffix(c, n, ".scope")) {
			for (size_t k = 0; k < OWL_ARRAY_SIZE(scope_prefixes); k++) {
				size_t pl = strlen(scope_prefixes[k].prefix);
				if (has_prefix(c, n, scope_prefixes[k].prefix) && n > pl + 6 &&
				    is_hex(c + pl, n - pl - 6)) {
					set_container(ci, c + pl, n - pl - 6,
						      in_kube ? OWL_CT_KUBERNETES : scope_prefixes[k].rt);
					if (in_kube)
						ci->runtime = OWL_CT_KUBERNETES;
					in_container = true;
					goto next;
				}
			}
		}
		/* bare 64-hex id: /docker/<id>, /kubepods/.../<id>, /default/<id> (containerd) */
		if (n == 64 && is_hex(c, n)) {
			int rt = OWL_CT_OTHER;
			if (in_kube)
				rt = OWL_CT_KUBERNETES;
			else if (prev && prevn == 6 && memcmp(prev, "docker", 6) == 0)
				rt = OWL_CT_DOCKER;
			else if (prev && prevn == 6 && memcmp(prev, "libpod", 6) == 0)
				rt = OWL_CT_PODMAN;
			else if (prev && !(prevn >= 6 && has_suffix(prev, prevn, ".slice")))
				rt = OWL_CT_CONTAINERD; /* containerd namespace dir, e.g. /default/<id> */
			set_container(ci, c, n, rt);
			in_container = true;
			goto next;
		}
		/* crio-<id> without .scope (cgroupfs driver) */
		if (has_prefix(c, n, "crio-") && n == 5 + 64 && is_hex(c + 5, 64)) {
			set_container(ci, c + 5, 64, in_kube ? OWL_CT_KUBERNETES : OWL_CT_CRIO);
			in_container = true;
			goto next;
		}
		/* libpod-<id> without .scope (podman's cgroupfs manager: /libpod_parent/libpod-<id>) */
		if (has_prefix(c, n, "libpod-") && n == 7 + 64 && is_hex(c + 7, 64)) {
			set_container(ci, c + 7, 64, in_kube ? OWL_CT_KUBERNETES : OWL_CT_PODMAN);
			in_container = true;
			goto next;
		}
		/* lxc */
		if (has_prefix(c, n, "lxc.payload.") && n > 12) {
			set_container(ci, c + 12, n - 12, OWL_CT_LXC);
			in_container = true;
			goto next;
		}
		if (prev && prevn == 3 && memcmp(prev, "lxc", 3) == 0 && !ci->container_id[0]) {
			set_container(ci, c, n, OWL_CT_LXC);
			in_container = true;
			goto next;
		}
		if (!in_container) {
			if (has_suffix(c, n, ".slice")) {
				owl_strncpy0(ci->slice, sizeof(ci->slice), c, n);
				if (has_prefix(c, n, "user-"))
					ci->user_session = true;
			} else if (is_unit_name(c, n)) {
				/* innermost unit wins: user@1000.service/app.slice/foo.service → foo.service */
				owl_strncpy0(ci->unit, sizeof(ci->unit), c, n);
				if (has_prefix(c, n, "session-") && has_suffix(c, n, ".scope"))
					ci->user_session = true;
			}
		}
next:
		prev = c;
		prevn = n;
	}
}
