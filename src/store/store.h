/* The store: owl's SQLite database (baseline, documented exceptions,
 * first-seen history, and whatever later stages need to remember).
 *
 * Guarantees
 *  - A file that is not an owl database (not SQLite at all, or SQLite with
 *    another PRAGMA application_id, or tables but no owl id) is refused with
 *    STORE_ENOTOWL and never written to: the check runs before anything
 *    (WAL switch, migration) could touch it.
 *  - A database whose PRAGMA user_version is above the number of migrations
 *    this binary knows is refused with STORE_ENEWER, untouched.
 *  - WAL journal, synchronous=NORMAL: readers never block the writer, and a
 *    process killed (-9) at any moment leaves the file consistent (SQLite
 *    rolls back the unfinished transaction at the next open).
 *  - busy_timeout = STORE_BUSY_MS: a writer waits that long for another
 *    writer (a scan next to a `baseline learn`), then gets -EBUSY.  Write
 *    transactions start with BEGIN IMMEDIATE so the wait happens at BEGIN,
 *    never as a deadlock in the middle of a transaction.
 *
 * Adding a table (act, origin, ...): append ONE entry at the end of
 * store_migrations[] in src/store/migrations.c:
 *
 *     {"act: containment history",
 *      "CREATE TABLE containment(id INTEGER PRIMARY KEY, ...);"},
 *
 * Never edit or reorder an entry that is already committed: entry i takes a
 * database from user_version i to i+1, inside one transaction together with
 * the user_version bump, so a crash mid-migration leaves the old version.
 * The SQL may hold several statements.  When two branches both append,
 * keep both entries in merge order (databases made by a branch build are
 * throw-away).  Then use store_db() with the plain sqlite3 API, and wrap
 * every change in store_tx_begin()/store_tx_commit() (or store_tx()).
 *
 * Errors are -errno; the SQLite message of the last failure is in
 * store_errmsg() for the CLI to show.  Nothing here prints.
 */
#ifndef OWL_STORE_H
#define OWL_STORE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#define STORE_DEFAULT_PATH "/var/lib/owl/owl.db"
/* PRAGMA application_id of every owl database: "owl1" */
#define STORE_APPLICATION_ID 0x6f776c31
#define STORE_BUSY_MS 10000

/* The file is not an owl database (refused, untouched). */
#define STORE_ENOTOWL (-EMEDIUMTYPE)
/* The database was made by a newer owl (refused, untouched). */
#define STORE_ENEWER (-EPROTONOSUPPORT)

enum store_flags {
	/* Create the file (and its directory, mode 0700) when missing.
	 * Without it a missing file is -ENOENT. */
	STORE_CREATE = 1u << 0,
	/* Open read-only: no migration (an older schema is then -ESTALE). */
	STORE_RDONLY = 1u << 1,
};

struct store;

struct store_migration {
	const char *what; /* one line: "owner: purpose" */
	const char *sql;  /* one or more statements */
};
/* Terminated by an entry with sql == NULL. */
extern const struct store_migration store_migrations[];
/* The schema version this binary writes (number of migrations). */
int store_schema_version(void);

/* Open (and migrate to the current schema) the database at path
 * (NULL = STORE_DEFAULT_PATH).  Returns 0 and *ret, or -errno:
 * -ENOENT (missing, no STORE_CREATE), STORE_ENOTOWL, STORE_ENEWER, -EBUSY,
 * -EACCES, -EROFS, -ENOMEM, -EIO, -ESTALE (old schema with STORE_RDONLY).
 * On failure *ret is untouched (store_strerror() explains the code). */
int store_open(const char *path, unsigned flags, struct store **ret);

/* Closes the database; NULL is fine. */
void store_close(struct store *s);

/* The underlying connection, for the modules that own tables. */
sqlite3 *store_db(struct store *s);

/* The path given to store_open (never NULL). */
const char *store_path(const struct store *s);

/* SQLite's message for the last failure on s ("" when none). */
const char *store_errmsg(const struct store *s);

/* A one-line explanation of a store_open() error, for the CLI. */
const char *store_strerror(int err);

/* Map a SQLite result code to -errno (SQLITE_OK/ROW/DONE → 0). */
int store_errno(int sqlite_rc);

/* Write transactions.  begin = BEGIN IMMEDIATE (waits up to STORE_BUSY_MS
 * for the write lock, then -EBUSY).  Nesting is not supported (-EALREADY). */
int store_tx_begin(struct store *s);
int store_tx_commit(struct store *s);
/* Rolls back; harmless when no transaction is open. */
void store_tx_rollback(struct store *s);

/* Run fn inside one write transaction: committed when fn returns >= 0,
 * rolled back otherwise.  Returns fn's result, or a begin/commit error. */
int store_tx(struct store *s, int (*fn)(struct store *s, void *arg), void *arg);

/* A prepared statement for sql, kept by the store and reused (keyed by
 * the sql POINTER: pass a static string).  It comes back reset with its
 * bindings cleared; do not finalize it (store_close() does).  NULL on
 * failure (store_errmsg() says why).  At most STORE_STMT_CACHE are kept;
 * beyond that each call prepares anew and the caller must finalize: check
 * store_stmt_cached(). */
#define STORE_STMT_CACHE 32
sqlite3_stmt *store_stmt(struct store *s, const char *sql);
bool store_stmt_cached(const struct store *s, const sqlite3_stmt *st);

/* Execute SQL without results (several statements allowed). */
int store_exec(struct store *s, const char *sql);

/* A stable identifier of this host for entries it writes ("hostname" from
 * uname, or "localhost"). */
void store_hostname(char *buf, size_t bufsz);

#endif
