#include "core/names.h"

#include <sys/socket.h>

const char *owl_transport_name(int tp)
{
	switch (tp) {
	case OWL_TP_TCP: return "tcp";
	case OWL_TP_UDP: return "udp";
	case OWL_TP_RAW: return "raw";
	case OWL_TP_PACKET: return "packet";
	default: return "unknown";
	}
}

const char *owl_state_name(const struct owl_conn *c)
{
	if (c->transport != OWL_TP_TCP)
		return c->state == OWL_TCP_ESTABLISHED ? "ESTAB" : "UNCONN";
	switch (c->state) {
	case OWL_TCP_ESTABLISHED: return "ESTAB";
	case OWL_TCP_SYN_SENT: return "SYN-SENT";
	case OWL_TCP_SYN_RECV: return "SYN-RECV";
	case OWL_TCP_FIN_WAIT1: return "FIN-WAIT-1";
	case OWL_TCP_FIN_WAIT2: return "FIN-WAIT-2";
	case OWL_TCP_TIME_WAIT: return "TIME-WAIT";
	case OWL_TCP_CLOSE: return "UNCONN";
	case OWL_TCP_CLOSE_WAIT: return "CLOSE-WAIT";
	case OWL_TCP_LAST_ACK: return "LAST-ACK";
	case OWL_TCP_LISTEN: return "LISTEN";
	case OWL_TCP_CLOSING: return "CLOSING";
	case OWL_TCP_NEW_SYN_RECV: return "NEW-SYN-RECV";
	case OWL_TCP_BOUND_INACTIVE: return "BOUND-INACTIVE";
	default: return "UNKNOWN";
	}
}

const char *owl_direction_name(int dir)
{
	switch (dir) {
	case OWL_DIR_EGRESS: return "egress";
	case OWL_DIR_INGRESS: return "ingress";
	case OWL_DIR_LISTENING: return "listening";
	default: return "unknown";
	}
}

const char *owl_network_type(const struct owl_conn *c)
{
	if (c->family == AF_INET)
		return "ipv4";
	if (c->family == AF_INET6)
		return "ipv6";
	return NULL;
}

const char *owl_ethertype_name(uint16_t p)
{
	switch (p) {
	case 0x0003: return "all";
	case 0x0800: return "ip";
	case 0x86dd: return "ipv6";
	case 0x0806: return "arp";
	case 0x8100: return "802.1q";
	case 0x88cc: return "lldp";
	case 0x888e: return "eapol";
	case 0x0000: return "none";
	default: return NULL;
	}
}

const char *owl_ipproto_name(uint16_t p)
{
	switch (p) {
	case 1: return "icmp";
	case 2: return "igmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 47: return "gre";
	case 58: return "ipv6-icmp";
	case 89: return "ospf";
	case 112: return "vrrp";
	case 132: return "sctp";
	case 255: return "raw";
	default: return NULL;
	}
}
