#include "endpoint/ports.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Ports known for abuse.  Sources: Metasploit's defaults, the IRC and Tor
 * port assignments, public mining-pool (stratum) ports, well-known trojan
 * ports.  Checked before the common set: 6667 is in /etc/services as ircd,
 * yet a server talking IRC is the classic botnet command channel. */
static const struct {
	uint16_t lo, hi;
	const char *why;
} abuse[] = {
	{23, 23, "telnet: IoT-botnet (Mirai-style) propagation and remote shells"},
	{1080, 1080, "SOCKS proxy: tunnelling out of the network"},
	{1337, 1337, "'leet' port, a favourite for backdoors and reverse shells"},
	{2323, 2323, "alternate telnet: IoT-botnet propagation"},
	{3333, 3333, "cryptocurrency mining pool (stratum)"},
	{4444, 4445, "Metasploit's default handler port (reverse shells)"},
	{5555, 5555, "cryptocurrency mining pool (stratum) / exposed adb"},
	{6660, 6669, "IRC: botnet command and control"},
	{6697, 6697, "IRC over TLS: botnet command and control"},
	{7777, 7777, "cryptocurrency mining pool (stratum)"},
	{8333, 8333, "Bitcoin peer-to-peer"},
	{9001, 9001, "Tor relay (ORPort)"},
	{9030, 9030, "Tor directory (DirPort)"},
	{9050, 9051, "Tor SOCKS / control port"},
	{9150, 9151, "Tor Browser SOCKS / control port"},
	{12345, 12346, "NetBus trojan"},
	{14433, 14444, "cryptocurrency mining pool (stratum)"},
	{27374, 27374, "SubSeven trojan"},
	{30303, 30303, "Ethereum peer-to-peer"},
	{31337, 31337, "'eleet' port: Back Orifice and reverse shells"},
	{45560, 45560, "cryptocurrency mining pool (stratum)"},
	{45700, 45700, "cryptocurrency mining pool (stratum)"},
	{54320, 54321, "Back Orifice 2000"},
};

/* What servers really talk to, beyond /etc/services (which lacks many of
 * the ports of today's infrastructure, and may be missing entirely). */
static const struct {
	uint16_t port;
	const char *name;
} known[] = {
	{20, "ftp-data"}, {21, "ftp"}, {22, "ssh"}, {25, "smtp"}, {53, "domain"}, {67, "bootps"},
	{68, "bootpc"}, {80, "http"}, {88, "kerberos"}, {110, "pop3"}, {111, "sunrpc"}, {123, "ntp"},
	{137, "netbios-ns"}, {138, "netbios-dgm"}, {139, "netbios-ssn"}, {143, "imap"}, {161, "snmp"},
	{162, "snmp-trap"}, {389, "ldap"}, {443, "https"}, {445, "microsoft-ds"}, {464, "kpasswd"},
	{465, "submissions"}, {500, "isakmp"}, {514, "syslog"}, {546, "dhcpv6-client"},
	{547, "dhcpv6-server"}, {587, "submission"}, {631, "ipp"}, {636, "ldaps"}, {749, "kerberos-adm"},
	{853, "domain-s"}, {873, "rsync"}, {989, "ftps-data"}, {990, "ftps"}, {993, "imaps"},
	{995, "pop3s"}, {1194, "openvpn"}, {1433, "ms-sql"}, {1514, "syslog-tls-alt"}, {1521, "oracle"},
	{1812, "radius"}, {1813, "radius-acct"}, {2049, "nfs"}, {2181, "zookeeper"}, {2375, "docker"},
	{2376, "docker-tls"}, {2379, "etcd-client"}, {2380, "etcd-peer"}, {3128, "squid"},
	{3260, "iscsi"}, {3268, "ldap-gc"}, {3306, "mysql"}, {3478, "stun"}, {3493, "nut"},
	{4317, "otlp-grpc"}, {4318, "otlp-http"}, {4500, "ipsec-nat-t"}, {4789, "vxlan"},
	{5044, "beats"}, {5060, "sip"}, {5061, "sips"}, {5222, "xmpp-client"}, {5269, "xmpp-server"},
	{5353, "mdns"}, {5432, "postgresql"}, {5666, "nrpe"}, {5671, "amqps"}, {5672, "amqp"},
	{6379, "redis"}, {6443, "kubernetes-api"}, {6514, "syslog-tls"}, {7946, "serf"},
	{8000, "http-alt"}, {8008, "http-alt"}, {8080, "http-alt"}, {8081, "http-alt"},
	{8086, "influxdb"}, {8125, "statsd"}, {8200, "vault"}, {8300, "consul"}, {8301, "consul-serf"},
	{8443, "https-alt"}, {8500, "consul-http"}, {8883, "mqtts"}, {9000, "http-alt"},
	{9042, "cassandra"}, {9090, "prometheus"}, {9092, "kafka"}, {9093, "alertmanager"},
	{9100, "node-exporter"}, {9200, "elasticsearch"}, {9300, "elasticsearch-transport"},
	{9418, "git"}, {10050, "zabbix-agent"}, {10051, "zabbix-trapper"}, {10250, "kubelet"},
	{11211, "memcached"}, {15672, "rabbitmq-mgmt"}, {1883, "mqtt"}, {27017, "mongodb"},
	{51820, "wireguard"},
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int ports_parse_services_line(const char *line, size_t len, struct ports_entry *ret)
{
	const char *hash = memchr(line, '#', len);
	if (hash)
		len = (size_t)(hash - line);
	size_t i = 0;
	while (i < len && is_space(line[i]))
		i++;
	if (i == len)
		return 0;
	size_t ns = i;
	while (i < len && !is_space(line[i]))
		i++;
	size_t nlen = i - ns;
	while (i < len && is_space(line[i]))
		i++;
	size_t ps = i;
	while (i < len && line[i] >= '0' && line[i] <= '9')
		i++;
	uint64_t port;
	if (nlen == 0 || nlen >= PORTS_NAME_MAX || i == ps || i >= len || line[i] != '/' ||
	    owl_parse_u64(line + ps, i - ps, 10, &port) < 0 || port == 0 || port > 65535)
		return -EINVAL;
	i++;
	size_t ts = i;
	while (i < len && !is_space(line[i]))
		i++;
	uint8_t proto;
	if (i - ts == 3 && memcmp(line + ts, "tcp", 3) == 0)
		proto = 't';
	else if (i - ts == 3 && memcmp(line + ts, "udp", 3) == 0)
		proto = 'u';
	else if ((i - ts == 4 && memcmp(line + ts, "sctp", 4) == 0) || (i - ts == 3 && memcmp(line + ts, "ddp", 3) == 0))
		return 0; /* a protocol owl does not see */
	else
		return -EINVAL;
	if (memchr(line + ns, '\0', nlen))
		return -EINVAL;
	struct ports_entry e = {.port = (uint16_t)port, .proto = proto};
	memcpy(e.name, line + ns, nlen);
	e.name[nlen] = '\0';
	*ret = e;
	return 1;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct ports_entry *x = a, *y = b;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->proto > y->proto) - (x->proto < y->proto);
}

int ports_load(struct ports *p, const char *path)
{
	memset(p, 0, sizeof(*p));
	FILE *f = fopen(path ? path : "/etc/services", "re");
	if (!f)
		return 0;
	char line[1024];
	size_t cap = 0;
	int rc = 0;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		bool whole = len && line[len - 1] == '\n';
		if (!whole && !feof(f)) {
			/* an overlong line: skip the rest of it */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (whole)
			len--;
		struct ports_entry e;
		if (ports_parse_services_line(line, len, &e) <= 0)
			continue;
		if (p->nsvc == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct ports_entry *n = realloc(p->svc, ncap * sizeof(*n));
			if (!n) {
				rc = -ENOMEM;
				break;
			}
			p->svc = n;
			cap = ncap;
		}
		p->svc[p->nsvc++] = e;
	}
	fclose(f);
	if (rc < 0) {
		ports_free(p);
		return rc;
	}
	qsort(p->svc, p->nsvc, sizeof(*p->svc), cmp_entry);
	return 0;
}

void ports_free(struct ports *p)
{
	if (!p)
		return;
	free(p->svc);
	memset(p, 0, sizeof(*p));
}

enum port_class ports_classify(const struct ports *p, bool tcp, uint16_t port, const char **ret_name,
			       const char **ret_why)
{
	const char *name = NULL;
	struct ports_entry key = {.port = port, .proto = tcp ? 't' : 'u'};
	const struct ports_entry *e = p->nsvc ? bsearch(&key, p->svc, p->nsvc, sizeof(*p->svc), cmp_entry) : NULL;
	if (e)
		name = e->name;
	for (size_t i = 0; !name && i < OWL_ARRAY_SIZE(known); i++)
		if (known[i].port == port)
			name = known[i].name;
	*ret_name = name;
	*ret_why = NULL;
	for (size_t i = 0; i < OWL_ARRAY_SIZE(abuse); i++)
		if (port >= abuse[i].lo && port <= abuse[i].hi) {
			*ret_why = abuse[i].why;
			return PORT_ABUSE;
		}
	return name ? PORT_COMMON : PORT_UNCOMMON;
}
