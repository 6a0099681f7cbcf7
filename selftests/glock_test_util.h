/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers for the glock selftests: raw ioctl wrappers with poisoned
 * output fields, owner processes driven over pipes, bounded waits, debugfs
 * and module-parameter access.
 *
 * Children never use the harness macros (an ASSERT in a forked child would
 * unwind into the parent's test body); they report over pipes instead, and
 * die with their parent (PR_SET_PDEATHSIG) so a failed test leaves nothing.
 */
#ifndef GLOCK_TEST_UTIL_H
#define GLOCK_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/glock.h>

#include "kselftest.h"

#define GT_DEV		"/dev/glock"
#define GT_DEBUGFS	"/sys/kernel/debug/glock"
#define GT_PARAMS	"/sys/module/glock/parameters"
#define GT_POISON	0xcc
#define GT_NSEC		1000000000LL
#define GT_MSEC		1000000LL
/* Generous bound for anything that should happen "soon" under QEMU/TCG. */
#define GT_SOON_MS	10000

/*
 * Without the module there is nothing to test: like any kselftest whose
 * feature is missing, the whole program reports a skip (KSFT_SKIP) before
 * the harness runs a single test, instead of failing every one.
 */
__attribute__((constructor)) static void gt_need_module(void)
{
	if (access(GT_DEV, F_OK) == 0)
		return;
	ksft_print_header();
	ksft_exit_skip("%s missing (glock.ko not loaded)\n", GT_DEV);
}

static inline int64_t gt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * GT_NSEC + ts.tv_nsec;
}

static inline void gt_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline int gt_open(void)
{
	return open(GT_DEV, O_RDWR | O_CLOEXEC);
}

/* A request with every byte poisoned, then the inputs filled in. */
static inline void gt_fill_lock(struct glock_lock *lk, const void *name,
				size_t len, uint32_t mode, int64_t timeout_ns,
				uint32_t flags)
{
	memset(lk, GT_POISON, sizeof(*lk));
	lk->name = (uintptr_t)name;
	lk->name_len = len;
	lk->mode = mode;
	lk->timeout_ns = timeout_ns;
	lk->flags = flags;
	memset(lk->padding, 0, sizeof(lk->padding));
}

static inline void gt_fill_state(struct glock_state *st, const void *name,
				 size_t len)
{
	memset(st, GT_POISON, sizeof(*st));
	st->name = (uintptr_t)name;
	st->name_len = len;
	st->flags = 0;
	memset(st->padding, 0, sizeof(st->padding));
}

/* LOCK on a NUL-terminated name; -1 + errno on failure. */
static inline int gt_lock_full(int fd, const char *name, uint32_t mode,
			       int64_t timeout_ns, uint32_t flags,
			       uint32_t *result, uint32_t *depth)
{
	struct glock_lock lk;
	int ret;

	gt_fill_lock(&lk, name, strlen(name), mode, timeout_ns, flags);
	ret = ioctl(fd, GLOCK_IOC_LOCK, &lk);
	if (result)
		*result = lk.result;
	if (depth)
		*depth = lk.depth;
	return ret;
}

static inline int gt_lock(int fd, const char *name, uint32_t mode,
			  int64_t timeout_ns)
{
	return gt_lock_full(fd, name, mode, timeout_ns, 0, NULL, NULL);
}

static inline int gt_trylock(int fd, const char *name, uint32_t mode)
{
	return gt_lock(fd, name, mode, 0);
}

static inline int gt_unlock_full(int fd, const char *name, uint32_t mode,
				 uint32_t *depth)
{
	struct glock_lock lk;
	int ret;

	gt_fill_lock(&lk, name, strlen(name), mode, 0, 0);
	ret = ioctl(fd, GLOCK_IOC_UNLOCK, &lk);
	if (depth)
		*depth = lk.depth;
	return ret;
}

static inline int gt_unlock(int fd, const char *name)
{
	return gt_unlock_full(fd, name, 0, NULL);
}

static inline int gt_state(int fd, const char *name, struct glock_state *st)
{
	gt_fill_state(st, name, strlen(name));
	return ioctl(fd, GLOCK_IOC_STATE, st);
}

/*
 * Poll STATE until @pred holds or @ms pass. Returns 0 when it held (the
 * matching snapshot is left in @st), -1 on timeout or STATE error.
 */
#define gt_wait_state(fd, name, st, ms, pred) ({			\
	int64_t __end = gt_now() + (int64_t)(ms) * GT_MSEC;		\
	int __r = -1;							\
	for (;;) {							\
		if (gt_state((fd), (name), (st)))			\
			break;						\
		if (pred) {						\
			__r = 0;					\
			break;						\
		}							\
		if (gt_now() > __end)					\
			break;						\
		gt_sleep_ms(2);						\
	}								\
	__r;								\
})

static inline int gt_wait_waiters(int fd, const char *name, uint32_t n)
{
	struct glock_state st;

	return gt_wait_state(fd, name, &st, GT_SOON_MS, st.waiters == n);
}

static inline int gt_wait_holders(int fd, const char *name, uint32_t n)
{
	struct glock_state st;

	return gt_wait_state(fd, name, &st, GT_SOON_MS, st.holders == n);
}

/* ---- handles ----------------------------------------------------------- */

/* GET_HANDLE for a NUL-terminated name: the handle, or -1 + errno. */
static inline int gt_handle(int fd, const char *name)
{
	struct glock_handle h;

	memset(&h, 0, sizeof(h));
	h.name = (uintptr_t)name;
	h.name_len = strlen(name);
	h.handle = 0xcccccccc;
	if (ioctl(fd, GLOCK_IOC_GET_HANDLE, &h))
		return -1;
	return h.handle;
}

static inline int gt_hlock(int fd, int h, uint32_t mode, bool try)
{
	return ioctl(fd, GLOCK_IOC_HLOCK,
		     (unsigned long)h | mode << GLOCK_H_MODE_SHIFT |
		     (try ? GLOCK_H_TRY : 0));
}

static inline int gt_hunlock(int fd, int h)
{
	return ioctl(fd, GLOCK_IOC_HUNLOCK, (unsigned long)h);
}

static inline int gt_hput(int fd, int h)
{
	return ioctl(fd, GLOCK_IOC_PUT_HANDLE, (unsigned long)h);
}

/* ---- owner processes driven over pipes -------------------------------- */

enum gt_op {
	GT_OP_LOCK = 1,
	GT_OP_UNLOCK,
	GT_OP_STATE,
	GT_OP_CLOSE,	/* close this child's glock fd */
	GT_OP_OPEN,	/* open a fresh one (after CLOSE) */
	GT_OP_EXIT,
	GT_OP_UNSHARE_IPC,
};

struct gt_req {
	int op;
	uint32_t mode;
	int64_t timeout_ns;
	uint32_t flags;
	char name[GLOCK_NAME_MAX + 1];
};

struct gt_rep {
	int ret;
	int err;
	uint32_t result;
	uint32_t depth;
	int64_t t_start;
	int64_t t_end;
	struct glock_state st;
};

struct gt_child {
	pid_t pid;
	int req;	/* parent writes requests here */
	int rep;	/* parent reads replies here */
	bool pending;	/* a request was sent and not answered yet */
};

static int gt_child_sigusr1;

static void gt_child_on_usr1(int sig)
{
	(void)sig;
	gt_child_sigusr1++;
}

static inline void gt_close_other_fds(int keep1, int keep2, int keep3)
{
	for (int i = 3; i < 1024; i++)
		if (i != keep1 && i != keep2 && i != keep3)
			close(i);
}

static inline void gt_child_loop(int fd, int rfd, int wfd)
{
	struct sigaction sa = { .sa_handler = gt_child_on_usr1 };
	struct gt_req rq;
	struct gt_rep rp;

	/* No SA_RESTART: a signal must end a wait with EINTR. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	for (;;) {
		if (read(rfd, &rq, sizeof(rq)) != sizeof(rq))
			_exit(0);
		memset(&rp, 0, sizeof(rp));
		rp.t_start = gt_now();
		switch (rq.op) {
		case GT_OP_LOCK:
			rp.ret = gt_lock_full(fd, rq.name, rq.mode,
					      rq.timeout_ns, rq.flags,
					      &rp.result, &rp.depth);
			break;
		case GT_OP_UNLOCK:
			rp.ret = gt_unlock_full(fd, rq.name, rq.mode,
						&rp.depth);
			break;
		case GT_OP_STATE:
			rp.ret = gt_state(fd, rq.name, &rp.st);
			break;
		case GT_OP_CLOSE:
			rp.ret = close(fd);
			fd = -1;
			break;
		case GT_OP_OPEN:
			fd = gt_open();
			rp.ret = fd < 0 ? -1 : 0;
			break;
		case GT_OP_UNSHARE_IPC:
			rp.ret = unshare(CLONE_NEWIPC);
			break;
		case GT_OP_EXIT:
			_exit(0);
		}
		rp.err = rp.ret ? errno : 0;
		rp.t_end = gt_now();
		if (write(wfd, &rp, sizeof(rp)) != sizeof(rp))
			_exit(1);
	}
}

/*
 * Start an owner process. @fd < 0: the child opens its own /dev/glock (a
 * new owner); otherwise it keeps only that inherited fd (a shared owner).
 * Every other inherited fd is closed, so the child never keeps one of the
 * parent's owners alive by accident. @comm names the process. @prep, if
 * not NULL, runs in the child before it opens (e.g. to drop privileges);
 * a nonzero return ends the child.
 */
static inline int gt_child_start_prep(struct gt_child *c, int fd,
				      const char *comm,
				      int (*prep)(const void *),
				      const void *arg)
{
	int req[2], rep[2];
	pid_t ppid = getpid();

	if (pipe(req) || pipe(rep))
		return -1;
	c->pending = false;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ppid)
			_exit(1);
		if (comm)
			prctl(PR_SET_NAME, comm);
		gt_close_other_fds(req[0], rep[1], fd);
		if (prep && prep(arg))
			_exit(3);
		if (fd < 0) {
			fd = gt_open();
			if (fd < 0)
				_exit(2);
		}
		gt_child_loop(fd, req[0], rep[1]);
		_exit(0);
	}
	close(req[0]);
	close(rep[1]);
	c->req = req[1];
	c->rep = rep[0];
	return 0;
}

static inline int gt_child_start(struct gt_child *c, int fd, const char *comm)
{
	return gt_child_start_prep(c, fd, comm, NULL, NULL);
}

static inline int gt_child_send(struct gt_child *c, int op, const char *name,
				uint32_t mode, int64_t timeout_ns,
				uint32_t flags)
{
	struct gt_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.op = op;
	rq.mode = mode;
	rq.timeout_ns = timeout_ns;
	rq.flags = flags;
	if (name)
		snprintf(rq.name, sizeof(rq.name), "%s", name);
	if (write(c->req, &rq, sizeof(rq)) != sizeof(rq))
		return -1;
	c->pending = true;
	return 0;
}

/* Wait up to @ms for the answer; 0 = got it, -1 = none (still blocked). */
static inline int gt_child_wait(struct gt_child *c, struct gt_rep *rp, int ms)
{
	struct pollfd pfd = { .fd = c->rep, .events = POLLIN };
	struct gt_rep tmp;

	if (!rp)
		rp = &tmp;
	if (poll(&pfd, 1, ms) != 1)
		return -1;
	if (read(c->rep, rp, sizeof(*rp)) != sizeof(*rp))
		return -1;
	c->pending = false;
	return 0;
}

/* Is an answer ready right now? */
static inline bool gt_child_ready(struct gt_child *c)
{
	struct pollfd pfd = { .fd = c->rep, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/* Synchronous request: -2 if the child did not answer in time. */
static inline int gt_child_call(struct gt_child *c, int op, const char *name,
				uint32_t mode, int64_t timeout_ns,
				struct gt_rep *rp)
{
	struct gt_rep tmp;

	if (!rp)
		rp = &tmp;
	if (gt_child_send(c, op, name, mode, timeout_ns, 0))
		return -2;
	if (gt_child_wait(c, rp, GT_SOON_MS))
		return -2;
	errno = rp->err;
	return rp->ret;
}

static inline int gt_child_lock(struct gt_child *c, const char *name,
				uint32_t mode, int64_t timeout_ns)
{
	return gt_child_call(c, GT_OP_LOCK, name, mode, timeout_ns, NULL);
}

static inline int gt_child_unlock(struct gt_child *c, const char *name)
{
	return gt_child_call(c, GT_OP_UNLOCK, name, 0, 0, NULL);
}

/* Reap within a bound; returns the wait status or -1. */
static inline int gt_reap(pid_t pid, int ms)
{
	int64_t end = gt_now() + (int64_t)ms * GT_MSEC;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		if (gt_now() > end)
			return -1;
		gt_sleep_ms(2);
	}
}

static inline int gt_child_kill(struct gt_child *c)
{
	int status = -1;

	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		status = gt_reap(c->pid, GT_SOON_MS);
		c->pid = 0;
		close(c->req);
		close(c->rep);
	}
	return status;
}

/* Ask the child to exit (closing its fds); kill it if it does not. */
static inline void gt_child_stop(struct gt_child *c)
{
	if (c->pid <= 0)
		return;
	if (!c->pending)
		gt_child_send(c, GT_OP_EXIT, NULL, 0, 0, 0);
	close(c->req);
	if (c->pending || gt_reap(c->pid, GT_SOON_MS) < 0) {
		kill(c->pid, SIGKILL);
		gt_reap(c->pid, GT_SOON_MS);
	}
	close(c->rep);
	c->pid = 0;
}

/* ---- files: debugfs, module parameters --------------------------------- */

/* Read a whole (small) file; malloc'ed, NUL-terminated; NULL on error. */
static inline char *gt_read_file(const char *path)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = 0;
	return buf;
}

static inline char *gt_debugfs(const char *file)
{
	char path[256];

	snprintf(path, sizeof(path), GT_DEBUGFS "/%s", file);
	return gt_read_file(path);
}

/*
 * Value of @key in one record line (type word, then key=value pairs split by
 * single spaces). Copies into @out; returns 0 if found.
 */
static inline int gt_kv(const char *line, const char *key, char *out,
			size_t outsz)
{
	size_t klen = strlen(key);
	size_t llen = strcspn(line, "\n");
	const char *p = line;

	/* Skip the type word; then each token is key=value. */
	for (;;) {
		const char *sp = memchr(p, ' ', llen - (p - line));
		size_t n;

		if (!sp)
			return -1;
		p = sp + 1;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			p += klen + 1;
			n = strcspn(p, " \n");
			if (n >= outsz)
				n = outsz - 1;
			memcpy(out, p, n);
			out[n] = 0;
			return 0;
		}
	}
}

/* Numeric value of @key, or -1 if missing/not a number. */
static inline long long gt_kv_num(const char *line, const char *key)
{
	char v[64], *end;
	long long n;

	if (gt_kv(line, key, v, sizeof(v)) || !v[0])
		return -1;
	n = strtoll(v, &end, 10);
	return *end ? -1 : n;
}

/*
 * Find the @nth (0-based) line of type @type whose pairs include every
 * "key=value" in the NULL-terminated list. Returns a malloc'ed copy of the
 * line (without newline) or NULL.
 */
static inline char *gt_find_rec(const char *buf, const char *type, int nth, ...)
{
	size_t tlen = strlen(type);
	const char *line = buf;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char *copy = strndup(line, len);
		bool ok = !strncmp(copy, type, tlen) && copy[tlen] == ' ';
		va_list ap;
		const char *kv;

		va_start(ap, nth);
		while (ok && (kv = va_arg(ap, const char *))) {
			char key[64], val[512];
			const char *eq = strchr(kv, '=');

			snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
			ok = !gt_kv(copy, key, val, sizeof(val)) &&
			     !strcmp(val, eq + 1);
		}
		va_end(ap);
		if (ok && nth-- == 0)
			return copy;
		free(copy);
		line = eol ? eol + 1 : NULL;
	}
	return NULL;
}

/* How much slower this kernel runs (GLOCK_TIME_SCALE: 4 on a debug one). */
static inline int gt_time_scale(void)
{
	const char *s = getenv("GLOCK_TIME_SCALE");
	int v = s ? atoi(s) : 1;

	return v > 0 ? v : 1;
}

static inline long long gt_param_get(const char *param)
{
	char path[256], *s;
	long long v;

	snprintf(path, sizeof(path), GT_PARAMS "/%s", param);
	s = gt_read_file(path);
	if (!s)
		return -1;
	v = strtoll(s, NULL, 10);
	free(s);
	return v;
}

static inline int gt_param_set(const char *param, long long v)
{
	char path[256], buf[32];
	int fd, n, ret;

	snprintf(path, sizeof(path), GT_PARAMS "/%s", param);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%lld\n", v);
	ret = write(fd, buf, n) == n ? 0 : -1;
	close(fd);
	return ret;
}

/* The "stats" record's @key, or -1. */
static inline long long gt_stat(const char *key)
{
	char *buf = gt_debugfs("stats");
	char *rec;
	long long v = -1;

	if (!buf)
		return -1;
	rec = gt_find_rec(buf, "stats", 0, NULL);
	if (rec)
		v = gt_kv_num(rec, key);
	free(rec);
	free(buf);
	return v;
}

/* ---- bounding in-process waits ----------------------------------------- */

static void gt_on_alarm(int sig)
{
	(void)sig;
}

/*
 * Arm a SIGALRM in @secs without SA_RESTART: a call of this process that is
 * still blocked then fails with EINTR instead of hanging the test.
 */
static inline void gt_alarm_guard(unsigned int secs)
{
	struct sigaction sa = { .sa_handler = gt_on_alarm };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(secs);
}

/* A name unique to this test process, so tests never share a lock. */
static inline const char *gt_name(const char *tag)
{
	static char buf[8][GLOCK_NAME_MAX + 1];
	static int i;
	char *b = buf[i++ % 8];

	snprintf(b, sizeof(buf[0]), "gt-%d-%s", (int)getpid(), tag);
	return b;
}

#endif /* GLOCK_TEST_UTIL_H */
