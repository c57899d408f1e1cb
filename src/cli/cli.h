/* The command line: subcommands, their usage, exit codes.  The only layer
 * that prints errors. */
#ifndef OWL_CLI_H
#define OWL_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit codes (as clamscan) */
enum {
	OWL_EXIT_OK = 0,       /* nothing at or above --fail-on */
	OWL_EXIT_FOUND = 1,    /* at least one record at or above --fail-on */
	OWL_EXIT_ERROR = 2,    /* the run itself failed */
};

struct owl_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *out);
};

/* Print "owl: " + message to stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A bad argument: message, the command's usage, exit code 2. */
int cli_usage_error(const struct owl_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Terminal width of stdout (0 when not a terminal and COLUMNS is unset). */
int cli_term_width(void);
/* Colour on stdout: a tty and NO_COLOR unset. */
bool cli_use_color(void);

/* Is this subcommand built in? */
bool cli_have_command(const char *name);

extern const struct owl_command cmd_scan;
extern const struct owl_command cmd_explain;
extern const struct owl_command cmd_changes;
extern const struct owl_command cmd_watch;
extern const struct owl_command cmd_baseline;
extern const struct owl_command cmd_evidence;
extern const struct owl_command cmd_contain;

struct catalogue;
/* cmd_baseline.c: explain a failure to open the store at path (NULL = the
 * default) and print the catalogue's file:line errors (NULL is fine). */
void cli_baseline_store_error(const char *path, int err);
void cli_catalogue_errors(const struct catalogue *c);

#endif
