// SPDX-License-Identifier: GPL-2.0-only
/* glock(1): named locks from the shell, on top of libglock only. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "glock.h"
#include "tool.h"

static const char usage_main[] =
"Usage: glock COMMAND [OPTIONS] ...\n"
"Named locks owned by open files of /dev/glock; released when the holder\n"
"exits or crashes.\n"
"\n"
"Commands:\n"
"  run NAME [-t SEC] [-s] [-E CODE] -- CMD [ARG...]\n"
"                        run CMD holding NAME, pass its exit status through\n"
"  hold NAME [-d SEC] [-t SEC] [-s]\n"
"                        hold NAME until killed (or for SEC seconds)\n"
"  lock --fd N NAME [-t SEC] [-s]\n"
"                        lock NAME for the /dev/glock open on descriptor N\n"
"  unlock --fd N NAME    drop one level of NAME held through descriptor N\n"
"  state NAME [--json]   show one lock\n"
"  list [--json]         show every lock (debugfs, needs root)\n"
"  trace [NAME] [-u SEC] print a line whenever a lock changes\n"
"\n"
"Options: -h, --help (also after a command), -v, --version\n"
"Exit status: 0 done, 1 lock not obtained (timeout or busy),\n"
"2 usage or system error; run: the command's status.\n";

static const char usage_run[] =
"Usage: glock run NAME [-t SEC] [-s] [-E CODE] -- CMD [ARG...]\n"
"Take NAME, run CMD, release NAME when CMD ends; exit with CMD's status\n"
"(128+N if a signal N killed it).\n"
"  -t, --timeout SEC   give up after SEC seconds (0: try once; default: wait)\n"
"  -s, --shared        take a shared lock (default: exclusive)\n"
"  -E, --conflict-exit-code CODE\n"
"                      exit status when NAME was not obtained (default 1)\n";

static const char usage_hold[] =
"Usage: glock hold NAME [-d SEC] [-t SEC] [-s]\n"
"Take NAME and hold it until SIGINT/SIGTERM/SIGHUP, or for SEC seconds.\n"
"  -d, --duration SEC  release after SEC seconds\n"
"  -t, --timeout SEC   give up acquiring after SEC seconds (default: wait)\n"
"  -s, --shared        take a shared lock\n";

static const char usage_lock[] =
"Usage: glock lock --fd N NAME [-t SEC] [-s]\n"
"       glock unlock --fd N NAME\n"
"Lock or unlock NAME for the open file on descriptor N, which outlives this\n"
"command:  exec 9<>/dev/glock; glock lock --fd 9 NAME; ...; glock unlock\n"
"--fd 9 NAME (or let the shell exit: the kernel releases it).\n"
"  -f, --fd N          the descriptor of /dev/glock (required)\n"
"  -t, --timeout SEC   give up after SEC seconds (lock only; default: wait)\n"
"  -s, --shared        take a shared lock (lock only)\n";

static const char usage_state[] =
"Usage: glock state NAME [--json]\n"
"Show NAME: mode, holders, waiters, exclusive holder, abandoned mark.\n"
"  -j, --json          one JSON object\n";

static const char usage_list[] =
"Usage: glock list [--json]\n"
"Show every lock from " GLOCK_DEBUGFS "/locks (root, debugfs mounted).\n"
"  -j, --json          a JSON array\n";

static const char usage_trace[] =
"Usage: glock trace [NAME] [-u SEC]\n"
"Poll NAME (or, without NAME, every lock in debugfs) and print a line on\n"
"each change, until interrupted.\n"
"  -u, --update SEC    polling period (default 0.5)\n";

static const char *cur_usage = usage_main;
static volatile sig_atomic_t got_signal;	/* hold: the signal that ends it */

/* Common options, recognised by every command. */
#define COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'v' }

static void print_usage_exit(void)
{
	fputs(cur_usage, stdout);
	exit(EXIT_DONE);
}

static void print_version_exit(void)
{
	printf("glock %s\n", LIBGLOCK_VERSION);
	exit(EXIT_DONE);
}

/*
 * getopt_long over options and positionals in any order, stopping at "--"
 * or, once @stop_after positionals are seen, at the next positional (the
 * command of "run"). Returns the option, or -1 at the end; positionals are
 * appended to @pos; *@rest is set to the index of what follows the stop.
 */
static int next_opt(int argc, char **argv, const char *shortopts,
		    const struct option *longopts, char **pos, int *npos,
		    int maxpos, int stop_after, int *rest)
{
	int before, c;

	for (;;) {
		before = optind;
		c = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (c == 'h')
			print_usage_exit();
		if (c == 'v')
			print_version_exit();
		if (c == '?')
			usage_error("bad option");
		if (c != -1)
			return c;
		*rest = optind;
		if (optind >= argc)
			return -1;
		if (optind == before + 1 && !strcmp(argv[before], "--"))
			return -1;
		if (stop_after && *npos >= stop_after)
			return -1;
		if (*npos >= maxpos)
			usage_error("unexpected argument '%s'", argv[optind]);
		pos[(*npos)++] = argv[optind++];
	}
}

static void check_name(const char *name)
{
	if (glock_name_check(name))
		usage_error("invalid lock name '%s': 1..%d printable bytes, no space",
			    name, GLOCK_NAME_MAX);
}

static struct glock_dev *open_dev(void)
{
	struct glock_dev *dev = glock_open();

	if (!dev)
		die_errno(EXIT_ERROR, "cannot open %s", GLOCK_DEVICE);
	return dev;
}

/*
 * Take @name or exit: @notobt_code on timeout/busy, with a message naming
 * the lock, the reason and the holder.
 */
static void acquire(struct glock_dev *dev, const char *name, unsigned int mode,
		    double timeout, int notobt_code)
{
	unsigned int result = 0;
	char who[320];
	int err;

	if (glock_lock(dev, name, mode, seconds_to_ns(timeout), &result) < 0) {
		err = errno;
		if (err == ETIMEDOUT || err == EAGAIN) {
			describe_holder(name, who, sizeof(who));
			if (err == ETIMEDOUT)
				die(notobt_code, "%s: timed out after %g s%s%s%s",
				    name, timeout, who[0] ? " (held by " : "",
				    who, who[0] ? ")" : "");
			die(notobt_code, "%s: busy%s%s%s", name,
			    who[0] ? " (held by " : "", who, who[0] ? ")" : "");
		}
		if (err == EINTR && got_signal)
			exit(128 + got_signal);	/* stopped while waiting */
		errno = err;
		die_errno(EXIT_ERROR, "%s", name);
	}
	if (result & GLOCK_R_ABANDONED)
		warnmsg("%s: acquired, but %s", name, glock_strresult(result));
}

static int run_child(char **cmd);

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "shared", no_argument, NULL, 's' },
		{ "conflict-exit-code", required_argument, NULL, 'E' },
		COMMON_LONGOPTS, { 0 }
	};
	unsigned int mode = GLOCK_EXCLUSIVE;
	int c, npos = 0, rest = argc, code = EXIT_NOTOBT, status;
	double timeout = -1;
	struct glock_dev *dev;
	char *pos[1];

	cur_usage = usage_run;
	while ((c = next_opt(argc, argv, "+t:sE:hv", opts, pos, &npos, 1, 1,
			     &rest)) != -1) {
		switch (c) {
		case 't':
			timeout = parse_seconds(optarg, "timeout");
			break;
		case 's':
			mode = GLOCK_SHARED;
			break;
		case 'E':
			code = parse_long(optarg, "exit code", 0, 255);
			break;
		}
	}
	if (npos < 1)
		usage_error("run: missing lock name");
	if (rest >= argc)
		usage_error("run: missing command");
	check_name(pos[0]);
	dev = open_dev();
	acquire(dev, pos[0], mode, timeout, code);
	status = run_child(argv + rest);
	if (glock_unlock(dev, pos[0]) < 0)
		die_errno(EXIT_ERROR, "%s: unlock", pos[0]);
	glock_close(dev);
	return status;
}

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* fork+exec @cmd, wait for it; its exit status, or 128+signal. */
static int run_child(char **cmd)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_errno(EXIT_ERROR, "fork");
	if (pid == 0) {
		/* The lock stays with us: the device fd is O_CLOEXEC. */
		execvp(cmd[0], cmd);
		warnmsg("%s: %s", cmd[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	child_pid = pid;
	/* Terminal signals reach the child directly; pass on the others. */
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die_errno(EXIT_ERROR, "waitpid");
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void note_signal(int sig)
{
	got_signal = sig;
}

static int cmd_hold(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "shared", no_argument, NULL, 's' },
		COMMON_LONGOPTS, { 0 }
	};
	unsigned int mode = GLOCK_EXCLUSIVE;
	struct sigaction sa = { .sa_handler = note_signal };
	double timeout = -1, duration = -1;
	int c, npos = 0, rest;
	struct glock_dev *dev;
	struct timespec ts;
	sigset_t set;
	char *pos[1];

	cur_usage = usage_hold;
	while ((c = next_opt(argc, argv, "+d:t:shv", opts, pos, &npos, 1, 0,
			     &rest)) != -1) {
		switch (c) {
		case 'd':
			duration = parse_seconds(optarg, "duration");
			break;
		case 't':
			timeout = parse_seconds(optarg, "timeout");
			break;
		case 's':
			mode = GLOCK_SHARED;
			break;
		}
	}
	if (npos < 1)
		usage_error("hold: missing lock name");
	check_name(pos[0]);

	/*
	 * A signal while waiting ends the wait (EINTR, nothing held); one that
	 * comes just after the grant is remembered by the handler, so that the
	 * lock is always released by unlock, never abandoned by the signal.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	dev = open_dev();
	if (got_signal)
		exit(128 + got_signal);
	acquire(dev, pos[0], mode, timeout, EXIT_NOTOBT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (got_signal) {
		/* already asked to stop */
	} else if (duration >= 0) {
		ts.tv_sec = (time_t)duration;
		ts.tv_nsec = (long)((duration - ts.tv_sec) * 1e9);
		while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR)
			;
	} else {
		while (sigwaitinfo(&set, NULL) < 0 && errno == EINTR)
			;
	}
	if (glock_unlock(dev, pos[0]) < 0)
		die_errno(EXIT_ERROR, "%s: unlock", pos[0]);
	glock_close(dev);
	return EXIT_DONE;
}

static int cmd_lock_fd(int argc, char **argv, int unlock)
{
	static const struct option opts[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "shared", no_argument, NULL, 's' },
		COMMON_LONGOPTS, { 0 }
	};
	unsigned int mode = GLOCK_EXCLUSIVE;
	int c, npos = 0, rest, fd = -1;
	struct glock_dev *dev;
	double timeout = -1;
	char *pos[1];

	cur_usage = usage_lock;
	while ((c = next_opt(argc, argv, "+f:t:shv", opts, pos, &npos, 1, 0,
			     &rest)) != -1) {
		switch (c) {
		case 'f':
			fd = parse_long(optarg, "descriptor", 0, 1 << 20);
			break;
		case 't':
			if (unlock)
				usage_error("unlock takes no timeout");
			timeout = parse_seconds(optarg, "timeout");
			break;
		case 's':
			if (unlock)
				usage_error("unlock takes no mode");
			mode = GLOCK_SHARED;
			break;
		}
	}
	if (fd < 0)
		usage_error("%s: --fd N is required", tool_cmd);
	if (npos < 1)
		usage_error("%s: missing lock name", tool_cmd);
	check_name(pos[0]);
	dev = glock_open_fd(fd);
	if (!dev)
		die_errno(EXIT_ERROR, "descriptor %d is not an open %s", fd,
			  GLOCK_DEVICE);
	if (!unlock) {
		acquire(dev, pos[0], mode, timeout, EXIT_NOTOBT);
	} else if (glock_unlock(dev, pos[0]) < 0) {
		if (errno == EPERM)
			die(EXIT_ERROR, "%s: not held through descriptor %d",
			    pos[0], fd);
		die_errno(EXIT_ERROR, "%s: unlock", pos[0]);
	}
	glock_close(dev);	/* the descriptor stays open */
	return EXIT_DONE;
}

/* Write @s as a JSON string. */
static void json_str(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* A debugfs value: a JSON number when it is all digits. */
static void json_val(const char *v)
{
	const char *p = v;

	if (*p == '-')
		p++;
	if (*p && strspn(p, "0123456789") == strlen(p) && strlen(p) < 19)
		fputs(v, stdout);
	else
		json_str(v);
}

static void proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* One human line for a lock state, as state and trace print it. */
static void format_state(const char *name, const struct glock_info *in,
			 char *buf, size_t len)
{
	char who[320] = "", extra[64] = "";

	if (in->result & GLOCK_R_ABANDONED)
		snprintf(extra, sizeof(extra), ", abandoned mark pending");
	if (in->mode == 0) {
		snprintf(buf, len, "%s: free%s", name, extra);
		return;
	}
	if (in->mode == GLOCK_EXCLUSIVE)
		describe_holder(name, who, sizeof(who));
	if (in->mode == GLOCK_EXCLUSIVE)
		snprintf(buf, len, "%s: exclusive, held by %s, %u waiter%s%s",
			 name, who[0] ? who : "?", in->waiters,
			 in->waiters == 1 ? "" : "s", extra);
	else
		snprintf(buf, len, "%s: shared by %u holder%s, %u waiter%s%s",
			 name, in->holders, in->holders == 1 ? "" : "s",
			 in->waiters, in->waiters == 1 ? "" : "s", extra);
}

static void get_state(struct glock_dev *dev, const char *name,
		      struct glock_info *info)
{
	if (glock_state(dev, name, info) < 0)
		die_errno(EXIT_ERROR, "%s: state", name);
}

static int cmd_state(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		COMMON_LONGOPTS, { 0 }
	};
	int c, npos = 0, rest, json = 0;
	struct glock_info info;
	struct glock_dev *dev;
	char line[512], comm[64] = "";
	char *pos[1];

	cur_usage = usage_state;
	while ((c = next_opt(argc, argv, "+jhv", opts, pos, &npos, 1, 0,
			     &rest)) != -1)
		if (c == 'j')
			json = 1;
	if (npos < 1)
		usage_error("state: missing lock name");
	check_name(pos[0]);
	dev = open_dev();
	get_state(dev, pos[0], &info);
	glock_close(dev);
	if (!json) {
		format_state(pos[0], &info, line, sizeof(line));
		puts(line);
		return EXIT_DONE;
	}
	if (info.owner_pid > 0)
		proc_comm(info.owner_pid, comm, sizeof(comm));
	fputs("{\"name\": ", stdout);
	json_str(pos[0]);
	printf(", \"mode\": \"%s\", \"holders\": %u, \"waiters\": %u, "
	       "\"owner_pid\": %d, \"owner_comm\": ",
	       glock_mode_name(info.mode), info.holders, info.waiters,
	       (int)info.owner_pid);
	json_str(comm);
	printf(", \"kernel\": %s, \"abandoned\": %s}\n",
	       info.result & GLOCK_R_KERNEL ? "true" : "false",
	       info.result & GLOCK_R_ABANDONED ? "true" : "false");
	return EXIT_DONE;
}

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
	if (snapshot_read(s))
		die(EXIT_ERROR,
		    "cannot read %s/locks: %s (root and a mounted debugfs needed)",
		    GLOCK_DEBUGFS, strerror(errno));
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

static void json_rec(const struct rec *r, const char *skip)
{
	int i, first = 1;

	putchar('{');
	for (i = 0; i < r->n; i++) {
		if (skip && !strcmp(r->key[i], skip))
			continue;
		printf("%s", first ? "" : ", ");
		first = 0;
		json_str(r->key[i]);
		fputs(": ", stdout);
		json_val(r->val[i]);
	}
}

static void list_json(const struct snapshot *s)
{
	static const char *const kinds[] = { "holder", "waiter" };
	static const char *const keys[] = { "held_by", "waiting" };
	int i, j, k, first_lock = 1, first;

	putchar('[');
	for (i = 0; i < s->n; i++) {
		if (strcmp(s->recs[i].type, "lock"))
			continue;
		fputs(first_lock ? "\n  " : ",\n  ", stdout);
		first_lock = 0;
		json_rec(&s->recs[i], NULL);
		for (k = 0; k < 2; k++) {
			printf(", \"%s\": [", keys[k]);
			first = 1;
			for (j = 0; j < s->n; j++) {
				if (strcmp(s->recs[j].type, kinds[k]) ||
				    !belongs(s, i, j))
					continue;
				fputs(first ? "" : ", ", stdout);
				first = 0;
				json_rec(&s->recs[j], "lock");
				putchar('}');
			}
			putchar(']');
		}
		putchar('}');
	}
	puts(first_lock ? "]" : "\n]");
}

static double ns_to_s(const char *v)
{
	return v ? strtod(v, NULL) / 1e9 : 0;
}

/* "pid 4711 sensord 1.20s" for every holder of lock record @i. */
static void holders_text(const struct snapshot *s, int i, const char *kind,
			 const char *tkey, char *buf, size_t len)
{
	size_t off = 0;
	int j;

	buf[0] = '\0';
	for (j = 0; j < s->n && off < len; j++) {
		const struct rec *r = &s->recs[j];
		const char *k;

		if (strcmp(r->type, kind) || !belongs(s, i, j))
			continue;
		k = rec_get(r, "kind");
		if (k && !strcmp(k, "kernel"))
			off += snprintf(buf + off, len - off, "%skernel:%s %.2fs",
					off ? ", " : "", rec_get(r, "comm") ?: "?",
					ns_to_s(rec_get(r, tkey)));
		else
			off += snprintf(buf + off, len - off, "%s%s/%s %.2fs",
					off ? ", " : "", rec_get(r, "pid") ?: "?",
					rec_get(r, "comm") ?: "?",
					ns_to_s(rec_get(r, tkey)));
	}
}

static void list_table(const struct snapshot *s)
{
	char held[512], wait[512];
	int i, w = 4, count = 0;

	for (i = 0; i < s->n; i++) {
		const char *name = rec_get(&s->recs[i], "name");

		if (!strcmp(s->recs[i].type, "lock") && name &&
		    (int)strlen(name) > w)
			w = strlen(name);
	}
	if (w > 40)
		w = 40;
	printf("%-*s %-9s %3s %3s %-9s %s\n", w, "NAME", "MODE", "HLD", "WT",
	       "ABANDONED", "HOLDERS (pid/comm held) | WAITERS (pid/comm waited)");
	for (i = 0; i < s->n; i++) {
		const struct rec *r = &s->recs[i];

		if (strcmp(r->type, "lock"))
			continue;
		holders_text(s, i, "holder", "held_ns", held, sizeof(held));
		holders_text(s, i, "waiter", "waited_ns", wait, sizeof(wait));
		if (!held[0] && rec_get(r, "dead_pid"))
			snprintf(held, sizeof(held), "(pid %s died holding it)",
				 rec_get(r, "dead_pid"));
		printf("%-*s %-9s %3s %3s %-9s %s%s%s\n", w,
		       rec_get(r, "name") ?: "?", rec_get(r, "mode") ?: "?",
		       rec_get(r, "holders") ?: "?", rec_get(r, "waiters") ?: "?",
		       strcmp(rec_get(r, "abandoned") ?: "0", "0") ? "yes" : "no",
		       held[0] ? held : "-", wait[0] ? " | " : "", wait);
		count++;
	}
	if (!count)
		printf("(no locks)\n");
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		COMMON_LONGOPTS, { 0 }
	};
	int c, npos = 0, rest, json = 0;
	struct snapshot s;
	char *pos[1];

	cur_usage = usage_list;
	while ((c = next_opt(argc, argv, "+jhv", opts, pos, &npos, 0, 0,
			     &rest)) != -1)
		if (c == 'j')
			json = 1;
	snapshot_read_or_die(&s);
	if (json)
		list_json(&s);
	else
		list_table(&s);
	snapshot_free(&s);
	return EXIT_DONE;
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, ts.tv_nsec / 1000000);
}

static void sleep_s(double sec)
{
	struct timespec ts = {
		.tv_sec = (time_t)sec,
		.tv_nsec = (long)((sec - (time_t)sec) * 1e9),
	};

	nanosleep(&ts, NULL);	/* EINTR ends it early: we check stop */
}

/* The summary of every lock in debugfs, one line each, "\n"-joined. */
static char *debugfs_summary(void)
{
	char held[512], wait[512], line[1400];
	size_t len = 0, cap = 1;
	struct snapshot s;
	char *out = calloc(1, 1);
	int i;

	snapshot_read_or_die(&s);
	for (i = 0; out && i < s.n; i++) {
		const struct rec *r = &s.recs[i];

		if (strcmp(r->type, "lock"))
			continue;
		holders_text(&s, i, "holder", "__none", held, sizeof(held));
		holders_text(&s, i, "waiter", "__none", wait, sizeof(wait));
		snprintf(line, sizeof(line),
			 "%s: %s holders=%s waiters=%s abandoned=%s [%s]%s%s%s\n",
			 rec_get(r, "name") ?: "?", rec_get(r, "mode") ?: "?",
			 rec_get(r, "holders") ?: "?",
			 rec_get(r, "waiters") ?: "?",
			 rec_get(r, "abandoned") ?: "?", held,
			 wait[0] ? " waiting [" : "", wait, wait[0] ? "]" : "");
		if (len + strlen(line) + 1 > cap) {
			cap = 2 * (len + strlen(line) + 1);
			out = realloc(out, cap);
			if (!out)
				break;
		}
		strcpy(out + len, line);
		len += strlen(line);
	}
	snapshot_free(&s);
	if (!out)
		die(EXIT_ERROR, "out of memory");
	return out;
}

/* Does a line of @text start with the first @n bytes of @p? */
static int has_line_prefix(const char *text, const char *p, size_t n)
{
	const char *t;

	for (t = text; *t; t = strchr(t, '\n') + 1)
		if (!strncmp(t, p, n))
			return 1;
	return 0;
}

/* Print the lines of @now not in @old, and "free" for locks now gone. */
static void print_changes(const char *old, const char *now, const char *ts)
{
	const char *p, *e;
	size_t n;

	for (p = now; *p; p = e + 1) {
		e = strchr(p, '\n');
		n = e - p + 1;
		if (!has_line_prefix(old, p, n))
			printf("%s %.*s", ts, (int)n, p);
	}
	for (p = old; *p; p = e + 1) {
		e = strchr(p, '\n');
		n = strchr(p, ' ') - p;	/* "name:" */
		if (!has_line_prefix(now, p, n + 1))
			printf("%s %.*s free\n", ts, (int)n, p);
	}
}

static int cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "update", required_argument, NULL, 'u' },
		COMMON_LONGOPTS, { 0 }
	};
	struct sigaction sa = { .sa_handler = on_stop };
	int c, npos = 0, rest;
	double period = 0.5;
	struct glock_dev *dev = NULL;
	char line[512], last[512] = "", ts[32];
	char *pos[1], *old = NULL, *now;
	struct glock_info info;

	cur_usage = usage_trace;
	while ((c = next_opt(argc, argv, "+u:hv", opts, pos, &npos, 1, 0,
			     &rest)) != -1)
		if (c == 'u')
			period = parse_seconds(optarg, "update period");
	if (period <= 0)
		usage_error("trace: the update period must be > 0");
	if (npos)
		check_name(pos[0]);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (npos)
		dev = open_dev();
	else
		old = calloc(1, 1);
	while (!stop) {
		stamp(ts, sizeof(ts));
		if (dev) {
			get_state(dev, pos[0], &info);
			format_state(pos[0], &info, line, sizeof(line));
			if (strcmp(line, last)) {
				printf("%s %s\n", ts, line);
				strcpy(last, line);
			}
		} else {
			now = debugfs_summary();
			print_changes(old, now, ts);
			free(old);
			old = now;
		}
		sleep_s(period);
	}
	free(old);
	glock_close(dev);
	return EXIT_DONE;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "run", cmd_run }, { "hold", cmd_hold }, { "state", cmd_state },
		{ "list", cmd_list }, { "trace", cmd_trace },
	};
	size_t i;

	if (argc < 2)
		usage_error("missing command");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		print_usage_exit();
	if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))
		print_version_exit();
	tool_cmd = argv[1];
	/* Each command parses argv[1..]: argv[0] of getopt is the command. */
	if (!strcmp(argv[1], "lock"))
		return cmd_lock_fd(argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "unlock"))
		return cmd_lock_fd(argc - 1, argv + 1, 1);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	tool_cmd = NULL;
	usage_error("unknown command '%s'", argv[1]);
}
