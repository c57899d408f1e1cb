#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"

static const struct owl_command *const commands[] = {
	&cmd_scan,
	&cmd_watch,
	&cmd_explain,
	&cmd_changes,
	&cmd_baseline,
	&cmd_evidence,
	&cmd_contain,
};

bool cli_have_command(const char *name)
{
	for (size_t i = 0; i < OWL_ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return true;
	return false;
}

__attribute__((format(printf, 1, 0))) static void vmsg(const char *fmt, va_list ap)
{
	fputs("owl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

int cli_usage_error(const struct owl_command *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	if (cmd && cmd->usage) {
		/* the synopsis only (the help up to its first blank line), not
		 * the whole help */
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		if (m) {
			cmd->usage(m);
			fclose(m);
		}
		if (text) {
			const char *end = strstr(text, "\n\n");
			fwrite(text, 1, end ? (size_t)(end - text) + 1 : len, stderr);
			fprintf(stderr, "Try 'owl %s --help' for more.\n", cmd->name);
			free(text);
		} else {
			cmd->usage(stderr);
		}
	}
	return OWL_EXIT_ERROR;
}

int cli_term_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");
	long long v;
	if (cols && owl_strtonum(cols, 1, 10000, &v) == 0)
		return (int)v;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

bool cli_use_color(void)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return false;
	const char *term = getenv("TERM");
	if (term && strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: owl COMMAND [OPTIONS]\n"
		"\n"
		"owl finds the outbound connections of this machine, in every network\n"
		"namespace, and tells which program makes each one and whether it should.\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < OWL_ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out,
		"\n"
		"  owl COMMAND --help   options of one command\n"
		"  owl --version        version\n"
		"\n"
		"exit status: 0 nothing at or above --fail-on, 1 something is, 2 owl failed.\n");
}

int main(int argc, char **argv)
{
	/* Big arrays (records, maps) come from their own mappings and go back
	 * to the system when freed; glibc's default would raise the threshold
	 * after the first such free and serve the next big calloc from the heap,
	 * touching (and counting in RSS) every page of it. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	/* One arena: the scan's worker threads allocate little, and a heap per
	 * thread kept what they freed (4-8 MB of peak RSS at 100,000 sockets). */
	mallopt(M_ARENA_MAX, 1);
	/* Without TZ, glibc stats /etc/localtime on every mktime() (one per
	 * dpkg.log line: thousands a scan); naming the same default file
	 * explicitly reads it once. */
	if (!getenv("TZ"))
		setenv("TZ", ":/etc/localtime", 0);
	if (argc < 2) {
		usage(stderr);
		return OWL_EXIT_ERROR;
	}
	const char *c = argv[1];
	if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
		usage(stdout);
		return OWL_EXIT_OK;
	}
	if (strcmp(c, "--version") == 0 || strcmp(c, "-V") == 0) {
		printf("owl %s\n", OWL_VERSION);
		return OWL_EXIT_OK;
	}
	for (size_t i = 0; i < OWL_ARRAY_SIZE(commands); i++)
		if (strcmp(c, commands[i]->name) == 0)
			return commands[i]->run(argc - 1, argv + 1);
	if (c[0] == '-')
		cli_err("unknown option '%s' (a command comes first, e.g. 'owl scan %s')", c, c);
	else
		cli_err("unknown command '%s'", c);
	usage(stderr);
	return OWL_EXIT_ERROR;
}
