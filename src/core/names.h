/* Names of enum values as the contract spells them. */
#ifndef OWL_NAMES_H
#define OWL_NAMES_H

#include "core/model.h"

const char *owl_transport_name(int tp);      /* tcp udp raw packet */
/* State as ss prints it: ESTAB, SYN-SENT, ..., UNCONN for unconnected UDP/raw/packet. */
const char *owl_state_name(const struct owl_conn *c);
const char *owl_direction_name(int dir);     /* egress ingress listening unknown */
const char *owl_network_type(const struct owl_conn *c); /* ipv4 ipv6, or NULL for packet */
/* Ethertype name for packet sockets ("all", "ip", "ipv6", "arp", ...) or NULL. */
const char *owl_ethertype_name(uint16_t proto);
/* IP protocol name for raw sockets ("icmp", "tcp", ...) or NULL. */
const char *owl_ipproto_name(uint16_t proto);

#endif
