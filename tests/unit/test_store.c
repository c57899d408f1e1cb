/* The store: creation, migration, refusal of foreign and newer files,
 * transactions.  Real SQLite files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/owl-test-store-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static long long one_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_create_and_reopen(void **state)
{
	char p[128];
	struct store *s = NULL;
	path_of(p, sizeof(p), "sub/dir/owl.db");
	assert_int_equal(store_open(p, 0, &s), -ENOENT);
	assert_null(s);
	assert_int_equal(store_open(p, STORE_CREATE, &s), 0);
	assert_int_equal(one_int(s, "PRAGMA application_id"), STORE_APPLICATION_ID);
	assert_int_equal(one_int(s, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(one_int(s, "SELECT count(*) FROM baseline"), 0);
	store_close(s);
	s = NULL;
	assert_int_equal(store_open(p, STORE_RDONLY, &s), 0);
	store_close(s);
}

static void write_file(const char *p, const void *data, size_t n)
{
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static size_t read_file(const char *p, char *buf, size_t n)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	size_t got = fread(buf, 1, n, f);
	fclose(f);
	return got;
}

static void test_refuses_text_file(void **state)
{
	char p[128], back[4096];
	struct store *s = NULL;
	static const char text[] = "this is a note, not a database\n";
	path_of(p, sizeof(p), "notes.txt");
	write_file(p, text, sizeof(text) - 1);
	assert_int_equal(store_open(p, STORE_CREATE, &s), STORE_ENOTOWL);
	assert_null(s);
	assert_int_equal(read_file(p, back, sizeof(back)), sizeof(text) - 1);
	assert_memory_equal(back, text, sizeof(text) - 1);
	char wal[160];
	snprintf(wal, sizeof(wal), "%s-wal", p);
	assert_int_not_equal(access(wal, F_OK), 0);
}

static void test_refuses_foreign_sqlite(void **state)
{
	char p[128], before[8192], after[8192];
	sqlite3 *db;
	path_of(p, sizeof(p), "other.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	size_t n = read_file(p, before, sizeof(before));
	struct store *s = NULL;
	assert_int_equal(store_open(p, STORE_CREATE, &s), STORE_ENOTOWL);
	assert_int_equal(read_file(p, after, sizeof(after)), n);
	assert_memory_equal(before, after, n);
}

static void test_refuses_newer(void **state)
{
	char p[128], sql[64];
	struct store *s = NULL;
	path_of(p, sizeof(p), "newer.db");
	assert_int_equal(store_open(p, STORE_CREATE, &s), 0);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_version() + 1);
	assert_int_equal(store_exec(s, sql), 0);
	store_close(s);
	s = NULL;
	assert_int_equal(store_open(p, 0, &s), STORE_ENEWER);
	assert_null(s);
	assert_non_null(strstr(store_strerror(STORE_ENEWER), "newer"));
}

static int insert_then_fail(struct store *s, void *arg)
{
	int rc = store_exec(s, "INSERT INTO baseline (kind, host, first_seen, last_seen) VALUES ('allowed', 'h', 1, 1)");
	if (rc < 0)
		return rc;
	return *(int *)arg;
}

static void test_tx(void **state)
{
	char p[128];
	struct store *s = NULL;
	path_of(p, sizeof(p), "tx.db");
	assert_int_equal(store_open(p, STORE_CREATE, &s), 0);
	int fail = -EINVAL, ok = 0;
	assert_int_equal(store_tx(s, insert_then_fail, &fail), -EINVAL);
	assert_int_equal(one_int(s, "SELECT count(*) FROM baseline"), 0);
	assert_int_equal(store_tx(s, insert_then_fail, &ok), 0);
	assert_int_equal(one_int(s, "SELECT count(*) FROM baseline"), 1);
	assert_int_equal(store_tx_begin(s), 0);
	assert_int_equal(store_tx_begin(s), -EALREADY);
	store_tx_rollback(s);
	/* a second writer waits, then gets -EBUSY: shown with a short timeout */
	struct store *t = NULL;
	assert_int_equal(store_open(p, 0, &t), 0);
	assert_int_equal(store_tx_begin(s), 0);
	sqlite3_busy_timeout(store_db(t), 50);
	assert_int_equal(store_tx_begin(t), -EBUSY);
	store_tx_rollback(s);
	assert_int_equal(store_tx_begin(t), 0);
	assert_int_equal(store_tx_commit(t), 0);
	store_close(t);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_text_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_foreign_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
