/* Port knowledge: the common-service set (the system's /etc/services plus
 * owl's own list of what servers really talk to) and the documented list
 * of ports known for abuse (docs/endpoint.md). */
#ifndef OWL_ENDPOINT_PORTS_H
#define OWL_ENDPOINT_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum port_class {
	PORT_COMMON = 0,   /* a service servers commonly talk to */
	PORT_ABUSE,        /* on the abuse list (medium) */
	PORT_UNCOMMON,     /* neither (low) */
};

#define PORTS_NAME_MAX 32

struct ports_entry {
	uint16_t port;
	uint8_t proto;     /* 't' tcp, 'u' udp */
	char name[PORTS_NAME_MAX];
};

struct ports {
	struct ports_entry *svc;   /* from /etc/services, sorted by (port, proto) */
	size_t nsvc;
};

/* Parse one line of services(5): "name port/proto [aliases] [# comment]".
 * Returns 1 and fills *ret, 0 for a blank or comment line, -EINVAL for a
 * line that is not one. */
int ports_parse_services_line(const char *line, size_t len, struct ports_entry *ret);

/* Load a services(5) file (path NULL = /etc/services).  A missing file
 * leaves owl's own list only and is no error.  Returns 0 or -ENOMEM. */
int ports_load(struct ports *p, const char *path);
void ports_free(struct ports *p);

/* Classify a remote port for transport "tcp" (tcp true) or "udp".
 * *ret_name: a service name or NULL; *ret_why: for PORT_ABUSE, why the
 * port is listed.  Both are static or owned by p. */
enum port_class ports_classify(const struct ports *p, bool tcp, uint16_t port, const char **ret_name,
			       const char **ret_why);

#endif
