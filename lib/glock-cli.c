// SPDX-License-Identifier: GPL-2.0-only
/* glock(1): named locks from the shell, on top of libglock only. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "glock.h"
#include "tool.h"
#include "cli.h"

static const char usage_main[] =
"\n"
"Usage:\n"
" glock [options] NAME COMMAND [ARG...]\n"
" glock [options] NAME -c COMMAND\n"
" glock <command> [options] ...\n"
"\n"
"Run a command holding a named lock of /dev/glock (like flock(1)), or take,\n"
"hold and inspect named locks. A lock belongs to an open file and is\n"
"released when its last holder exits or crashes.\n"
"\n"
"Commands:\n"
" run [options] NAME [--] CMD [ARG...]\n"
"                          run CMD holding NAME (what the short form does)\n"
" hold [options] NAME      hold NAME until killed (or for -d SECONDS)\n"
" lock --fd N [options] NAME\n"
"                          lock NAME for the /dev/glock open on descriptor N\n"
" unlock --fd N NAME       drop one level of NAME held through descriptor N\n"
" state [--json] NAME      show one lock\n"
" list [options]           list every lock (debugfs, needs root)\n"
" trace [options] [NAME]   print every acquire, release, ... as it happens\n"
" rules load [FILE] | show | clear\n"
"                          who may take which names (/etc/glock/rules)\n"
" cluster status           the lockspace of the cluster: names (glock_dlm)\n"
"\n"
"Options (run and the short form; see 'glock run --help'):\n"
" -s, --shared             get a shared lock\n"
" -x, -e, --exclusive      get an exclusive lock (default)\n"
" -n, --nonblock           fail rather than wait\n"
" -w, --timeout, --wait <secs>\n"
"                          wait for a limited amount of time\n"
" -o, --close              do not pass the lock's descriptor to the command\n"
" -E, --conflict-exit-code <number>\n"
"                          exit code after conflict or timeout (default 1)\n"
" -c, --command <command>  run a single command string through the shell\n"
"\n"
" -h, --help               display this help (also after a command)\n"
" -V, --version            display version\n"
"\n"
"Exit status: 0 done, 1 lock not obtained (timeout, busy or deadlock;\n"
"-E changes it for run), 2 usage or system error; run: the command's status.\n";

static const char usage_run[] =
"\n"
"Usage:\n"
" glock run [options] NAME [--] COMMAND [ARG...]\n"
" glock run [options] NAME -c COMMAND\n"
" glock [options] NAME COMMAND [ARG...]\n"
"\n"
"Take NAME, run COMMAND, release NAME when COMMAND ends; exit with\n"
"COMMAND's status (128+N if signal N killed it).\n"
"\n"
"COMMAND inherits the lock's open file of /dev/glock (its number is in\n"
"$GLOCK_FD), as with flock(1): if glock itself is killed, even by SIGKILL,\n"
"the lock stays held until COMMAND (and whatever inherited the descriptor)\n"
"ends. With -o the descriptor is closed before COMMAND starts, and COMMAND\n"
"is killed (SIGKILL) if glock dies first, so it never runs unprotected.\n"
"\n"
"Options:\n"
" -s, --shared             get a shared lock\n"
" -x, -e, --exclusive      get an exclusive lock (default)\n"
" -n, --nonblock, --nb     fail rather than wait (same as -w 0)\n"
" -w, -t, --timeout, --wait <secs>\n"
"                          give up after <secs> seconds (fractions allowed)\n"
" -o, --close              close the lock's descriptor before running COMMAND\n"
" -E, --conflict-exit-code <number>\n"
"                          exit code when NAME was not obtained (default 1)\n"
" -c, --command <command>  run <command> with 'sh -c'\n"
"\n"
" -h, --help               display this help\n"
" -V, --version            display version\n";

static const char usage_hold[] =
"\n"
"Usage:\n"
" glock hold [options] NAME\n"
"\n"
"Take NAME and hold it until SIGINT/SIGTERM/SIGHUP, or for -d seconds.\n"
"\n"
"Options:\n"
" -d, --duration <secs>    release after <secs> seconds\n"
" -w, -t, --timeout, --wait <secs>\n"
"                          give up acquiring after <secs> (default: wait)\n"
" -n, --nonblock           fail rather than wait\n"
" -s, --shared             get a shared lock\n"
" -x, -e, --exclusive      get an exclusive lock (default)\n"
"\n"
" -h, --help               display this help\n"
" -V, --version            display version\n";

static const char usage_lock[] =
"\n"
"Usage:\n"
" glock lock --fd N [options] NAME\n"
" glock unlock --fd N NAME\n"
"\n"
"Lock or unlock NAME for the open file on descriptor N, which outlives this\n"
"command:  exec 9<>/dev/glock; glock lock --fd 9 NAME; ...;\n"
"glock unlock --fd 9 NAME (or let the shell exit: the kernel releases it).\n"
"\n"
"Options:\n"
" -f, --fd <N>             the descriptor of /dev/glock (required)\n"
" -w, -t, --timeout, --wait <secs>\n"
"                          give up after <secs> seconds (lock only)\n"
" -n, --nonblock           fail rather than wait (lock only)\n"
" -s, --shared             get a shared lock (lock only)\n"
" -x, -e, --exclusive      get an exclusive lock (default)\n"
"\n"
" -h, --help               display this help\n"
" -V, --version            display version\n";

static const char usage_state[] =
"\n"
"Usage:\n"
" glock state [options] NAME\n"
"\n"
"Show NAME: mode, holders, waiters, exclusive holder, abandoned mark.\n"
"The holder is the process that took the exclusive hold while it lives.\n"
"\n"
"Options:\n"
" -J, -j, --json           one JSON object\n"
"\n"
" -h, --help               display this help\n"
" -V, --version            display version\n";

const char *cur_usage = usage_main;
static volatile sig_atomic_t got_signal;	/* hold: the signal that ends it */

void print_usage_exit(const char *usage)
{
	fputs(usage ?: cur_usage, stdout);
	exit(EXIT_DONE);
}

void print_version_exit(void)
{
	printf("glock from glock %s\n", LIBGLOCK_VERSION);
	exit(EXIT_DONE);
}

/* A getopt error, reported by us with one prefix ("glock: "). */
static void bad_option(int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		usage_error("option '%s' requires an argument", arg);
	if (optopt)
		usage_error("invalid option -- '%c'", optopt);
	usage_error("unrecognized option '%s'", arg);
}

int next_opt(int argc, char **argv, const char *shortopts,
	     const struct option *longopts, char **pos, int *npos,
	     int maxpos, int stop_after, int *rest)
{
	int before, c;

	opterr = 0;
	for (;;) {
		before = optind;
		c = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (c == 'h')
			print_usage_exit(NULL);
		if (c == 'V' || c == 'v')
			print_version_exit();
		if (c == '?' || c == ':')
			bad_option(c, argv);
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

void check_name(const char *name)
{
	if (glock_name_check(name))
		usage_error("invalid lock name '%s': 1..%d printable bytes, no space",
			    name, GLOCK_NAME_MAX);
}

static struct glock_dev *open_dev(void)
{
	struct glock_dev *dev = glock_open();

	if (!dev) {
		if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
			require_module();
		die_errno(EXIT_ERROR, "cannot open %s", GLOCK_DEVICE);
	}
	return dev;
}

/*
 * Take @name or exit: @notobt_code on timeout/busy/deadlock, with a message
 * naming the lock, the reason and the holder.
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
		if (err == EDEADLK)
			die(notobt_code, "%s: %s", name, glock_strerror(err));
		if (err == EINTR && got_signal)
			exit(128 + got_signal);	/* stopped while waiting */
		errno = err;
		die_errno(EXIT_ERROR, "%s", name);
	}
	if (result & GLOCK_R_ABANDONED)
		warnmsg("%s: acquired, but %s", name, glock_strresult(result));
}

/* The options -s -x/-e -n -w/-t every acquiring command understands. */
#define ACQUIRE_LONGOPTS \
	{ "shared", no_argument, NULL, 's' }, \
	{ "exclusive", no_argument, NULL, 'x' }, \
	{ "nonblock", no_argument, NULL, 'n' }, \
	{ "nb", no_argument, NULL, 'n' }, \
	{ "timeout", required_argument, NULL, 'w' }, \
	{ "wait", required_argument, NULL, 'w' }

/* Handle one of them; 1 if @c was one. */
static int acquire_opt(int c, unsigned int *mode, double *timeout)
{
	switch (c) {
	case 's':
		*mode = GLOCK_SHARED;
		return 1;
	case 'x':
	case 'e':
		*mode = GLOCK_EXCLUSIVE;
		return 1;
	case 'n':
		*timeout = 0;
		return 1;
	case 'w':
	case 't':
		*timeout = parse_seconds(optarg, "timeout");
		return 1;
	}
	return 0;
}

static int run_child(char **cmd, struct glock_dev *dev, int close_fd);

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		ACQUIRE_LONGOPTS,
		{ "close", no_argument, NULL, 'o' },
		{ "command", required_argument, NULL, 'c' },
		{ "conflict-exit-code", required_argument, NULL, 'E' },
		COMMON_LONGOPTS, { 0 }
	};
	unsigned int mode = GLOCK_EXCLUSIVE;
	int c, npos = 0, rest = argc, code = EXIT_NOTOBT, status, close_fd = 0;
	char *shell_cmd[] = { "sh", "-c", NULL, NULL };
	double timeout = -1;
	struct glock_dev *dev;
	char **cmd, *pos[1];

	cur_usage = usage_run;
	while ((c = next_opt(argc, argv, "+:sxenw:t:oc:E:hVv", opts, pos, &npos,
			     1, 1, &rest)) != -1) {
		if (acquire_opt(c, &mode, &timeout))
			continue;
		switch (c) {
		case 'o':
			close_fd = 1;
			break;
		case 'c':
			shell_cmd[2] = optarg;
			break;
		case 'E':
			code = parse_long(optarg, "exit code", 0, 255);
			break;
		}
	}
	if (npos < 1)
		usage_error("missing lock name");
	if (shell_cmd[2] && rest < argc)
		usage_error("-c COMMAND and a command line given: use one");
	if (!shell_cmd[2] && rest >= argc)
		usage_error("missing command");
	cmd = shell_cmd[2] ? shell_cmd : argv + rest;
	check_name(pos[0]);
	dev = open_dev();
	acquire(dev, pos[0], mode, timeout, code);
	status = run_child(cmd, dev, close_fd);
	/* EPERM: the command released it itself (glock unlock --fd). */
	if (glock_unlock(dev, pos[0]) < 0 && errno != EPERM)
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

/*
 * fork+exec @cmd, wait for it; its exit status, or 128+signal. Unless
 * @close_fd, the child inherits the open file holding the lock (as flock(1)
 * does): the lock then outlives us if we are killed. With @close_fd it
 * does not, and dies with us instead.
 */
static int run_child(char **cmd, struct glock_dev *dev, int close_fd)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	pid_t pid, parent = getpid();
	int status, fd = glock_fd(dev);
	char num[16];

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_errno(EXIT_ERROR, "fork");
	if (pid == 0) {
		if (close_fd) {
			/* The lock stays here (O_CLOEXEC): die with us. */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
			    getppid() != parent)
				_exit(128 + SIGKILL);
		} else {
			if (fcntl(fd, F_SETFD, 0) < 0)
				die_errno(EXIT_ERROR, "fcntl");
			snprintf(num, sizeof(num), "%d", fd);
			setenv("GLOCK_FD", num, 1);
		}
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
		ACQUIRE_LONGOPTS,
		{ "duration", required_argument, NULL, 'd' },
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
	while ((c = next_opt(argc, argv, "+:d:sxenw:t:hVv", opts, pos, &npos, 1,
			     0, &rest)) != -1) {
		if (acquire_opt(c, &mode, &timeout))
			continue;
		if (c == 'd')
			duration = parse_seconds(optarg, "duration");
	}
	if (npos < 1)
		usage_error("missing lock name");
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
		ACQUIRE_LONGOPTS,
		{ "fd", required_argument, NULL, 'f' },
		COMMON_LONGOPTS, { 0 }
	};
	unsigned int mode = GLOCK_EXCLUSIVE;
	int c, npos = 0, rest, fd = -1;
	struct glock_dev *dev;
	double timeout = -1;
	char *pos[1];

	cur_usage = usage_lock;
	while ((c = next_opt(argc, argv, "+:f:sxenw:t:hVv", opts, pos, &npos, 1,
			     0, &rest)) != -1) {
		if (c == 'f') {
			fd = parse_long(optarg, "descriptor", 0, 1 << 20);
			continue;
		}
		if (unlock && c != 'x' && c != 'e')
			usage_error("unlock takes no timeout or mode");
		acquire_opt(c, &mode, &timeout);
	}
	if (fd < 0)
		usage_error("--fd N is required");
	if (npos < 1)
		usage_error("missing lock name");
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

void format_state(const char *name, const struct glock_info *in, char *buf,
		  size_t len)
{
	char who[320] = "", extra[64] = "";

	if (in->result & GLOCK_R_ABANDONED)
		snprintf(extra, sizeof(extra), ", abandoned mark pending");
	if (in->mode == 0) {
		snprintf(buf, len, "%s: free%s", name, extra);
		return;
	}
	describe_holder_info(name, in, who, sizeof(who));
	if (in->mode == GLOCK_EXCLUSIVE)
		snprintf(buf, len, "%s: exclusive, held by %s, %u waiter%s%s",
			 name, who, in->waiters, in->waiters == 1 ? "" : "s",
			 extra);
	else
		snprintf(buf, len, "%s: shared by %u holder%s, %u waiter%s%s",
			 name, in->holders, in->holders == 1 ? "" : "s",
			 in->waiters, in->waiters == 1 ? "" : "s", extra);
}

void get_state(struct glock_dev *dev, const char *name,
	       struct glock_info *info)
{
	if (glock_state(dev, name, info) < 0)
		die_errno(EXIT_ERROR, "%s: state", name);
}

struct glock_dev *open_dev_or_die(void)
{
	return open_dev();
}

static int cmd_state(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		COMMON_LONGOPTS, { 0 }
	};
	int c, npos = 0, rest, json = 0;
	struct glock_info info;
	struct glock_dev *dev;
	char line[512], comm[64] = "", path[64];
	char *pos[1];
	FILE *f;

	cur_usage = usage_state;
	while ((c = next_opt(argc, argv, "+:JjhVv", opts, pos, &npos, 1, 0,
			     &rest)) != -1)
		if (c == 'J' || c == 'j')
			json = 1;
	if (npos < 1)
		usage_error("missing lock name");
	check_name(pos[0]);
	dev = open_dev();
	get_state(dev, pos[0], &info);
	glock_close(dev);
	if (!json) {
		format_state(pos[0], &info, line, sizeof(line));
		puts(line);
		return EXIT_DONE;
	}
	if (info.owner_pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/comm",
			 (int)info.owner_pid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
	}
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

static int is_command(const char *s)
{
	static const char *const names[] = {
		"run", "hold", "lock", "unlock", "state", "list", "trace",
		"rules", "cluster",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage_error("missing command or lock name");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		print_usage_exit(usage_main);
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "-v") ||
	    !strcmp(argv[1], "--version"))
		print_version_exit();
	if (!is_command(argv[1])) {
		/* flock(1)'s form: glock [options] NAME COMMAND... */
		tool_cmd = NULL;
		return cmd_run(argc, argv);
	}
	tool_cmd = argv[1];
	/* Each command parses argv[1..]: argv[0] of getopt is the command. */
	argc--;
	argv++;
	if (!strcmp(argv[0], "run"))
		return cmd_run(argc, argv);
	if (!strcmp(argv[0], "hold"))
		return cmd_hold(argc, argv);
	if (!strcmp(argv[0], "lock"))
		return cmd_lock_fd(argc, argv, 0);
	if (!strcmp(argv[0], "unlock"))
		return cmd_lock_fd(argc, argv, 1);
	if (!strcmp(argv[0], "state"))
		return cmd_state(argc, argv);
	if (!strcmp(argv[0], "list"))
		return cmd_list(argc, argv);
	if (!strcmp(argv[0], "rules"))
		return cmd_rules(argc, argv);
	if (!strcmp(argv[0], "cluster"))
		return cmd_cluster(argc, argv);
	return cmd_trace(argc, argv);
}
