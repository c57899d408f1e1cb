#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/util.h"
#include "render/escape.h"
#include "render/jsonw.h"
#include "timeline/changes.h"

static void changes_usage(FILE *out)
{
	fprintf(out,
		"usage: owl changes [--since DURATION] [--json]\n"
		"\n"
		"List what changed on this system recently, oldest first: packages installed,\n"
		"upgraded or removed (dpkg and apt logs, rotated ones included), systemd units\n"
		"and timers, crontabs and at jobs, /etc/ld.so.preload, authorized_keys files,\n"
		"the account files and new users' home directories, and executables in\n"
		"world-writable places (/tmp, /var/tmp, /dev/shm, /run/user).\n"
		"\n"
		"  -s, --since DURATION  how far back: 90s, 30m, 12h, 7d (default), 2w\n"
		"  -j, --json            NDJSON, one object per change\n"
		"  -h, --help            this text\n"
		"\n"
		"Package events are exact (from the logs).  Everything else is a file's last\n"
		"change time (the latest of mtime, ctime and birth time): one entry per file,\n"
		"however often it changed.  /etc/passwd entries carry no date; a new user shows\n"
		"as a change of /etc/passwd and the birth of the home directory.\n");
}

static int changes_main(int argc, char **argv);

const struct owl_command cmd_changes = {
	.name = "changes",
	.summary = "what changed on the system recently (packages, units, cron, keys, users)",
	.run = changes_main,
	.usage = changes_usage,
};

static const struct option longopts[] = {
	{"since", required_argument, NULL, 's'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static bool is_package(int kind)
{
	return kind == CHANGE_PKG_INSTALL || kind == CHANGE_PKG_UPGRADE || kind == CHANGE_PKG_REMOVE ||
	       kind == CHANGE_PKG_PURGE;
}

static void json_change(struct owl_buf *b, const struct sys_change *c)
{
	struct jsonw w;
	char t[40];
	jsonw_init(&w, b);
	jsonw_obj_open(&w, NULL);
	owl_format_time(c->time_ns, t, sizeof(t));
	jsonw_str(&w, "@timestamp", t);
	jsonw_obj_open(&w, "event");
	jsonw_str(&w, "kind", "event");
	jsonw_str(&w, "action", "system-change");
	jsonw_arr_open(&w, "category");
	jsonw_str(&w, NULL, is_package(c->kind) ? "package" : c->kind == CHANGE_APT_RUN ? "package" : "configuration");
	jsonw_arr_close(&w);
	jsonw_obj_close(&w);
	if (is_package(c->kind)) {
		jsonw_obj_open(&w, "package");
		jsonw_str(&w, "name", c->subject);
		jsonw_obj_close(&w);
	} else if (c->kind != CHANGE_APT_RUN) {
		jsonw_obj_open(&w, "file");
		jsonw_str(&w, "path", c->subject);
		jsonw_obj_close(&w);
	}
	jsonw_obj_open(&w, "owl");
	jsonw_obj_open(&w, "change");
	jsonw_str(&w, "kind", change_kind_name(c->kind));
	jsonw_str(&w, "subject", c->subject);
	if (c->detail[0])
		jsonw_str(&w, "detail", c->detail);
	if (c->time_source)
		jsonw_str(&w, "time_source", c->time_source);
	jsonw_obj_close(&w);
	jsonw_obj_close(&w);
	jsonw_obj_close(&w);
	owl_buf_putc(b, '\n');
}

static void text_change(struct owl_buf *b, const struct sys_change *c)
{
	char t[40];
	owl_format_time(c->time_ns, t, sizeof(t));
	owl_buf_printf(b, "%s  %-19s ", t, change_kind_name(c->kind));
	owl_escape(b, c->subject, strlen(c->subject), OWL_ESC_TEXT);
	if (c->detail[0]) {
		owl_buf_puts(b, "  (");
		owl_escape(b, c->detail, strlen(c->detail), OWL_ESC_TEXT);
		owl_buf_putc(b, ')');
	}
	if (c->time_source && !is_package(c->kind) && c->kind != CHANGE_APT_RUN)
		owl_buf_printf(b, " [%s]", c->time_source);
	owl_buf_putc(b, '\n');
}

static int changes_main(int argc, char **argv)
{
	uint64_t since = 7ull * 86400 * 1000000000ull;
	bool json = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (changes_parse_duration(optarg, &since) < 0)
				return cli_usage_error(&cmd_changes,
						       "--since: '%s' is not a duration such as 90s, 30m, 12h, 7d or 2w",
						       optarg);
			break;
		case 'j': json = true; break;
		case 'h': changes_usage(stdout); return OWL_EXIT_OK;
		case ':':
			return cli_usage_error(&cmd_changes, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_changes, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_changes, "unexpected argument '%s'", argv[optind]);

	uint64_t now = owl_now_ns();
	struct changes_opts o = {.since_ns = now > since ? now - since : 0};
	struct changes ch;
	int rc = changes_collect(&o, &ch);
	if (rc < 0) {
		cli_err("collecting changes failed: %s", strerror(-rc));
		return OWL_EXIT_ERROR;
	}
	struct owl_buf b;
	owl_buf_init(&b);
	for (size_t i = 0; i < ch.n; i++) {
		owl_buf_reset(&b);
		if (json)
			json_change(&b, &ch.v[i]);
		else
			text_change(&b, &ch.v[i]);
		fwrite(b.data, 1, b.len, stdout);
	}
	owl_buf_free(&b);
	int status = OWL_EXIT_OK;
	if (ch.unreadable)
		fprintf(stderr, "owl: %u files or directories could not be read%s\n", ch.unreadable,
			geteuid() ? " (run as root to see them all)" : "");
	if (ch.truncated)
		fprintf(stderr, "owl: more than %d changes; only the first were listed (use a shorter --since)\n",
			CHANGES_MAX);
	if (fflush(stdout) != 0) {
		cli_err("writing the list failed: %s", strerror(errno));
		status = OWL_EXIT_ERROR;
	}
	changes_free(&ch);
	return status;
}
