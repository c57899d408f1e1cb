/* GeoIP and ASN of remote addresses.
 *
 * MMDB files (MaxMind GeoIP2/GeoLite2 Country, City, ASN; DB-IP lite) are
 * read through libmaxminddb; several can be combined (a City and an ASN
 * file).  Without any, the country comes from Tor's geoip files (Debian's
 * tor-geoipdb: /usr/share/tor/geoip and geoip6), binary-searched in place
 * through mmap, so nothing is loaded up front. */
#ifndef OWL_ENDPOINT_GEO_H
#define OWL_ENDPOINT_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

#define GEO_TOR_DIR "/usr/share/tor"
#define GEO_CITY_MAX 96
#define GEO_ORG_MAX 128

struct geo_info {
	char country[3];           /* ISO 3166 alpha-2, "" if unknown */
	char city[GEO_CITY_MAX];   /* English name, "" if unknown (raw, escape to show) */
	uint32_t asn;              /* 0 if unknown */
	char as_org[GEO_ORG_MAX];  /* "" if unknown (raw, escape to show) */
	const char *source;        /* "mmdb" or "tor-geoip" */
};

struct geo_tor_file {
	const char *map;
	size_t size;
};

struct geo {
	void *dbs;                 /* MMDB_s array */
	size_t ndbs;
	struct geo_tor_file tor4, tor6;
};

/* Open the MMDB files paths[0..n) (n may be 0), and Tor's geoip files in
 * tor_dir (NULL = GEO_TOR_DIR; "" = none) when present.  Returns 0, or
 * -errno for an MMDB file that cannot be read, -EINVAL for one that is
 * not an MMDB database; *ret_bad then names which (index into paths). */
int geo_open(struct geo *g, const char *const *paths, size_t n, const char *tor_dir, size_t *ret_bad);
void geo_close(struct geo *g);

/* True when some source can answer at all. */
bool geo_available(const struct geo *g);

/* Look an address up.  Returns true and fills *ret when anything is known. */
bool geo_lookup(const struct geo *g, const struct owl_addr *a, struct geo_info *ret);

/* Parse one data line of a Tor geoip file: "LOW,HIGH,CC" where LOW/HIGH are
 * decimal IPv4 numbers (v6 false) or IPv6 literals (v6 true).  Returns 1
 * and fills the outputs (addresses as 16 network-order bytes, IPv4 in the
 * first 4), 0 for a comment or blank line, -EINVAL otherwise. */
int geo_tor_parse_line(const char *line, size_t len, bool v6, uint8_t ret_lo[16], uint8_t ret_hi[16],
		       char ret_cc[3]);

#endif
