/* The explain sections of the origin stage, on this very test process:
 * a real /proc entry, a real parent chain, and a hostile comm that must
 * come out escaped.  (The sections live in the CLI layer, so the file is
 * compiled in here.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../src/cli/explain_origin.c"

#include "attribute/procinfo.h"

static void test_sections_on_self(void **state)
{
	(void)state;
	char oldname[17] = {0};
	prctl(PR_GET_NAME, oldname);
	/* ESC [2J would clear the reader's screen */
	prctl(PR_SET_NAME, "\x1b[2Jowl\ntest");

	struct scan_result r;
	memset(&r, 0, sizeof(r));
	r.time_ns = owl_now_ns();
	r.procs = calloc(1, sizeof(*r.procs));
	assert_non_null(r.procs);
	assert_int_equal(procinfo_load("/proc", getpid(), &r.procs[0]), 0);
	r.nprocs = 1;
	struct owl_record rec;
	memset(&rec, 0, sizeof(rec));
	rec.proc = &r.procs[0];
	r.recs = &rec;
	r.nrecs = 1;

	struct origin_ctx *c;
	assert_int_equal(origin_ctx_new("/proc", &c), 0);
	r.origin = c;
	assert_int_equal(origin_run(c, "/proc", &r), 0);
	assert_non_null(r.procs[0].origin);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	explain_ancestry(f, &r.procs[0]);
	explain_origin(f, &r.procs[0]);
	explain_timeline(f, &r, &rec);
	explain_changes(f, &r, &r.procs[0], 5);
	fclose(f);

	if (getenv("OWL_TEST_SHOW")) fputs(text, stderr);
	assert_non_null(strstr(text, "ancestry:\n"));
	assert_non_null(strstr(text, "<- this process"));
	assert_non_null(strstr(text, "origin: "));
	assert_non_null(strstr(text, "timeline:\n"));
	assert_non_null(strstr(text, "process started"));
	assert_non_null(strstr(text, "connection first seen: not recorded"));
	assert_non_null(strstr(text, "changes in the 7 days before it started:"));
	/* the parent is in the tree */
	char ppid[32];
	snprintf(ppid, sizeof(ppid), " %d ", (int)getppid());
	assert_non_null(strstr(text, ppid));
	/* the hostile name is inert */
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "\\x1b[2Jowl\\ntest"));

	free(text);
	origin_ctx_free(c);
	free(r.procs);
	prctl(PR_SET_NAME, oldname);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_on_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
