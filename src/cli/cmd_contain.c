/* owl contain: act on a finding — only when asked (--yes). */
#include <errno.h>
#include <getopt.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "act/active.h"
#include "act/actlog.h"
#include "act/freeze.h"
#include "act/killconn.h"
#include "act/nftblock.h"
#include "act/target.h"
#include "attribute/procinfo.h"
#include "cli/cli.h"
#include "core/addr.h"
#include "core/names.h"
#include "core/util.h"
#include "pipeline/scan.h"
#include "render/escape.h"
#include "render/jsonw.h"
#include "render/report.h"
#include "store/store.h"

/* Exit status of contain: 0 done (or, without --yes, shown), 1 nothing to
 * act on (no matching connection, no such block, not frozen), 2 failed. */
enum { CONTAIN_NOTHING = 1 };

static void contain_usage(FILE *out)
{
	fprintf(out,
		"usage: owl contain COMMAND [OPTIONS] [--yes] [--db FILE]\n"
		"\n"
		"Contain what a scan found.  Without --yes every command only prints exactly\n"
		"what it would do and changes nothing.  Every change made is recorded in the\n"
		"store (who, when, on what, the exact change, the result): see 'history'.\n"
		"\n"
		"  kill-conn [PID | IP[:PORT]] [--pid PID] [--dst IP[:PORT]] [--src IP[:PORT]]\n"
		"            [--transport tcp|udp] [--netns NS]\n"
		"        end the matching connections: their sockets are destroyed with\n"
		"        sock_diag SOCK_DESTROY in their network namespace (the process gets\n"
		"        ECONNABORTED, a TCP peer a reset).  A PID argument is --pid, an\n"
		"        address argument --dst.\n"
		"  block DEST[/PREFIX] [--port N] [--transport tcp|udp] [--for DURATION]\n"
		"        reject traffic to DEST with nftables, in owl's own table 'inet owl'\n"
		"        (hooks output and forward, so containers routed through this host are\n"
		"        covered); for DURATION (30s, 15m, 2h, 7d) or until unblocked\n"
		"  unblock DEST[/PREFIX] [--port N] [--transport tcp|udp] | unblock --all\n"
		"        remove a block (exactly as it was given), or owl's whole table\n"
		"  list [--pid PID] [--dst IP]\n"
		"        active blocks with their expiry, frozen processes, and owl's nft rules;\n"
		"        with --pid/--dst only what is in force for that process or address\n"
		"  freeze PID [--cgroup] [--method auto|cgroup-v2|cgroup-v1|signal]\n"
		"        stop the process (or with --cgroup its whole cgroup) without killing it\n"
		"  thaw PID [--cgroup]\n"
		"        resume what freeze stopped\n"
		"  history [--pid PID] [--json]\n"
		"        the recorded actions, oldest first\n"
		"\n"
		"  -y, --yes        do it (without: print what would be done, change nothing)\n"
		"      --db FILE    the store (default %s)\n"
		"  -h, --help       this text\n"
		"\n"
		"Exit status: 0 done (or shown), 1 nothing to act on, 2 failed.\n",
		STORE_DEFAULT_PATH);
}

static int contain_main(int argc, char **argv);

const struct owl_command cmd_contain = {
	.name = "contain",
	.summary = "kill a connection, block a destination, freeze a process (needs --yes)",
	.run = contain_main,
	.usage = contain_usage,
};

enum {
	OPT_PID = 256, OPT_DST, OPT_SRC, OPT_TRANSPORT, OPT_NETNS, OPT_PORT, OPT_FOR, OPT_ALL, OPT_CGROUP,
	OPT_METHOD, OPT_DB, OPT_JSON,
};

static const struct option longopts[] = {
	{"yes", no_argument, NULL, 'y'},
	{"help", no_argument, NULL, 'h'},
	{"db", required_argument, NULL, OPT_DB},
	{"pid", required_argument, NULL, OPT_PID},
	{"dst", required_argument, NULL, OPT_DST},
	{"src", required_argument, NULL, OPT_SRC},
	{"transport", required_argument, NULL, OPT_TRANSPORT},
	{"netns", required_argument, NULL, OPT_NETNS},
	{"port", required_argument, NULL, OPT_PORT},
	{"for", required_argument, NULL, OPT_FOR},
	{"all", no_argument, NULL, OPT_ALL},
	{"cgroup", no_argument, NULL, OPT_CGROUP},
	{"method", required_argument, NULL, OPT_METHOD},
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0},
};

struct copts {
	const char *sub;
	bool yes, all, cgroup, json;
	const char *db;
	const char *netns;
	struct killconn_sel sel;
	int transport;
	long long port;
	uint64_t duration;
	int method;
	pid_t pid;
	const char *arg;      /* the positional argument */
};

static const char *const allowed_opts[][2] = {
	/* subcommand, options it takes (by long name, space-separated) */
	{"kill-conn", " yes db pid dst src transport netns "},
	{"block", " yes db port transport for "},
	{"unblock", " yes db port transport all "},
	{"list", " db pid dst "},
	{"freeze", " yes db cgroup method "},
	{"thaw", " yes db cgroup "},
	{"history", " db pid json "},
};

static bool opt_allowed(const char *sub, const char *name)
{
	char key[32];
	snprintf(key, sizeof(key), " %s ", name);
	for (size_t i = 0; i < OWL_ARRAY_SIZE(allowed_opts); i++)
		if (strcmp(allowed_opts[i][0], sub) == 0)
			return strstr(allowed_opts[i][1], key) != NULL;
	return false;
}

static int parse_opts(int argc, char **argv, struct copts *o)
{
	int c, idx;
	long long v;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":yh", longopts, &idx)) != -1) {
		const char *lname = NULL;
		for (const struct option *lo = longopts; lo->name; lo++)
			if (lo->val == c)
				lname = lo->name;
		if (lname && c != 'h' && !opt_allowed(o->sub, lname))
			return cli_usage_error(&cmd_contain, "%s: option --%s does not apply", o->sub, lname);
		switch (c) {
		case 'y': o->yes = true; break;
		case 'h': contain_usage(stdout); return -1;
		case OPT_DB: o->db = optarg; break;
		case OPT_ALL: o->all = true; break;
		case OPT_CGROUP: o->cgroup = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_NETNS: o->netns = optarg; break;
		case OPT_PID:
			if (owl_strtonum(optarg, 1, 0x3fffffff, &v) < 0)
				return cli_usage_error(&cmd_contain, "--pid: '%s' is not a process id", optarg);
			o->sel.pid = (pid_t)v;
			o->pid = (pid_t)v;
			break;
		case OPT_DST:
		case OPT_SRC: {
			struct owl_addr a;
			uint16_t port;
			if (target_parse_hostport(optarg, &a, &port) < 0)
				return cli_usage_error(&cmd_contain,
						       "--%s: '%s' is not IP, IP:PORT or [IPv6]:PORT", lname, optarg);
			if (c == OPT_DST) {
				o->sel.has_dst = true, o->sel.dst = a, o->sel.dport = port;
			} else {
				o->sel.has_src = true, o->sel.src = a, o->sel.sport = port;
			}
			break;
		}
		case OPT_TRANSPORT:
			o->transport = target_parse_transport(optarg);
			if (o->transport < 0)
				return cli_usage_error(&cmd_contain, "--transport: '%s' is not tcp or udp", optarg);
			o->sel.transport = o->transport;
			break;
		case OPT_PORT:
			if (owl_strtonum(optarg, 1, 65535, &v) < 0)
				return cli_usage_error(&cmd_contain, "--port: '%s' is not a port from 1 to 65535", optarg);
			o->port = v;
			break;
		case OPT_FOR:
			if (target_parse_duration(optarg, &o->duration) < 0)
				return cli_usage_error(&cmd_contain,
						       "--for: '%s' is not a duration from 1s to 365d (e.g. 90s, 15m, 2h, 7d)",
						       optarg);
			break;
		case OPT_METHOD:
			if (strcmp(optarg, "auto") == 0)
				o->method = FREEZE_AUTO;
			else if (strcmp(optarg, "cgroup-v2") == 0)
				o->method = FREEZE_CGROUP_V2;
			else if (strcmp(optarg, "cgroup-v1") == 0)
				o->method = FREEZE_CGROUP_V1;
			else if (strcmp(optarg, "signal") == 0)
				o->method = FREEZE_SIGNAL;
			else
				return cli_usage_error(&cmd_contain,
						       "--method: '%s' is not auto, cgroup-v2, cgroup-v1 or signal", optarg);
			break;
		case ':':
			return cli_usage_error(&cmd_contain, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_contain, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->arg = argv[optind++];
	if (optind < argc)
		return cli_usage_error(&cmd_contain, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* ---- the store ---------------------------------------------------------- */

static struct store *open_store(const char *db)
{
	struct store *s = NULL;
	int r = store_open(db, STORE_CREATE, &s);
	if (r < 0) {
		char esc[OWL_PATH_MAX];
		const char *p = db ? db : STORE_DEFAULT_PATH;
		owl_escape_to(esc, sizeof(esc), p, strlen(p), OWL_ESC_TEXT);
		cli_err("cannot open the store %s to record the action: %s; nothing was changed "
			"(give a writable --db FILE)", esc, store_strerror(r));
		return NULL;
	}
	return s;
}

static void entry_init(struct act_entry *e, const char *action)
{
	memset(e, 0, sizeof(*e));
	e->at_ms = owl_now_ns() / 1000000ull;
	owl_strlcpy(e->action, action, sizeof(e->action));
	actlog_who(&e->who);
	store_hostname(e->host, sizeof(e->host));
}

static void record(struct store *s, struct act_entry *e, int rc)
{
	e->ok = rc == 0;
	if (rc == 0)
		owl_strlcpy(e->result, "ok", sizeof(e->result));
	else if (!e->result[0])
		snprintf(e->result, sizeof(e->result), "failed: %s", strerror(-rc));
	int64_t id = actlog_record(s, e);
	if (id < 0)
		cli_err("the action was carried out but recording it in the store failed: %s (%s)", strerror((int)-id),
			store_errmsg(s));
}

static void print_indented(const char *text)
{
	const char *p = text;
	while (*p) {
		size_t n = strcspn(p, "\n");
		printf("    %.*s\n", (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
}

/* ---- kill-conn ---------------------------------------------------------- */

static void conn_text(const struct scan_result *r, const struct owl_record *rec, char *buf, size_t bufsz)
{
	char l[128], rm[128], who[128] = "no owner found", ns[OWL_NSNAME_MAX * 4] = "";
	report_endpoint(&rec->conn, false, l, sizeof(l));
	report_endpoint(&rec->conn, true, rm, sizeof(rm));
	if (rec->proc)
		report_proc_label(rec->proc, who, sizeof(who));
	const struct owl_netns *n = scan_find_netns(r, rec->conn.netns_ino);
	if (n)
		owl_escape_to(ns, sizeof(ns), n->name, strlen(n->name), OWL_ESC_TEXT);
	snprintf(buf, bufsz, "%s %s -> %s %s, pid %s, netns %s (%llu)", owl_transport_name(rec->conn.transport), l, rm,
		 owl_state_name(&rec->conn), who, ns[0] ? ns : "?", (unsigned long long)rec->conn.netns_ino);
}

static int do_kill_conn(struct copts *o)
{
	if (o->arg) {
		/* "kill-conn PID" and "kill-conn IP[:PORT]", as explain suggests them */
		long long v;
		struct owl_addr a;
		uint16_t port;
		if (owl_strtonum(o->arg, 1, 0x3fffffff, &v) == 0 && o->sel.pid <= 0) {
			o->sel.pid = (pid_t)v;
		} else if (target_parse_hostport(o->arg, &a, &port) == 0 && !o->sel.has_dst) {
			o->sel.has_dst = true;
			o->sel.dst = a;
			o->sel.dport = port;
		} else {
			return cli_usage_error(&cmd_contain, "kill-conn: '%s' is not a PID or an IP[:PORT] (or repeats "
					       "--pid/--dst)", o->arg);
		}
	}
	if (killconn_sel_empty(&o->sel))
		return cli_usage_error(&cmd_contain, "kill-conn: say which connections: PID, IP[:PORT], --pid, --dst or --src");
	struct scan_opts so = {.all = true, .collect = {.netns = o->netns}};
	struct scan_result r;
	int rc = scan_run(&so, &r);
	if (rc < 0) {
		if (rc == -ENOENT && o->netns)
			cli_err("no network namespace named '%s'", o->netns);
		else
			cli_err("looking for the connections failed: %s", strerror(-rc));
		scan_result_free(&r);
		return OWL_EXIT_ERROR;
	}
	size_t n = 0;
	for (size_t i = 0; i < r.nrecs; i++)
		n += killconn_match(&o->sel, &r.recs[i]);
	if (n == 0) {
		printf("no connection matches (connected TCP and UDP sockets only; see 'owl scan --all')\n");
		scan_result_free(&r);
		return CONTAIN_NOTHING;
	}
	struct store *st = NULL;
	if (o->yes && !(st = open_store(o->db))) {
		scan_result_free(&r);
		return OWL_EXIT_ERROR;
	}
	printf("%s %zu connection%s with sock_diag SOCK_DESTROY, in each socket's network namespace\n"
	       "(the owning process gets ECONNABORTED, a TCP peer receives a reset):\n",
	       o->yes ? "destroying" : "would destroy", n, n == 1 ? "" : "s");
	int status = OWL_EXIT_OK;
	bool unsupported = false;
	for (size_t i = 0; i < r.nrecs; i++) {
		const struct owl_record *rec = &r.recs[i];
		if (!killconn_match(&o->sel, rec))
			continue;
		char text[1024];
		conn_text(&r, rec, text, sizeof(text));
		if (!o->yes) {
			printf("  %s, cookie %llu\n", text, (unsigned long long)rec->conn.cookie);
			continue;
		}
		const struct owl_netns *ns = rec->conn.netns_ino == r.col.self_ns ? NULL
						: scan_find_netns(&r, rec->conn.netns_ino);
		int d = unsupported ? -EOPNOTSUPP : killconn_destroy(ns, &rec->conn);
		struct act_entry e;
		char change[1024];
		entry_init(&e, "kill-conn");
		owl_strlcpy(e.target, text, sizeof(e.target));
		snprintf(change, sizeof(change), "SOCK_DESTROY %s cookie %llu in netns %llu",
			 owl_transport_name(rec->conn.transport), (unsigned long long)rec->conn.cookie,
			 (unsigned long long)rec->conn.netns_ino);
		e.change = change;
		if (rec->proc)
			e.pid = rec->proc->pid;
		owl_addr_str(&rec->conn.raddr, e.dest);
		if (d == -EOPNOTSUPP) {
			unsupported = true;
			owl_strlcpy(e.result, "failed: the kernel lacks CONFIG_INET_DIAG_DESTROY", sizeof(e.result));
		}
		record(st, &e, d);
		if (d == 0) {
			printf("  destroyed: %s\n", text);
		} else if (d == -ENOENT) {
			printf("  already gone: %s\n", text);
		} else {
			printf("  FAILED (%s): %s\n", strerror(-d), text);
			status = OWL_EXIT_ERROR;
		}
	}
	if (unsupported)
		cli_err("this kernel cannot destroy sockets: it was built without CONFIG_INET_DIAG_DESTROY "
			"(SOCK_DESTROY answers EOPNOTSUPP). Nothing was cut. Instead block the destination "
			"('owl contain block') or freeze the process ('owl contain freeze').");
	else if (status != OWL_EXIT_OK && geteuid() != 0)
		cli_err("destroying a socket needs CAP_NET_ADMIN in its namespace: run as root");
	if (!o->yes)
		printf("nothing was changed; run again with --yes to do it\n");
	store_close(st);
	scan_result_free(&r);
	return status;
}

/* ---- block / unblock / list --------------------------------------------- */

static int parse_block(struct copts *o, struct block_spec *b)
{
	if (!o->arg)
		return cli_usage_error(&cmd_contain, "%s: which destination? give an address or CIDR", o->sub);
	memset(b, 0, sizeof(*b));
	if (target_parse_cidr(o->arg, &b->addr, &b->prefix) < 0)
		return cli_usage_error(&cmd_contain,
				       "%s: '%s' is not an address or a CIDR prefix with its host bits zero "
				       "(e.g. 192.0.2.7, 192.0.2.0/24, 2001:db8::/32)", o->sub, o->arg);
	if (b->prefix == 0)
		return cli_usage_error(&cmd_contain, "%s: /0 would cut every destination; refused", o->sub);
	if (owl_addr_is_loopback(&b->addr))
		return cli_usage_error(&cmd_contain, "%s: loopback is not a remote destination; refused", o->sub);
	b->transport = o->transport;
	b->port = (uint16_t)o->port;
	b->timeout = o->duration;
	return 0;
}

static void block_dest_key(const struct block_spec *b, char *buf, size_t bufsz)
{
	char ip[OWL_ADDRSTR_MAX];
	owl_addr_str(&b->addr, ip);
	if (b->prefix != (b->addr.family == AF_INET ? 32 : 128))
		snprintf(buf, bufsz, "%s/%u", ip, b->prefix);
	else
		snprintf(buf, bufsz, "%s", ip);
}

static void show_rules(void)
{
	struct owl_buf out;
	owl_buf_init(&out);
	int r = nftblock_show(&out);
	if (r == 0) {
		printf("owl's nftables rules now (nft list table %s %s):\n", NFTBLOCK_FAMILY, NFTBLOCK_TABLE);
		print_indented(owl_buf_str(&out));
	} else if (r == -ENOENT) {
		printf("owl's nftables table %s %s does not exist: no rules of owl are loaded\n", NFTBLOCK_FAMILY,
		       NFTBLOCK_TABLE);
	} else {
		cli_err("could not list owl's nftables table: %s", strerror(-r));
	}
	owl_buf_free(&out);
}

static int nft_failed(int r, const struct owl_buf *err)
{
	if (r == -ENOENT && !err->len)
		cli_err("nft is not installed (Debian package nftables): nothing was changed");
	else if (r == -EPERM)
		cli_err("nft: permission denied: changing nftables needs CAP_NET_ADMIN (run as root)");
	else {
		char esc[2048];
		owl_escape_to(esc, sizeof(esc), owl_buf_str(err), err->len, OWL_ESC_TEXT);
		cli_err("nft failed (%s): %s", strerror(-r), esc);
	}
	return OWL_EXIT_ERROR;
}

static int do_block(struct copts *o)
{
	struct block_spec b;
	int r = parse_block(o, &b);
	if (r)
		return r;
	char what[160], dur[32];
	block_spec_text(&b, what, sizeof(what));
	struct owl_buf script, err;
	owl_buf_init(&script);
	owl_buf_init(&err);
	nftblock_script_setup(&script);
	nftblock_script_add(&b, &script);
	if (b.timeout)
		target_format_duration(b.timeout, dur, sizeof(dur));
	printf("%s %s%s, %s%s\n", o->yes ? "blocking" : "would block", what,
	       b.transport < 0 ? (b.port ? " (tcp and udp)" : " (every protocol and port)") : "",
	       b.timeout ? "for " : "until 'owl contain unblock'", b.timeout ? dur : "");
	printf("in nftables table %s %s only (hooks output and forward; no other table is touched), "
	       "by running 'nft -f -' with:\n", NFTBLOCK_FAMILY, NFTBLOCK_TABLE);
	print_indented(owl_buf_str(&script));
	if (!o->yes) {
		printf("nothing was changed; run again with --yes to do it\n");
		owl_buf_free(&script);
		return OWL_EXIT_OK;
	}
	struct store *st = open_store(o->db);
	if (!st) {
		owl_buf_free(&script);
		return OWL_EXIT_ERROR;
	}
	r = nftblock_apply(owl_buf_str(&script), &err);
	struct act_entry e;
	entry_init(&e, "block");
	owl_strlcpy(e.target, what, sizeof(e.target));
	e.change = owl_buf_str(&script);
	block_dest_key(&b, e.dest, sizeof(e.dest));
	if (b.timeout)
		e.expires = e.at_ms / 1000 + b.timeout;
	if (r < 0) {
		char esc[400];
		owl_escape_to(esc, sizeof(esc), owl_buf_str(&err), err.len, OWL_ESC_TEXT);
		snprintf(e.result, sizeof(e.result), "failed: %s: %s", strerror(-r), esc);
	}
	record(st, &e, r);
	store_close(st);
	int status = OWL_EXIT_OK;
	if (r < 0)
		status = nft_failed(r, &err);
	else {
		printf("blocked %s\n", what);
		show_rules();
	}
	owl_buf_free(&script);
	owl_buf_free(&err);
	return status;
}

static int count_blocks(void)
{
	struct owl_vec v;
	owl_vec_init(&v, sizeof(struct block_entry));
	int n = nftblock_list(&v);
	owl_vec_free(&v);
	return n;
}

static int do_unblock(struct copts *o)
{
	struct block_spec b;
	struct owl_buf script, err;
	char what[160] = "every block (owl's whole table)";
	int r;
	if (o->all) {
		if (o->arg || o->port || o->transport >= 0)
			return cli_usage_error(&cmd_contain, "unblock --all takes no destination");
	} else {
		r = parse_block(o, &b);
		if (r)
			return r;
		block_spec_text(&b, what, sizeof(what));
	}
	owl_buf_init(&script);
	owl_buf_init(&err);
	if (o->all)
		nftblock_script_flush(&script);
	else
		nftblock_script_del(&b, &script);
	printf("%s %s, by running 'nft -f -' with:\n", o->yes ? "unblocking" : "would unblock", what);
	print_indented(owl_buf_str(&script));
	if (!o->all)
		printf("and then, if no block remains, remove owl's table: delete table %s %s\n", NFTBLOCK_FAMILY,
		       NFTBLOCK_TABLE);
	if (!o->yes) {
		printf("nothing was changed; run again with --yes to do it\n");
		owl_buf_free(&script);
		return OWL_EXIT_OK;
	}
	struct store *st = open_store(o->db);
	if (!st) {
		owl_buf_free(&script);
		return OWL_EXIT_ERROR;
	}
	r = nftblock_apply(owl_buf_str(&script), &err);
	bool removed_table = false;
	struct owl_buf change;
	owl_buf_init(&change);
	owl_buf_puts(&change, owl_buf_str(&script));
	if (r == 0 && !o->all && count_blocks() == 0) {
		struct owl_buf flush;
		owl_buf_init(&flush);
		nftblock_script_flush(&flush);
		if (nftblock_apply(owl_buf_str(&flush), NULL) == 0) {
			removed_table = true;
			owl_buf_puts(&change, owl_buf_str(&flush));
		}
		owl_buf_free(&flush);
	}
	int status = OWL_EXIT_OK;
	if (r == -ENOENT && err.len) {
		printf("no such block: %s (see 'owl contain list'; give it exactly as it was blocked)\n", what);
		status = CONTAIN_NOTHING;
	} else if (r < 0) {
		status = nft_failed(r, &err);
	}
	struct act_entry e;
	entry_init(&e, "unblock");
	owl_strlcpy(e.target, what, sizeof(e.target));
	e.change = owl_buf_str(&change);
	if (!o->all)
		block_dest_key(&b, e.dest, sizeof(e.dest));
	if (r == -ENOENT)
		owl_strlcpy(e.result, "failed: no such block", sizeof(e.result));
	record(st, &e, r);
	store_close(st);
	if (r == 0) {
		printf("unblocked %s\n", what);
		if (removed_table)
			printf("no block remains: owl's table %s %s was removed\n", NFTBLOCK_FAMILY, NFTBLOCK_TABLE);
		else
			show_rules();
	}
	owl_buf_free(&script);
	owl_buf_free(&err);
	owl_buf_free(&change);
	return status;
}

struct frozen_walk {
	pid_t seen[256];
	size_t n;
	unsigned shown;
};

static int list_frozen_cb(const struct act_entry *e, void *arg)
{
	struct frozen_walk *w = arg;
	if (strcmp(e->action, "freeze") != 0 || e->pid <= 0 || !e->ok)
		return 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->seen[i] == (pid_t)e->pid)
			return 0;
	if (w->n < OWL_ARRAY_SIZE(w->seen))
		w->seen[w->n++] = (pid_t)e->pid;
	char cg[OWL_PATH_MAX], esc[OWL_PATH_MAX], tgt[1024];
	int m = freeze_state("/proc", (pid_t)e->pid, cg, sizeof(cg));
	if (m <= 0)
		return 0;
	if (!w->shown++)
		printf("\nfrozen processes (frozen by owl and still frozen):\n");
	owl_escape_to(esc, sizeof(esc), cg, strlen(cg), OWL_ESC_TEXT);
	owl_escape_to(tgt, sizeof(tgt), e->target, strlen(e->target), OWL_ESC_TEXT);
	printf("  %s: %s%s%s\n", tgt, freeze_method_name(m), cg[0] ? " " : "", esc);
	return 0;
}

/* list --pid/--dst: what is in force for that process or destination */
static int list_for(struct copts *o)
{
	struct owl_buf out;
	owl_buf_init(&out);
	int n = act_active_render(&out, "", o->pid, o->sel.has_dst ? &o->sel.dst : NULL);
	if (n < 0) {
		cli_err("asking nftables failed: %s", strerror(-n));
		owl_buf_free(&out);
		return OWL_EXIT_ERROR;
	}
	if (n == 0)
		printf("no active containment for %s\n", o->pid > 0 && o->sel.has_dst ? "that process or destination"
							: o->pid > 0 ? "that process" : "that destination");
	fputs(owl_buf_str(&out), stdout);
	owl_buf_free(&out);
	return OWL_EXIT_OK;
}

static int do_list(struct copts *o)
{
	if (o->arg)
		return cli_usage_error(&cmd_contain, "list: unexpected argument '%s'", o->arg);
	if (o->pid > 0 || o->sel.has_dst)
		return list_for(o);
	struct owl_vec v;
	owl_vec_init(&v, sizeof(struct block_entry));
	int n = nftblock_list(&v);
	if (n < 0) {
		cli_err("listing owl's nftables table failed: %s%s", strerror(-n),
			n == -EPERM ? " (run as root)" : "");
		owl_vec_free(&v);
		return OWL_EXIT_ERROR;
	}
	if (n == 0) {
		printf("no active blocks\n");
	} else {
		printf("%-40s %-9s %-7s %s\n", "DESTINATION", "TRANSPORT", "PORT", "EXPIRES");
		for (int i = 0; i < n; i++) {
			const struct block_entry *e = OWL_VEC_AT(&v, struct block_entry, i);
			char exp[96] = "never (until unblocked)", left[32], total[32];
			if (e->timeout) {
				target_format_duration(e->expires, left, sizeof(left));
				target_format_duration(e->timeout, total, sizeof(total));
				snprintf(exp, sizeof(exp), "in %s (of %s)", left, total);
			}
			printf("%-40s %-9s %-7s %s\n", e->dest, e->proto[0] ? e->proto : "any", e->port[0] ? e->port : "any",
			       exp);
		}
	}
	owl_vec_free(&v);
	/* frozen processes: those the history says owl froze and that still are */
	struct store *st = NULL;
	if (store_open(o->db, 0, &st) == 0) {
		struct frozen_walk w = {.n = 0};
		actlog_each(st, 0, NULL, list_frozen_cb, &w);
		store_close(st);
	}
	printf("\n");
	show_rules();
	return OWL_EXIT_OK;
}

/* ---- freeze / thaw ------------------------------------------------------ */

static const char *method_meaning(int m)
{
	switch (m) {
	case FREEZE_CGROUP_V2:
		return "cgroup v2 freezer: every task of the cgroup stops in the kernel without being told; "
		       "its sockets stay open (peers see silence); only a thaw resumes it";
	case FREEZE_CGROUP_V1:
		return "cgroup v1 freezer: the tasks stop in the kernel without being told; their sockets stay "
		       "open (peers see silence); only a thaw resumes them";
	case FREEZE_SIGNAL:
		return "SIGSTOP: no usable cgroup freezer, so the process is stopped by a signal; weaker: its "
		       "parent is notified, and anyone allowed to signal it can resume it with SIGCONT; its "
		       "children keep running";
	default:
		return "";
	}
}

static int parse_pid_arg(struct copts *o, pid_t *ret)
{
	long long v;
	if (!o->arg)
		return cli_usage_error(&cmd_contain, "%s: which process? give a PID", o->sub);
	if (owl_strtonum(o->arg, 2, 0x3fffffff, &v) < 0)
		return cli_usage_error(&cmd_contain, "%s: '%s' is not a process id (pid 1 is refused)", o->sub, o->arg);
	if ((pid_t)v == getpid())
		return cli_usage_error(&cmd_contain, "%s: that is owl itself", o->sub);
	*ret = (pid_t)v;
	return 0;
}

static void plan_text(const struct freeze_plan *p, bool freeze, char *buf, size_t bufsz)
{
	char dir[OWL_PATH_MAX], orig[OWL_PATH_MAX];
	owl_escape_to(dir, sizeof(dir), p->dir, strlen(p->dir), OWL_ESC_TEXT);
	owl_escape_to(orig, sizeof(orig), p->orig, strlen(p->orig), OWL_ESC_TEXT);
	switch (p->method) {
	case FREEZE_CGROUP_V2:
		snprintf(buf, bufsz, "write %s to %s/cgroup.freeze", freeze ? "1" : "0", dir);
		break;
	case FREEZE_CGROUP_V1:
		if (p->move && freeze)
			snprintf(buf, bufsz,
				 "create %s, move pid %d (all its threads) there from freezer cgroup %s, "
				 "write FROZEN to %s/freezer.state",
				 dir, (int)p->pid, orig, dir);
		else if (p->move)
			snprintf(buf, bufsz,
				 "write THAWED to %s/freezer.state, move pid %d back to freezer cgroup %s, remove %s",
				 dir, (int)p->pid, orig, dir);
		else
			snprintf(buf, bufsz, "write %s to %s/freezer.state", freeze ? "FROZEN" : "THAWED", dir);
		break;
	case FREEZE_SIGNAL:
		snprintf(buf, bufsz, "kill -%s %d", freeze ? "STOP" : "CONT", (int)p->pid);
		break;
	default:
		snprintf(buf, bufsz, "?");
	}
}

static int do_freeze(struct copts *o, bool freeze)
{
	pid_t pid = 0;
	int r = parse_pid_arg(o, &pid);
	if (r)
		return r;
	struct freeze_plan p;
	r = freeze ? freeze_plan_freeze("/proc", pid, o->cgroup, o->method, &p)
		   : freeze_plan_thaw("/proc", pid, o->cgroup, &p);
	if (r == -ESRCH) {
		cli_err("no process %d", (int)pid);
		return OWL_EXIT_ERROR;
	}
	if (r == -EALREADY) {
		printf("pid %d is not frozen (no freezer holds it and it is not stopped)\n", (int)pid);
		return CONTAIN_NOTHING;
	}
	if (r == -EPERM) {
		cli_err("pid %d is a kernel thread: owl does not freeze those", (int)pid);
		return OWL_EXIT_ERROR;
	}
	if (r == -EINVAL) {
		cli_err("pid %d sits in a root cgroup: freezing that would freeze the whole host; "
			"freeze the process alone (without --cgroup)", (int)pid);
		return OWL_EXIT_ERROR;
	}
	if (r < 0) {
		cli_err("no way to %s pid %d with method %s: %s", freeze ? "freeze" : "thaw", (int)pid,
			freeze_method_name(o->method), strerror(-r));
		return OWL_EXIT_ERROR;
	}
	struct owl_proc *pi = calloc(1, sizeof(*pi));
	char label[128] = "?", target[OWL_PATH_MAX + 256], change[OWL_PATH_MAX * 3 + 256];
	if (pi && procinfo_load("/proc", pid, pi) == 0)
		report_proc_label(pi, label, sizeof(label));
	free(pi);
	char cg[OWL_PATH_MAX];
	owl_escape_to(cg, sizeof(cg), p.cgroup, strlen(p.cgroup), OWL_ESC_TEXT);
	if (p.whole_cgroup)
		snprintf(target, sizeof(target), "cgroup %s of pid %s", cg, label);
	else
		snprintf(target, sizeof(target), "pid %s", label);
	plan_text(&p, freeze, change, sizeof(change));
	printf("%s %s with the %s method:\n  %s\n  (%s)\n", freeze ? (o->yes ? "freezing" : "would freeze")
								   : (o->yes ? "thawing" : "would thaw"),
	       target, freeze_method_name(p.method), change, method_meaning(p.method));
	if (!o->yes) {
		printf("nothing was changed; run again with --yes to do it\n");
		return OWL_EXIT_OK;
	}
	struct store *st = open_store(o->db);
	if (!st)
		return OWL_EXIT_ERROR;
	r = freeze ? freeze_apply(&p) : thaw_apply(&p);
	struct act_entry e;
	entry_init(&e, freeze ? "freeze" : "thaw");
	owl_strlcpy(e.target, target, sizeof(e.target));
	e.change = change;
	e.pid = pid;
	record(st, &e, r);
	store_close(st);
	if (r == -ESRCH) {
		cli_err("pid %d exited (or its number was reused) before it could be %s", (int)pid,
			freeze ? "frozen" : "thawed");
		return OWL_EXIT_ERROR;
	}
	if (r < 0) {
		cli_err("%s pid %d failed: %s", freeze ? "freezing" : "thawing", (int)pid, strerror(-r));
		return OWL_EXIT_ERROR;
	}
	printf("%s %s\n", freeze ? "frozen:" : "thawed:", target);
	return OWL_EXIT_OK;
}

/* ---- history ------------------------------------------------------------ */

static int history_text_cb(const struct act_entry *e, void *arg)
{
	char t[40], tgt[1024], user[OWL_USER_MAX * 4], su[OWL_USER_MAX * 4], tty[256], res[1024];
	owl_format_time(e->at_ms * 1000000ull, t, sizeof(t));
	owl_escape_to(tgt, sizeof(tgt), e->target, strlen(e->target), OWL_ESC_TEXT);
	owl_escape_to(user, sizeof(user), e->who.user, strlen(e->who.user), OWL_ESC_TEXT);
	owl_escape_to(su, sizeof(su), e->who.sudo_user, strlen(e->who.sudo_user), OWL_ESC_TEXT);
	owl_escape_to(tty, sizeof(tty), e->who.tty, strlen(e->who.tty), OWL_ESC_TEXT);
	owl_escape_to(res, sizeof(res), e->result, strlen(e->result), OWL_ESC_TEXT);
	printf("#%lld %s %s by uid %u%s%s%s%s%s on %s", (long long)e->id, t, e->action, e->who.uid,
	       user[0] ? " (" : "", user, user[0] ? ")" : "", su[0] ? " via sudo from " : "", su,
	       tty[0] ? tty : "no tty");
	if (e->who.loginuid != UINT32_MAX)
		printf(", login uid %u", e->who.loginuid);
	printf(", host %s\n", e->host);
	printf("  target: %s\n  result: %s\n", tgt, res);
	if (e->expires) {
		char x[40];
		owl_format_time(e->expires * 1000000000ull, x, sizeof(x));
		printf("  expires: %s\n", x);
	}
	printf("  change:\n");
	struct owl_buf esc;
	owl_buf_init(&esc);
	/* escape line by line so the change keeps its shape */
	const char *p = e->change;
	while (*p) {
		size_t n = strcspn(p, "\n");
		owl_buf_reset(&esc);
		owl_escape(&esc, p, n, OWL_ESC_TEXT);
		printf("    %s\n", owl_buf_str(&esc));
		p += n;
		if (*p)
			p++;
	}
	owl_buf_free(&esc);
	(*(unsigned *)arg)++;
	return 0;
}

static int history_json_cb(const struct act_entry *e, void *arg)
{
	struct owl_buf b;
	struct jsonw w;
	char t[40];
	owl_buf_init(&b);
	jsonw_init(&w, &b);
	jsonw_obj_open(&w, NULL);
	owl_format_time(e->at_ms * 1000000ull, t, sizeof(t));
	jsonw_str(&w, "@timestamp", t);
	jsonw_obj_open(&w, "event");
	jsonw_str(&w, "action", e->action);
	jsonw_str(&w, "outcome", e->ok ? "success" : "failure");
	jsonw_obj_close(&w);
	jsonw_obj_open(&w, "user");
	snprintf(t, sizeof(t), "%u", e->who.uid);
	jsonw_str(&w, "id", t);
	if (e->who.user[0])
		jsonw_str(&w, "name", e->who.user);
	jsonw_obj_close(&w);
	jsonw_obj_open(&w, "host");
	jsonw_str(&w, "name", e->host);
	jsonw_obj_close(&w);
	jsonw_obj_open(&w, "owl");
	jsonw_obj_open(&w, "containment");
	jsonw_i64(&w, "id", e->id);
	jsonw_str(&w, "target", e->target);
	jsonw_str(&w, "change", e->change);
	jsonw_str(&w, "result", e->result);
	if (e->pid > 0)
		jsonw_i64(&w, "pid", e->pid);
	if (e->dest[0])
		jsonw_str(&w, "destination", e->dest);
	if (e->expires) {
		owl_format_time(e->expires * 1000000000ull, t, sizeof(t));
		jsonw_str(&w, "expires", t);
	}
	if (e->who.sudo_user[0])
		jsonw_str(&w, "sudo_user", e->who.sudo_user);
	if (e->who.tty[0])
		jsonw_str(&w, "tty", e->who.tty);
	if (e->who.loginuid != UINT32_MAX)
		jsonw_u64(&w, "loginuid", e->who.loginuid);
	jsonw_obj_close(&w);
	jsonw_obj_close(&w);
	jsonw_obj_close(&w);
	owl_buf_putc(&b, '\n');
	fwrite(b.data, 1, b.len, stdout);
	owl_buf_free(&b);
	(*(unsigned *)arg)++;
	return 0;
}

static int do_history(struct copts *o)
{
	if (o->arg)
		return cli_usage_error(&cmd_contain, "history: unexpected argument '%s'", o->arg);
	struct store *st = NULL;
	int r = store_open(o->db, STORE_RDONLY, &st);
	if (r == -ENOENT) {
		if (!o->json)
			printf("no containment actions recorded (no store yet)\n");
		return OWL_EXIT_OK;
	}
	if (r < 0) {
		cli_err("cannot open the store: %s", store_strerror(r));
		return OWL_EXIT_ERROR;
	}
	unsigned n = 0;
	r = actlog_each(st, o->pid, NULL, o->json ? history_json_cb : history_text_cb, &n);
	if (r < 0) {
		cli_err("reading the history failed: %s (%s)", strerror(-r), store_errmsg(st));
		store_close(st);
		return OWL_EXIT_ERROR;
	}
	store_close(st);
	if (n == 0 && !o->json)
		printf("no containment actions recorded\n");
	return fflush(stdout) == 0 ? OWL_EXIT_OK : OWL_EXIT_ERROR;
}

static int contain_main(int argc, char **argv)
{
	if (argc < 2) {
		contain_usage(stderr);
		return OWL_EXIT_ERROR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		contain_usage(stdout);
		return OWL_EXIT_OK;
	}
	struct copts o = {.sub = argv[1], .transport = -1, .sel = {.transport = -1}};
	bool known = false;
	for (size_t i = 0; i < OWL_ARRAY_SIZE(allowed_opts); i++)
		known |= strcmp(allowed_opts[i][0], o.sub) == 0;
	if (!known)
		return cli_usage_error(&cmd_contain, "unknown contain command '%s'", o.sub);
	int r = parse_opts(argc - 1, argv + 1, &o);
	if (r < 0)
		return OWL_EXIT_OK; /* --help */
	if (r > 0)
		return r;
	int status;
	if (strcmp(o.sub, "kill-conn") == 0)
		status = do_kill_conn(&o);
	else if (strcmp(o.sub, "block") == 0)
		status = do_block(&o);
	else if (strcmp(o.sub, "unblock") == 0)
		status = do_unblock(&o);
	else if (strcmp(o.sub, "list") == 0)
		status = do_list(&o);
	else if (strcmp(o.sub, "freeze") == 0)
		status = do_freeze(&o, true);
	else if (strcmp(o.sub, "thaw") == 0)
		status = do_freeze(&o, false);
	else
		status = do_history(&o);
	if (fflush(stdout) != 0)
		status = OWL_EXIT_ERROR;
	return status;
}
