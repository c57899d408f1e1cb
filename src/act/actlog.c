#include "act/actlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attribute/users.h"
#include "core/util.h"

void actlog_who(struct act_who *w)
{
	memset(w, 0, sizeof(*w));
	w->uid = (uint32_t)getuid();
	users_name(w->uid, w->user, sizeof(w->user));
	const char *su = getenv("SUDO_USER");
	if (su)
		owl_strlcpy(w->sudo_user, su, sizeof(w->sudo_user));
	for (int fd = 0; fd <= 2; fd++)
		if (isatty(fd) && ttyname_r(fd, w->tty, sizeof(w->tty)) == 0)
			break;
	if (!isatty(0) && !isatty(1) && !isatty(2))
		w->tty[0] = '\0';
	w->loginuid = UINT32_MAX;
	char buf[32];
	long long v;
	if (owl_read_file("/proc/self/loginuid", buf, sizeof(buf)) > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		if (owl_strtonum(buf, 0, 0xffffffffll, &v) == 0)
			w->loginuid = (uint32_t)v;
	}
}

int64_t actlog_record(struct store *s, const struct act_entry *e)
{
	static const char sql[] =
		"INSERT INTO containment (at, action, target, change, result, ok, pid, dest, expires,"
		" uid, user, sudo_user, tty, loginuid, host)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	int rc = store_tx_begin(s);
	if (rc < 0)
		return rc;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = store_errno(sqlite3_errcode(db));
		store_tx_rollback(s);
		return rc ? rc : -EIO;
	}
	int i = 1;
	sqlite3_bind_int64(st, i++, (sqlite3_int64)e->at_ms);
	sqlite3_bind_text(st, i++, e->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, e->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, e->change ? e->change : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, e->result, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, e->ok);
	if (e->pid > 0)
		sqlite3_bind_int64(st, i++, e->pid);
	else
		sqlite3_bind_null(st, i++);
	sqlite3_bind_text(st, i++, e->dest, -1, SQLITE_STATIC);
	if (e->expires)
		sqlite3_bind_int64(st, i++, (sqlite3_int64)e->expires);
	else
		sqlite3_bind_null(st, i++);
	sqlite3_bind_int64(st, i++, e->who.uid);
	sqlite3_bind_text(st, i++, e->who.user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, e->who.sudo_user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, e->who.tty, -1, SQLITE_STATIC);
	if (e->who.loginuid != UINT32_MAX)
		sqlite3_bind_int64(st, i++, e->who.loginuid);
	else
		sqlite3_bind_null(st, i++);
	sqlite3_bind_text(st, i++, e->host, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step != SQLITE_DONE) {
		rc = store_errno(step);
		store_tx_rollback(s);
		return rc ? rc : -EIO;
	}
	int64_t id = sqlite3_last_insert_rowid(db);
	rc = store_tx_commit(s);
	return rc < 0 ? rc : id;
}

static void col_text(sqlite3_stmt *st, int col, char *dst, size_t dstsz)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	owl_strlcpy(dst, t ? (const char *)t : "", dstsz);
}

int actlog_each(struct store *s, int64_t pid, const char *dest, int (*fn)(const struct act_entry *e, void *arg),
		void *arg)
{
	static const char sql[] =
		"SELECT id, at, action, target, change, result, ok, pid, dest, expires, uid, user, sudo_user, tty,"
		" loginuid, host FROM containment"
		" WHERE (?1 <= 0 OR pid = ?1) AND (?2 IS NULL OR dest = ?2) ORDER BY id";
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		int rc = store_errno(sqlite3_errcode(db));
		return rc ? rc : -EIO;
	}
	sqlite3_bind_int64(st, 1, pid);
	if (dest)
		sqlite3_bind_text(st, 2, dest, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	struct act_entry *e = malloc(sizeof(*e));
	if (!e) {
		sqlite3_finalize(st);
		return -ENOMEM;
	}
	int n = 0, step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(st, 0);
		e->at_ms = (uint64_t)sqlite3_column_int64(st, 1);
		col_text(st, 2, e->action, sizeof(e->action));
		col_text(st, 3, e->target, sizeof(e->target));
		const unsigned char *ch = sqlite3_column_text(st, 4);
		e->change = ch ? (const char *)ch : "";
		col_text(st, 5, e->result, sizeof(e->result));
		e->ok = sqlite3_column_int(st, 6) != 0;
		e->pid = sqlite3_column_int64(st, 7);
		col_text(st, 8, e->dest, sizeof(e->dest));
		e->expires = (uint64_t)sqlite3_column_int64(st, 9);
		e->who.uid = (uint32_t)sqlite3_column_int64(st, 10);
		col_text(st, 11, e->who.user, sizeof(e->who.user));
		col_text(st, 12, e->who.sudo_user, sizeof(e->who.sudo_user));
		col_text(st, 13, e->who.tty, sizeof(e->who.tty));
		e->who.loginuid = sqlite3_column_type(st, 14) == SQLITE_NULL ? UINT32_MAX
									   : (uint32_t)sqlite3_column_int64(st, 14);
		col_text(st, 15, e->host, sizeof(e->host));
		n++;
		if (fn(e, arg))
			break;
	}
	free(e);
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		int rc = store_errno(step);
		return rc ? rc : -EIO;
	}
	return n;
}
