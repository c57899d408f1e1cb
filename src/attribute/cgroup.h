/* What a cgroup path says: systemd unit, user session, container runtime
 * and id, kubernetes pod. */
#ifndef OWL_CGROUP_H
#define OWL_CGROUP_H

#include <stddef.h>

#include "core/model.h"

/* From the contents of /proc/PID/cgroup pick the path that names units and
 * containers: the cgroup v2 line ("0::"), else the name=systemd line, else
 * the first line with a non-root path.  Returns 0 or -ENOENT. */
int cgroup_pick_path(const char *buf, size_t len, char *ret, size_t retsz);

/* Parse a cgroup path.  Formats understood:
 *  systemd:    /system.slice/nginx.service, /user.slice/user-1000.slice/session-3.scope,
 *              /user.slice/user-1000.slice/user@1000.service/app.slice/foo.service
 *  docker:     /docker/<64hex>, /system.slice/docker-<64hex>.scope
 *  containerd: /default/<id>, .../cri-containerd-<64hex>.scope
 *  cri-o:      .../crio-<64hex>.scope, /kubepods/.../crio-<64hex>
 *  podman:     /machine.slice/libpod-<64hex>.scope, .../libpod-<64hex>.scope/container,
 *              /libpod_parent/libpod-<64hex> (cgroupfs manager)
 *  kubernetes: /kubepods/burstable/pod<uid>/<64hex>,
 *              /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/...
 *  lxc:        /lxc/<name>, /lxc.payload.<name>
 * Never fails: unknown parts are left empty. */
void cgroup_parse_path(const char *path, struct owl_cgroup_info *ret);

/* "docker", "containerd", "cri-o", "podman", "kubernetes", "lxc", "other", or "". */
const char *cgroup_runtime_name(int rt);

#endif
