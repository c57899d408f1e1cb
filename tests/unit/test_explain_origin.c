/* The explain sections of the origin stage, on this very test process: a
 * real /proc entry, a real parent chain, and a hostile comm that must come
 * out escaped — in text and in JSON, from the stage's result and computed
 * on demand for a process the scan did not cover. */
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

#include "judge/judge.h"

#include "attribute/origin_stage.h"
#include "attribute/procinfo.h"
#include "core/util.h"
#include "explain/explain_origin.h"

static void render(const struct explain_ctx *x, bool json, struct owl_buf *b)
{
	struct explain_out o;
	owl_buf_reset(b);
	exo_init(&o, b, json);
	explain_origin_ancestry(x, &o);
	explain_origin_section(x, &o);
	explain_origin_timeline(x, &o);
	explain_origin_changes(x, &o);
	if (json)
		jsonw_obj_close(&o.w);
}

static void test_sections_on_self(void **state)
{
	(void)state;
	char oldname[17] = {0};
	prctl(PR_GET_NAME, oldname);
	prctl(PR_SET_NAME, "\x1b[2Jowl\ntest"); /* ESC [2J would clear the reader's screen */

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

	const struct owl_record *recs[1] = {&rec};
	struct explain_ctx x = {.r = &r, .tgt = {.kind = EXPLAIN_PID, .pid = getpid()}, .proc = &r.procs[0],
				.recs = recs, .nrecs = 1, .proc_root = "/proc"};
	struct owl_buf b;
	owl_buf_init(&b);

	render(&x, false, &b);
	const char *text = owl_buf_str(&b);
	if (getenv("OWL_TEST_SHOW"))
		fputs(text, stderr);
	assert_non_null(strstr(text, "HOW IT CAME TO RUN (parent chain)\n"));
	assert_non_null(strstr(text, "<- this process"));
	assert_non_null(strstr(text, "USER-DRIVEN OR AUTOMATED?\n"));
	assert_non_null(strstr(text, "TIMELINE\n"));
	assert_non_null(strstr(text, "process started"));
	assert_non_null(strstr(text, "connections first seen: not recorded"));
	assert_non_null(strstr(text, "IN THE 7 DAYS BEFORE IT STARTED"));
	char ppid[32];
	snprintf(ppid, sizeof(ppid), "└─ %d ", (int)getppid());
	assert_non_null(strstr(text, ppid));
	/* the hostile name is inert */
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "\\x1b[2Jowl\\ntest"));

	render(&x, true, &b);
	const char *json = owl_buf_str(&b);
	assert_non_null(strstr(json, "\"ancestry\":{\"parents\":[{\"pid\":"));
	assert_non_null(strstr(json, "\"origin\":{\"origin\":\""));
	assert_non_null(strstr(json, "\"event\":\"process_start\""));
	assert_null(strchr(json, '\x1b'));

	/* a process the scan did not cover (no sockets): computed on demand */
	struct owl_proc *parent = calloc(1, sizeof(*parent));
	assert_int_equal(procinfo_load("/proc", getppid(), parent), 0);
	x.proc = parent;
	x.tgt.pid = getppid();
	x.nrecs = 0;
	render(&x, false, &b);
	assert_non_null(strstr(owl_buf_str(&b), "<- this process"));
	assert_null(parent->origin);

	/* an endpoint target has none of these sections */
	x.tgt.kind = EXPLAIN_ENDPOINT;
	render(&x, false, &b);
	assert_int_equal(b.len, 0);

	free(parent);
	owl_buf_free(&b);
	origin_ctx_free(c);
	/* a freshly built test binary may earn recent-binary: findings to free */
	judge_free_findings(&rec, 1);
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
