#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/model.h"
#include "core/util.h"

static void set_err(struct store *s);

struct store {
	sqlite3 *db;
	char *path;
	char errmsg[256];
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[STORE_STMT_CACHE];
	size_t nstmts;
};

sqlite3_stmt *store_stmt(struct store *s, const char *sql)
{
	for (size_t i = 0; i < s->nstmts; i++)
		if (s->stmts[i].sql == sql) {
			sqlite3_reset(s->stmts[i].st);
			sqlite3_clear_bindings(s->stmts[i].st);
			return s->stmts[i].st;
		}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		set_err(s);
		sqlite3_finalize(st);
		return NULL;
	}
	if (s->nstmts < STORE_STMT_CACHE) {
		s->stmts[s->nstmts].sql = sql;
		s->stmts[s->nstmts++].st = st;
	}
	return st;
}

bool store_stmt_cached(const struct store *s, const sqlite3_stmt *st)
{
	for (size_t i = 0; i < s->nstmts; i++)
		if (s->stmts[i].st == st)
			return true;
	return false;
}

static void set_err(struct store *s)
{
	owl_strlcpy(s->errmsg, sqlite3_errmsg(s->db), sizeof(s->errmsg));
}

int store_schema_version(void)
{
	int n = 0;
	while (store_migrations[n].sql)
		n++;
	return n;
}

int store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE: return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_READONLY: return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH: return -EACCES;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_CANTOPEN: return -ENOENT;
	case SQLITE_NOTADB: return STORE_ENOTOWL;
	case SQLITE_CORRUPT: return -EUCLEAN;
	case SQLITE_CONSTRAINT: return -EEXIST;
	case SQLITE_TOOBIG: return -E2BIG;
	case SQLITE_MISMATCH:
	case SQLITE_RANGE: return -EINVAL;
	case SQLITE_INTERRUPT: return -EINTR;
	default: return -EIO;
	}
}

const char *store_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case STORE_ENOTOWL: return "not an owl database (left untouched); give another file with --db";
	case STORE_ENEWER: return "made by a newer owl (schema version above what this owl knows); left untouched";
	case -ESTALE: return "older schema and opened read-only; run any 'owl baseline' command once to upgrade it";
	case -EBUSY: return "database busy (another owl held its write lock too long); try again";
	case -EUCLEAN: return "database file is corrupt";
	case -ENOENT: return "no such database (learn or allow something first)";
	case -EROFS: return "the store is read-only here (no write permission on the file or its directory, or a read-only mount)";
	default: return strerror(-err);
	}
}


sqlite3 *store_db(struct store *s)
{
	return s->db;
}

const char *store_path(const struct store *s)
{
	return s->path;
}

const char *store_errmsg(const struct store *s)
{
	return s ? s->errmsg : "";
}

int store_exec(struct store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		set_err(s);
		return store_errno(rc);
	}
	return 0;
}

/* One integer from a PRAGMA or a SELECT. */
static int query_int(struct store *s, const char *sql, long long *ret)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	set_err(s);
	sqlite3_finalize(st);
	return store_errno(rc == SQLITE_DONE ? SQLITE_ERROR : rc);
}

int store_tx_begin(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		return -EALREADY;
	return store_exec(s, "BEGIN IMMEDIATE");
}

int store_tx_commit(struct store *s)
{
	int rc = store_exec(s, "COMMIT");
	if (rc < 0)
		store_tx_rollback(s);
	return rc;
}

void store_tx_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_tx(struct store *s, int (*fn)(struct store *s, void *arg), void *arg)
{
	int rc = store_tx_begin(s);
	if (rc < 0)
		return rc;
	int r = fn(s, arg);
	if (r < 0) {
		store_tx_rollback(s);
		return r;
	}
	rc = store_tx_commit(s);
	return rc < 0 ? rc : r;
}

void store_hostname(char *buf, size_t bufsz)
{
	struct utsname u;
	if (uname(&u) == 0 && u.nodename[0])
		owl_strlcpy(buf, u.nodename, bufsz);
	else
		owl_strlcpy(buf, "localhost", bufsz);
}

/* mkdir -p of path's directory (0700 for what we create). */
static int make_parent(const char *path)
{
	char dir[OWL_PATH_MAX];
	if (owl_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return -ENAMETOOLONG;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Is this an owl database, an empty one we may initialise, or neither?
 * Reads the header only. */
static int check_identity(struct store *s, bool *ret_empty)
{
	long long app, ver, ntables;
	int rc = query_int(s, "PRAGMA application_id", &app);
	if (rc < 0)
		return rc;
	rc = query_int(s, "PRAGMA user_version", &ver);
	if (rc < 0)
		return rc;
	rc = query_int(s, "SELECT count(*) FROM sqlite_master", &ntables);
	if (rc < 0)
		return rc;
	if (app == 0 && ver == 0 && ntables == 0) {
		*ret_empty = true;
		return 0;
	}
	if ((unsigned long long)app != STORE_APPLICATION_ID) {
		snprintf(s->errmsg, sizeof(s->errmsg), "application_id is 0x%08llx, not owl's 0x%08x",
			 (unsigned long long)app & 0xffffffffull, STORE_APPLICATION_ID);
		return STORE_ENOTOWL;
	}
	if (ver > store_schema_version()) {
		snprintf(s->errmsg, sizeof(s->errmsg), "schema version %lld, this owl knows up to %d", ver,
			 store_schema_version());
		return STORE_ENEWER;
	}
	*ret_empty = false;
	return 0;
}

static int migrate(struct store *s)
{
	int target = store_schema_version();
	for (;;) {
		long long ver, app;
		int rc = query_int(s, "PRAGMA user_version", &ver);
		if (rc < 0)
			return rc;
		if (ver >= target)
			return 0;
		rc = store_tx_begin(s);
		if (rc < 0)
			return rc;
		/* another process may have migrated while we waited for the lock */
		if ((rc = query_int(s, "PRAGMA user_version", &ver)) < 0 ||
		    (rc = query_int(s, "PRAGMA application_id", &app)) < 0)
			goto fail;
		if (ver >= target) {
			store_tx_rollback(s);
			return 0;
		}
		if (ver == 0 && app == 0) {
			char sql[64];
			snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", (int)STORE_APPLICATION_ID);
			if ((rc = store_exec(s, sql)) < 0)
				goto fail;
		} else if ((unsigned long long)app != STORE_APPLICATION_ID) {
			rc = STORE_ENOTOWL;
			goto fail;
		}
		if ((rc = store_exec(s, store_migrations[ver].sql)) < 0)
			goto fail;
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", ver + 1);
		if ((rc = store_exec(s, sql)) < 0)
			goto fail;
		if ((rc = store_tx_commit(s)) < 0)
			return rc;
		continue;
fail:
		store_tx_rollback(s);
		return rc;
	}
}

/* Open path read-only and immutable through a file: URI. */
static int open_immutable(const char *path, sqlite3 **ret)
{
	size_t n = strlen(path), cap = n * 3 + 32, len = 0;
	char *uri = malloc(cap);
	if (!uri)
		return -ENOMEM;
	len += (size_t)snprintf(uri, cap, "file:");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c == '?' || c == '#' || c == '%' || c < 0x21 || c > 0x7e)
			len += (size_t)snprintf(uri + len, cap - len, "%%%02X", c);
		else
			uri[len++] = (char)c;
	}
	snprintf(uri + len, cap - len, "?immutable=1");
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		sqlite3_close_v2(db);
		return store_errno(rc);
	}
	*ret = db;
	return 0;
}

int store_open(const char *path, unsigned flags, struct store **ret)
{
	struct stat stbuf;
	int rc;
	if (!path)
		path = STORE_DEFAULT_PATH;
	if (stat(path, &stbuf) < 0) {
		if (errno != ENOENT || !(flags & STORE_CREATE) || (flags & STORE_RDONLY))
			return -errno;
		rc = make_parent(path);
		if (rc < 0)
			return rc;
	} else if (!S_ISREG(stbuf.st_mode)) {
		return S_ISDIR(stbuf.st_mode) ? -EISDIR : STORE_ENOTOWL;
	}

	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->path = strdup(path);
	if (!s->path) {
		free(s);
		return -ENOMEM;
	}
	int oflags = (flags & STORE_RDONLY) ? SQLITE_OPEN_READONLY
					    : SQLITE_OPEN_READWRITE | ((flags & STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
	oflags |= SQLITE_OPEN_NOMUTEX;
	rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		rc = s->db ? store_errno(sqlite3_extended_errcode(s->db)) : -ENOMEM;
		if (rc == -ENOENT && s->db && sqlite3_system_errno(s->db))
			rc = -sqlite3_system_errno(s->db);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);

	bool empty = false;
	rc = check_identity(s, &empty);
	if (rc == -EROFS && (flags & STORE_RDONLY)) {
		/* a WAL database in a directory this user cannot write, with no
		 * -shm file (no writer is running): read it as it was last
		 * checkpointed */
		sqlite3_close_v2(s->db);
		s->db = NULL;
		rc = open_immutable(path, &s->db);
		if (rc < 0)
			goto fail;
		sqlite3_extended_result_codes(s->db, 1);
		rc = check_identity(s, &empty);
	}
	if (rc < 0)
		goto fail;
	if (flags & STORE_RDONLY) {
		long long ver;
		rc = query_int(s, "PRAGMA user_version", &ver);
		if (rc < 0)
			goto fail;
		if (ver < store_schema_version()) {
			rc = -ESTALE;
			goto fail;
		}
	} else {
		long long dummy;
		/* WAL only once we know the file is ours (it rewrites the header) */
		if ((rc = query_int(s, "PRAGMA journal_mode = WAL", &dummy)) < 0 && rc != -EINVAL)
			goto fail;
		if ((rc = store_exec(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")) < 0)
			goto fail;
		if ((rc = migrate(s)) < 0)
			goto fail;
	}
	*ret = s;
	return 0;
fail:
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nstmts; i++)
		sqlite3_finalize(s->stmts[i].st);
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}
