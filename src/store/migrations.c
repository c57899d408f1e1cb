/* The schema of owl.db, one migration per entry (see store.h).
 * Append only: never edit or reorder an entry once committed. */
#include "store/store.h"

const struct store_migration store_migrations[] = {
	{"store: baseline of (process identity -> destination) pairs, learned or allowed with a note",
	 /* '' in a text column means "any" for an allowance, "unknown" for a
	  * learned pair; NOT NULL so that UNIQUE sees '' = ''. */
	 "CREATE TABLE baseline ("
	 "  id INTEGER PRIMARY KEY,"
	 "  kind TEXT NOT NULL CHECK (kind IN ('learned', 'allowed')),"
	 "  exe TEXT NOT NULL DEFAULT '',"        /* executable path */
	 "  package TEXT NOT NULL DEFAULT '',"    /* owning package */
	 "  digest TEXT NOT NULL DEFAULT '',"     /* sha256 hex of the running image */
	 "  user TEXT NOT NULL DEFAULT '',"
	 "  unit TEXT NOT NULL DEFAULT '',"       /* systemd unit */
	 "  container TEXT NOT NULL DEFAULT '',"  /* container id */
	 "  dest TEXT NOT NULL DEFAULT '',"       /* address, CIDR or domain */
	 "  port_lo INTEGER NOT NULL DEFAULT 0 CHECK (port_lo BETWEEN 0 AND 65535),"
	 "  port_hi INTEGER NOT NULL DEFAULT 65535 CHECK (port_hi BETWEEN port_lo AND 65535),"
	 "  transport TEXT NOT NULL DEFAULT '' CHECK (transport IN ('', 'tcp', 'udp', 'raw')),"
	 "  note TEXT NOT NULL DEFAULT '',"
	 "  host TEXT NOT NULL,"                  /* where the entry came from */
	 "  first_seen INTEGER NOT NULL,"         /* unix seconds */
	 "  last_seen INTEGER NOT NULL,"
	 "  count INTEGER NOT NULL DEFAULT 1,"
	 "  UNIQUE (kind, exe, package, digest, user, unit, container, dest, port_lo, port_hi, transport, host)"
	 ");"
	 "CREATE INDEX baseline_exe ON baseline (exe);"
	 "CREATE INDEX baseline_package ON baseline (package);"},
	{"act: containment history (owl contain: who did what, to what, with which result)",
	 "CREATE TABLE containment ("
	 "  id INTEGER PRIMARY KEY,"
	 "  at INTEGER NOT NULL,"                 /* unix ms */
	 "  action TEXT NOT NULL CHECK (action IN ('kill-conn', 'block', 'unblock', 'freeze', 'thaw')),"
	 "  target TEXT NOT NULL,"                /* what it was done to, as shown to the user */
	 "  change TEXT NOT NULL,"                /* the exact change (nft script, SOCK_DESTROY, freezer write) */
	 "  result TEXT NOT NULL,"                /* 'ok' or the error */
	 "  ok INTEGER NOT NULL,"
	 "  pid INTEGER,"                         /* the process acted on, when one */
	 "  dest TEXT NOT NULL DEFAULT '',"       /* the destination acted on, when one */
	 "  expires INTEGER,"                     /* unix s, for a block with a duration */
	 "  uid INTEGER NOT NULL,"
	 "  user TEXT NOT NULL DEFAULT '',"
	 "  sudo_user TEXT NOT NULL DEFAULT '',"
	 "  tty TEXT NOT NULL DEFAULT '',"
	 "  loginuid INTEGER,"
	 "  host TEXT NOT NULL"
	 ");"
	 "CREATE INDEX containment_pid ON containment (pid);"
	 "CREATE INDEX containment_dest ON containment (dest);"},
	/* Append new migrations above this line. */
	{NULL, NULL},
};
