// SPDX-License-Identifier: GPL-2.0-only
/* glock list: every lock in debugfs, as a table or JSON, like lslocks(8). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsmartcols.h>

#include "glock.h"
#include "tool.h"
#include "cli.h"

/* The columns; ids index this table. */
enum {
	COL_NAME, COL_NS, COL_MODE, COL_HOLDERS, COL_WAITERS, COL_ABANDONED,
	COL_DEADPID, COL_OWNERS, COL_WAITING, COL_PID, COL_COMM, COL_HELD,
	COL_ACQUIRED, COL_CONTENDED, COL_TIMEOUTS, COL_ABANDONS, COL_WAITMAX,
	COL_HOLDMAX, NCOLS
};

static const struct colinfo {
	const char *name;
	double whint;
	int flags;
	int json;
	const char *help;
} infos[NCOLS] = {
	[COL_NAME] = { "NAME", 20, 0, SCOLS_JSON_STRING, "lock name" },
	[COL_NS] = { "NS", 10, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
		     "IPC namespace inode number" },
	[COL_MODE] = { "MODE", 9, 0, SCOLS_JSON_STRING,
		       "free, exclusive or shared" },
	[COL_HOLDERS] = { "HOLDERS", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			  "number of owners holding it" },
	[COL_WAITERS] = { "WAITERS", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			  "number of requests waiting" },
	[COL_ABANDONED] = { "ABANDONED", 3, 0, SCOLS_JSON_BOOLEAN,
			    "an abandoned mark is pending" },
	[COL_DEADPID] = { "DEAD-PID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			  "pid that died holding it (abandoned mark)" },
	[COL_OWNERS] = { "OWNERS", 30, SCOLS_FL_NOEXTREMES, SCOLS_JSON_STRING,
			 "holders: pid/command and seconds held" },
	[COL_WAITING] = { "WAITING", 30, SCOLS_FL_NOEXTREMES,
			  SCOLS_JSON_STRING,
			  "waiters: pid/command and seconds waited" },
	[COL_PID] = { "PID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
		      "pid that took the hold (one holder only)" },
	[COL_COMM] = { "COMMAND", 15, 0, SCOLS_JSON_STRING,
		       "its command name (one holder only)" },
	[COL_HELD] = { "HELD", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
		       "seconds held (one holder only)" },
	[COL_ACQUIRED] = { "ACQUIRED", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			   "times acquired" },
	[COL_CONTENDED] = { "CONTENDED", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			    "times a request had to wait" },
	[COL_TIMEOUTS] = { "TIMEOUTS", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			   "waits that timed out" },
	[COL_ABANDONS] = { "ABANDONS", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			   "times its holder died holding it" },
	[COL_WAITMAX] = { "WAIT-MAX", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			  "longest wait, seconds" },
	[COL_HOLDMAX] = { "HOLD-MAX", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			  "longest hold, seconds" },
};

static const int default_cols[] = {
	COL_NAME, COL_MODE, COL_HOLDERS, COL_WAITERS, COL_ABANDONED,
	COL_DEADPID, COL_OWNERS, COL_WAITING,
};

/* All records of debugfs "locks", read at once. */
struct snapshot {
	char **lines;
	struct rec *recs;
	int n;
};

static int snapshot_read(struct snapshot *s)
{
	char buf[2048];
	int cap = 0;
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = debugfs_open("locks");
	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		if (s->n == cap) {
			cap = cap ? 2 * cap : 64;
			s->lines = realloc(s->lines, cap * sizeof(*s->lines));
			s->recs = realloc(s->recs, cap * sizeof(*s->recs));
			if (!s->lines || !s->recs)
				die(EXIT_ERROR, "out of memory");
		}
		s->lines[s->n] = strdup(buf);
		if (!s->lines[s->n])
			die(EXIT_ERROR, "out of memory");
		if (rec_parse(s->lines[s->n], &s->recs[s->n])) {
			free(s->lines[s->n]);
			continue;
		}
		s->n++;
	}
	fclose(f);
	return 0;
}

static void snapshot_free(struct snapshot *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		free(s->lines[i]);
	free(s->lines);
	free(s->recs);
}

static void snapshot_read_or_die(struct snapshot *s)
{
	int err;

	if (!snapshot_read(s))
		return;
	err = errno;
	require_module();
	die(EXIT_ERROR, "cannot read %s/locks: %s (root and a mounted debugfs "
	    "needed)", GLOCK_DEBUGFS, strerror(err));
}

/*
 * Does holder/waiter record @j belong to lock record @i? Names repeat across
 * IPC namespaces: a holder belongs to the nearest lock record of its name
 * before it (the file lists a lock's holders after it), else the first one.
 */
static int belongs(const struct snapshot *s, int i, int j)
{
	const char *l = rec_get(&s->recs[j], "lock");
	const char *name;
	int k;

	if (!l)
		return 0;
	for (k = j - 1; k >= 0; k--) {
		name = rec_get(&s->recs[k], "name");
		if (!strcmp(s->recs[k].type, "lock") && name && !strcmp(name, l))
			return k == i;
	}
	for (k = 0; k < s->n; k++) {
		name = rec_get(&s->recs[k], "name");
		if (!strcmp(s->recs[k].type, "lock") && name && !strcmp(name, l))
			return k == i;
	}
	return 0;
}

/* Nanoseconds (a debugfs value) as seconds, "1.20"; "" for none. */
static void ns_to_s(const char *v, char *buf, size_t len)
{
	if (!v)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%.2f", strtod(v, NULL) / 1e9);
}

/* "4711/sensord 1.20s, kernel:glock_i2c-1-0050 0.01s" for lock record @i. */
static void who_text(const struct snapshot *s, int i, const char *kind,
		     const char *tkey, char *buf, size_t len)
{
	char secs[32];
	size_t off = 0;
	int j;

	buf[0] = '\0';
	for (j = 0; j < s->n && off < len; j++) {
		const struct rec *r = &s->recs[j];
		const char *k;

		if (strcmp(r->type, kind) || !belongs(s, i, j))
			continue;
		ns_to_s(rec_get(r, tkey), secs, sizeof(secs));
		k = rec_get(r, "kind");
		if (k && !strcmp(k, "kernel"))
			off += snprintf(buf + off, len - off, "%skernel:%s %ss",
					off ? ", " : "",
					rec_get(r, "comm") ?: "?", secs);
		else
			off += snprintf(buf + off, len - off, "%s%s/%s %ss",
					off ? ", " : "",
					rec_get(r, "pid") ?: "?",
					rec_get(r, "comm") ?: "?", secs);
	}
}

/* The only holder record of lock record @i, or NULL. */
static const struct rec *single_holder(const struct snapshot *s, int i)
{
	const struct rec *found = NULL;
	int j;

	for (j = 0; j < s->n; j++) {
		if (strcmp(s->recs[j].type, "holder") || !belongs(s, i, j))
			continue;
		if (found)
			return NULL;
		found = &s->recs[j];
	}
	return found;
}

static void set_cell(struct libscols_line *ln, int n, const char *data)
{
	if (data && scols_line_set_data(ln, n, data))
		die(EXIT_ERROR, "out of memory");
}

static void add_row(struct libscols_table *tb, const struct snapshot *s,
		    int i, const int *cols, int ncols)
{
	const struct rec *r = &s->recs[i], *h = single_holder(s, i);
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char buf[1024];
	const char *v;
	int k;

	if (!ln)
		die(EXIT_ERROR, "out of memory");
	for (k = 0; k < ncols; k++) {
		v = NULL;
		buf[0] = '\0';
		switch (cols[k]) {
		case COL_NAME:
			v = rec_get(r, "name");
			break;
		case COL_NS:
			v = rec_get(r, "ipcns");
			break;
		case COL_MODE:
			v = rec_get(r, "mode");
			break;
		case COL_HOLDERS:
			v = rec_get(r, "holders");
			break;
		case COL_WAITERS:
			v = rec_get(r, "waiters");
			break;
		case COL_ABANDONED:
			v = strcmp(rec_get(r, "abandoned") ?: "0", "0") ?
				"yes" : "no";
			break;
		case COL_DEADPID:
			v = rec_get(r, "dead_pid");
			break;
		case COL_OWNERS:
			who_text(s, i, "holder", "held_ns", buf, sizeof(buf));
			v = buf;
			break;
		case COL_WAITING:
			who_text(s, i, "waiter", "waited_ns", buf, sizeof(buf));
			v = buf;
			break;
		case COL_PID:
			v = h ? rec_get(h, "pid") : NULL;
			if (v && !strcmp(v, "0"))
				v = NULL;	/* a kernel owner */
			break;
		case COL_COMM:
			v = h ? rec_get(h, "comm") : NULL;
			break;
		case COL_HELD:
			ns_to_s(h ? rec_get(h, "held_ns") : NULL, buf,
				sizeof(buf));
			v = buf;
			break;
		case COL_ACQUIRED:
			v = rec_get(r, "acquired");
			break;
		case COL_CONTENDED:
			v = rec_get(r, "contended");
			break;
		case COL_TIMEOUTS:
			v = rec_get(r, "timeouts");
			break;
		case COL_ABANDONS:
			v = rec_get(r, "abandons");
			break;
		case COL_WAITMAX:
			ns_to_s(rec_get(r, "wait_max_ns"), buf, sizeof(buf));
			v = buf;
			break;
		case COL_HOLDMAX:
			ns_to_s(rec_get(r, "hold_max_ns"), buf, sizeof(buf));
			v = buf;
			break;
		}
		if (v && *v)
			set_cell(ln, k, v);
	}
}

static int column_id(const char *name, size_t len)
{
	int i;

	for (i = 0; i < NCOLS; i++)
		if (strlen(infos[i].name) == len &&
		    !strncasecmp(infos[i].name, name, len))
			return i;
	usage_error("unknown column: %.*s", (int)len, name);
}

/* -o LIST: "NAME,MODE" replaces the defaults, "+PID" adds to them. */
static int parse_columns(const char *list, int *cols, int ncols)
{
	const char *p = list, *e;

	if (*p == '+')
		p++;
	else
		ncols = 0;
	while (*p) {
		e = p + strcspn(p, ",");
		if (e > p) {
			if (ncols >= NCOLS * 2)
				usage_error("too many columns");
			cols[ncols++] = column_id(p, e - p);
		}
		p = *e ? e + 1 : e;
	}
	if (!ncols)
		usage_error("no columns given");
	return ncols;
}

static const char usage_list_head[] =
"\n"
"Usage:\n"
" glock list [options]\n"
"\n"
"List every lock of /dev/glock, its holders and waiters (from\n"
GLOCK_DEBUGFS "/locks: root and a mounted debugfs needed).\n"
"\n"
"Options:\n"
" -J, --json             use JSON output format ({\"locks\": [...]})\n"
" -n, --noheadings       don't print headings\n"
" -o, --output <list>    output columns (\"+LIST\" adds to the default)\n"
"     --output-all       output all columns\n"
" -r, --raw              use the raw output format\n"
"\n"
" -h, --help             display this help\n"
" -V, --version          display version\n"
"\n"
"Available output columns:\n";

/* The --help text, with the column list. */
static const char *list_usage(void)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	int i;

	if (!f)
		die(EXIT_ERROR, "out of memory");
	fputs(usage_list_head, f);
	for (i = 0; i < NCOLS; i++)
		fprintf(f, " %10s  %s\n", infos[i].name, infos[i].help);
	fprintf(f, "\nDefault columns: NAME,MODE,HOLDERS,WAITERS,ABANDONED,"
		"DEAD-PID,OWNERS,WAITING\n");
	if (fclose(f))
		die(EXIT_ERROR, "out of memory");
	return text;
}

enum { OPT_OUTPUT_ALL = 0x100 };

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "output-all", no_argument, NULL, OPT_OUTPUT_ALL },
		{ "raw", no_argument, NULL, 'r' },
		COMMON_LONGOPTS, { 0 }
	};
	int cols[NCOLS * 2], ncols = 0, c, i, npos = 0, rest;
	int json = 0, raw = 0, noheadings = 0;
	struct libscols_table *tb;
	struct libscols_column *cl;
	struct snapshot s;
	char *pos[1];

	for (i = 0; i < (int)(sizeof(default_cols) / sizeof(*default_cols)); i++)
		cols[ncols++] = default_cols[i];
	cur_usage = list_usage();
	while ((c = next_opt(argc, argv, "+:Jjno:rhVv", opts, pos, &npos, 0, 0,
			     &rest)) != -1) {
		switch (c) {
		case 'J':
		case 'j':
			json = 1;
			break;
		case 'n':
			noheadings = 1;
			break;
		case 'o':
			ncols = parse_columns(optarg, cols, ncols);
			break;
		case OPT_OUTPUT_ALL:
			for (ncols = 0; ncols < NCOLS; ncols++)
				cols[ncols] = ncols;
			break;
		case 'r':
			raw = 1;
			break;
		}
	}
	snapshot_read_or_die(&s);

	scols_init_debug(0);
	tb = scols_new_table();
	if (!tb)
		die(EXIT_ERROR, "out of memory");
	scols_table_set_name(tb, "locks");
	scols_table_enable_raw(tb, raw);
	scols_table_enable_json(tb, json);
	scols_table_enable_noheadings(tb, noheadings);
	for (i = 0; i < ncols; i++) {
		const struct colinfo *ci = &infos[cols[i]];

		cl = scols_table_new_column(tb, ci->name, ci->whint, ci->flags);
		if (!cl)
			die(EXIT_ERROR, "out of memory");
		scols_column_set_json_type(cl, ci->json);
	}
	for (i = 0; i < s.n; i++)
		if (!strcmp(s.recs[i].type, "lock"))
			add_row(tb, &s, i, cols, ncols);
	scols_print_table(tb);
	scols_unref_table(tb);
	snapshot_free(&s);
	return EXIT_DONE;
}
