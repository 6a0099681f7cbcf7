// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock trace: every glock event (acquire, contended, release, abandon,
 * timeout, deadlock) as the kernel emits it, read from the tracepoints of
 * the "glock" trace system through a private tracefs instance, so nothing
 * between two polls is missed and other tracers are left alone.
 * "--poll NAME" is the fallback without tracefs (non-root): it polls STATE.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "glock.h"
#include "tool.h"
#include "cli.h"

static const char usage_trace[] =
"\n"
"Usage:\n"
" glock trace [options] [NAME]\n"
" glock trace --poll [-u <secs>] NAME\n"
"\n"
"Print every glock event (acquire, contended, release, abandon, timeout,\n"
"deadlock) of NAME, or of every lock, as it happens, until interrupted.\n"
"Reads the glock tracepoints through a private tracefs instance (root).\n"
"One line per event:\n"
"  SECONDS EVENT NAME mode=MODE depth=N owner=ID pid=PID comm=COMMAND\n"
"\n"
"Options:\n"
" -p, --poll             poll NAME's state instead (no tracefs, any user;\n"
"                        misses changes shorter than the period)\n"
" -u, --update <secs>    polling period (default 0.5)\n"
"\n"
" -h, --help             display this help\n"
" -V, --version          display version\n";

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };	/* no SA_RESTART */

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
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

static int trace_poll(const char *name, double period)
{
	char line[512], last[512] = "", ts[32];
	struct glock_dev *dev = open_dev_or_die();
	struct glock_info info;
	struct timespec t = {
		.tv_sec = (time_t)period,
		.tv_nsec = (long)((period - (time_t)period) * 1e9),
	};

	while (!stop) {
		stamp(ts, sizeof(ts));
		get_state(dev, name, &info);
		format_state(name, &info, line, sizeof(line));
		if (strcmp(line, last)) {
			printf("%s %s\n", ts, line);
			strcpy(last, line);
		}
		nanosleep(&t, NULL);	/* EINTR ends it early: we check stop */
	}
	glock_close(dev);
	return EXIT_DONE;
}

static const char *tracefs_root(void)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/instances", roots[i]);
		if (!access(path, F_OK))
			return roots[i];
	}
	return NULL;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -1;
	close(fd);
	return ret;
}

#define INSTANCE_PREFIX "glock-trace."

/* Remove the instances of glock traces that were killed before cleanup. */
static void remove_stale(const char *root)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	long pid;

	snprintf(path, sizeof(path), "%s/instances", root);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, INSTANCE_PREFIX,
			    strlen(INSTANCE_PREFIX)))
			continue;
		pid = strtol(de->d_name + strlen(INSTANCE_PREFIX), NULL, 10);
		if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH)) {
			snprintf(path, sizeof(path), "%s/instances/%s", root,
				 de->d_name);
			rmdir(path);
		}
	}
	closedir(d);
}

/*
 * One trace_pipe line:
 *   "  glock-4711  [001] ..... 123.456789: acquire: name=x owner=3 mode=..."
 * The event may be called "acquire" or "glock_acquire". Names have no
 * spaces, so the fields start at the last " name=". Prints the event if it
 * is ours and (with @only) about @only.
 */
static void print_event(char *line, const char *only)
{
	char *fields, *ev, *evend, *ts, *tsend, *task, *dash, *p;
	char name[GLOCK_NAME_MAX + 1] = "", mode[16] = "?", owner[24] = "?";
	char depth[16] = "?", *tok, *save = NULL;

	fields = NULL;
	for (p = strstr(line, " name="); p; p = strstr(p + 1, " name="))
		fields = p;
	if (!fields || fields - line < 3 || fields[-1] != ':')
		return;
	evend = fields - 1;
	for (ev = evend; ev > line && ev[-1] != ' '; ev--)
		;
	*evend = '\0';
	/* "123.456789:" before the event, then "[cpu] flags" and the task */
	tsend = ev - 2;
	if (tsend <= line || *tsend != ':')
		return;
	*tsend = '\0';
	if (!strncmp(ev, "glock_", 6))
		ev += 6;
	for (ts = tsend; ts > line && ts[-1] != ' '; ts--)
		;
	task = line + strspn(line, " ");
	p = strstr(task, " [");
	while (p && strstr(p + 1, " [") && strstr(p + 1, " [") < ts)
		p = strstr(p + 1, " [");	/* the last " [cpu]" before ts */
	if (p) {
		*p = '\0';
		while (p > task && p[-1] == ' ')
			*--p = '\0';
	}
	dash = strrchr(task, '-');
	if (dash)
		*dash++ = '\0';

	for (tok = strtok_r(fields + 1, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		if (!strncmp(tok, "name=", 5))
			snprintf(name, sizeof(name), "%s", tok + 5);
		else if (!strncmp(tok, "mode=", 5))
			snprintf(mode, sizeof(mode), "%s", tok + 5);
		else if (!strncmp(tok, "owner=", 6))
			snprintf(owner, sizeof(owner), "%s", tok + 6);
		else if (!strncmp(tok, "depth=", 6))
			snprintf(depth, sizeof(depth), "%s", tok + 6);
	}
	if (only && strcmp(name, only))
		return;
	printf("%s %-9s %s mode=%s depth=%s owner=%s pid=%s comm=%s\n", ts, ev,
	       name, mode, depth, owner, dash ? dash : "?", task);
}

/* Split @buf (@len bytes, plus what @carry kept) into lines and print. */
static void feed(char *carry, size_t *clen, const char *buf, size_t len,
		 const char *only)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (*clen < 4095)
				carry[(*clen)++] = buf[i];
			continue;
		}
		carry[*clen] = '\0';
		print_event(carry, only);
		*clen = 0;
	}
}

static int trace_events(const char *only)
{
	char inst[256], path[512], buf[8192], carry[4096];
	const char *root = tracefs_root();
	size_t clen = 0;
	ssize_t n;
	int fd;

	if (!root) {
		require_module();
		die(EXIT_ERROR, "tracefs is not mounted (or not readable: "
		    "root needed); 'glock trace --poll NAME' works without it");
	}
	snprintf(path, sizeof(path), "%s/events/glock", root);
	if (access(path, F_OK)) {
		if (errno == ENOENT)
			require_module();
		die_errno(EXIT_ERROR, "%s", path);
	}
	remove_stale(root);
	snprintf(inst, sizeof(inst), "%s/instances/" INSTANCE_PREFIX "%d",
		 root, (int)getpid());
	if (mkdir(inst, 0700) < 0)
		die(EXIT_ERROR, "cannot create the tracefs instance %s: %s%s",
		    inst, strerror(errno), errno == EACCES || errno == EPERM ?
		    " (root needed; or 'glock trace --poll NAME')" : "");
	snprintf(path, sizeof(path), "%s/events/glock/enable", inst);
	if (write_file(path, "1") < 0) {
		warnmsg("cannot enable %s: %s", path, strerror(errno));
		rmdir(inst);
		exit(EXIT_ERROR);
	}
	snprintf(path, sizeof(path), "%s/trace_pipe", inst);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		warnmsg("cannot open %s: %s", path, strerror(errno));
		rmdir(inst);
		exit(EXIT_ERROR);
	}
	fprintf(stderr, "%s: tracing %s (Ctrl-C to stop)\n", tool_name,
		only ? only : "every lock");
	while (!stop) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			warnmsg("%s: %s", path, strerror(errno));
			break;
		}
		feed(carry, &clen, buf, n, only);
	}
	/* What was traced before the stop is still in the buffer: drain it. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		feed(carry, &clen, buf, n, only);
	close(fd);
	snprintf(path, sizeof(path), "%s/events/glock/enable", inst);
	write_file(path, "0");
	if (rmdir(inst) < 0)
		warnmsg("cannot remove %s: %s", inst, strerror(errno));
	return EXIT_DONE;
}

int cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "poll", no_argument, NULL, 'p' },
		{ "update", required_argument, NULL, 'u' },
		COMMON_LONGOPTS, { 0 }
	};
	int c, npos = 0, rest, poll = 0;
	double period = 0.5;
	char *pos[1];

	cur_usage = usage_trace;
	while ((c = next_opt(argc, argv, "+:pu:hVv", opts, pos, &npos, 1, 0,
			     &rest)) != -1) {
		if (c == 'p')
			poll = 1;
		if (c == 'u')
			period = parse_seconds(optarg, "update period");
	}
	if (period <= 0)
		usage_error("the update period must be > 0");
	if (npos)
		check_name(pos[0]);
	if (poll && !npos)
		usage_error("--poll needs a lock NAME");
	catch_stop_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (poll)
		return trace_poll(pos[0], period);
	return trace_events(npos ? pos[0] : NULL);
}
