// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock_bench: what a glock costs next to flock, OFD locks, SysV and POSIX
 * semaphores and a robust process-shared mutex, all measured in one run.
 *
 * 1. Uncontended lock+unlock in one process (median of several runs), as a
 *    ratio to two no-op ioctls on the same /dev/glock file: the floor any
 *    ioctl-based lock pays; by name and through a handle (HLOCK/HUNLOCK).
 *    Then a cost ladder splitting glock's pair.
 * 2. Four processes on one lock for a fixed time: ops/s, Jain's fairness
 *    index over the per-process counts and how often a later request got
 *    the lock first (bypass); mutual exclusion is checked. Two strictly
 *    FIFO references in user space show what fairness costs here.
 * 3. One vs two processes, each on its own glock name: does it scale?
 * 4. Many live locks (100k, 300k, 1M while the projected time allows):
 *    kernel memory per held lock, the pair's cost with them held, the time
 *    to read /sys/kernel/debug/glock/locks and to release them all.
 * 5. SIGKILL of a holder: how long until the queued waiter runs, for glock
 *    and for flock and SysV SEM_UNDO, whose holders pay the same exit; and
 *    the same holder releasing from a signal handler instead of dying, so
 *    the process exit's share of the interval shows.
 * 6. Costs the design forces: a request that queues (cycle search) next to
 *    a try, per wait-for edge, and the per-user quota.
 * Each target of issue 12 gets a verdict line where it is measured, and all
 * of them a table at the end.
 *
 * usage: glock_bench [-r RUNS] [-t SECONDS] [-p PROCS] [-d DIR] [-s]
 *                    [-S 123456] [-N N[,N...]] [-B SECONDS] [-k TRIALS]
 *        glock_bench -P WORKLOAD [-t SECONDS] [-p PROCS]
 *   -r  uncontended runs per mechanism (default 31, ~10 ms each)
 *   -t  seconds per timed run in sections 2 and 3 (default 2)
 *   -p  processes in section 2 (default 4)
 *   -d  directory for the flock/OFD file (default /dev/shm, else /tmp)
 *   -s  strict: exit 1 when any target is missed
 *   -S  sections to run (default 123456)
 *   -N  lock counts for section 4 (default 100000,300000,1000000)
 *   -B  section 4 skips a count whose projected time exceeds this (100 s)
 *   -k  SIGKILL trials in section 5 (default 41)
 *   -P  run one workload for -t seconds, for a profiler to watch
 *       (selftests/bench/profile.sh): noop, name, handle (pairs in one
 *       process, as section 1) or contended (section 2's glock by name)
 * Section 4 needs root (it raises module parameters and restores them);
 * section 6's quota rows need root to open a file as uid 65534.
 * Exit status: 0 done, 1 a mechanism failed or exclusion was violated
 * (or, with -s, a target was missed), 2 usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/futex.h>
#include <linux/glock.h>
#include <linux/magic.h>

#include "trace_order.h"

#define MAX_PROCS	16
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/*
 * One uncontended run: ~10 ms. Many short interleaved runs make the median
 * robust to the host descheduling a vCPU (the noise only ever adds time).
 */
#define RUN_NS		10000000LL

/* A command the driver does not know: dispatched to glock_ioctl, ENOTTY. */
#define GLOCK_IOC_NOOP	_IO(GLOCK_IOC_MAGIC, 0)

static int opt_runs = 31;
static double opt_secs = 2.0;
static int opt_procs = 4;
static const char *opt_dir;
static bool opt_strict;
static const char *opt_sections = "123456";
static const char *opt_workload;

static char lock_path[256];
static int sysv_id = -1;
static sem_t *psem = SEM_FAILED;
static char psem_name[64];
static char glock_name[64];
static bool failed;
/* Section 1's medians, for section 6's handle-vs-name line. */
static double sec1_noop = -1, sec1_name = -1, sec1_handle = -1;

/*
 * The targets of issue 12, each judged where it is measured and listed
 * again at the end: a verdict per figure, and with -s exit 1 on any miss.
 */
struct target {
	char figure[64];
	double value;		/* < 0: could not be measured (a miss) */
	bool at_most;		/* value <= limit, else value >= limit */
	double limit;
	int prec;
	const char *unit;
	bool met;
};

static struct target targets[16];
static int ntargets;

static void target(const char *figure, double value, bool at_most,
		   double limit, int prec, const char *unit)
{
	struct target *t;

	if (ntargets == (int)ARRAY_SIZE(targets))
		return;
	t = &targets[ntargets++];
	snprintf(t->figure, sizeof(t->figure), "%s", figure);
	t->value = value;
	t->at_most = at_most;
	t->limit = limit;
	t->prec = prec;
	t->unit = unit;
	t->met = value >= 0 && (at_most ? value <= limit : value >= limit);
	if (value < 0)
		printf("target %s: not measured (%s %.*f%s): MISSED\n", figure,
		       at_most ? "<=" : ">=", prec, limit, unit);
	else
		printf("target %s = %.*f%s (%s %.*f%s): %s\n", figure, prec,
		       value, unit, at_most ? "<=" : ">=", prec, limit, unit,
		       t->met ? "met" : "MISSED");
}

/* Counters padded to a cache line each, so they do not bounce together. */
struct padded {
	unsigned long v;
	char pad[64 - sizeof(unsigned long)];
};

/* Shared by every process of the run (anonymous shared mapping). */
struct shared {
	pthread_mutex_t mtx;		/* the robust mutex under test */
	int ready;
	int go;
	int stop;
	int inside;			/* processes in the critical section */
	unsigned long counter;		/* the "work": touched under the lock */
	unsigned long violations;
	unsigned int arrivals;		/* requests made so far */
	unsigned int next_ticket;	/* the FIFO reference lock */
	int slot[MAX_PROCS];
	sem_t ring[MAX_PROCS];		/* the hand-off ring reference */
	int nring;
	struct padded count[MAX_PROCS];
	int64_t t_wake;			/* section 5: LOCK returned */
};

static struct shared *shm;

/*
 * Section 2's FIFO check: each request draws an arrival number just before
 * it calls lock(); the holder logs it, in acquisition order.
 */
#define LOG_MAX		(1UL << 18)
static unsigned int *acq_log;

/* One process's handle on a mechanism. */
struct handle {
	int idx;			/* process number in a timed run */
	unsigned int ticket;		/* FIFO reference: the one held */
	int fd;
	int fd2;			/* a second file, when a row needs one */
	unsigned long harg;		/* HLOCK's argument */
	unsigned long hid;		/* the glock handle */
	struct glock_lock gl;
	struct glock_lock ul;
};

struct mech {
	const char *name;
	int (*attach)(struct handle *h, const char *name);
	/* 0 held, -1 failed (errno), 1 the timed run ended while it waited */
	int (*lock)(struct handle *h);
	int (*unlock)(struct handle *h);
	void (*detach)(struct handle *h);
};

static void __attribute__((format(printf, 1, 2))) warnx(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("glock_bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- glock and the no-op ioctl baseline ---- */

static int glock_attach(struct handle *h, const char *name, uint32_t mode)
{
	h->fd = open("/dev/glock", O_RDWR | O_CLOEXEC);
	if (h->fd < 0)
		return -1;
	memset(&h->gl, 0, sizeof(h->gl));
	h->gl.name = (uintptr_t)name;
	h->gl.name_len = strlen(name);
	h->gl.mode = mode;
	h->gl.timeout_ns = -1;		/* wait forever, as a plain lock() */
	h->ul = h->gl;
	h->ul.timeout_ns = 0;
	return 0;
}

static int glock_attach_ex(struct handle *h, const char *name)
{
	return glock_attach(h, name, GLOCK_EXCLUSIVE);
}

static int glock_attach_sh(struct handle *h, const char *name)
{
	return glock_attach(h, name, GLOCK_SHARED);
}

static int glock_do_lock(struct handle *h)
{
	return ioctl(h->fd, GLOCK_IOC_LOCK, &h->gl);
}

static int glock_do_unlock(struct handle *h)
{
	return ioctl(h->fd, GLOCK_IOC_UNLOCK, &h->ul);
}

static void fd_detach(struct handle *h)
{
	close(h->fd);
}

static int noop_attach(struct handle *h, const char *name)
{
	(void)name;
	h->fd = open("/dev/glock", O_RDWR | O_CLOEXEC);
	return h->fd < 0 ? -1 : 0;
}

static int devnull_attach(struct handle *h, const char *name)
{
	(void)name;
	h->fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	return h->fd < 0 ? -1 : 0;
}

static int noop_ioctl(struct handle *h)
{
	if (ioctl(h->fd, GLOCK_IOC_NOOP, 0) == 0 || errno != ENOTTY) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* ---- handles: GET_HANDLE once, then HLOCK/HUNLOCK with an integer ---- */

/* Make a handle for @name on @fd; 0 or -1 (errno). */
static int get_handle(int fd, const char *name, unsigned long *hid)
{
	struct glock_handle gh;

	memset(&gh, 0, sizeof(gh));
	gh.name = (uintptr_t)name;
	gh.name_len = strlen(name);
	if (ioctl(fd, GLOCK_IOC_GET_HANDLE, &gh))
		return -1;
	*hid = gh.handle;
	return 0;
}

/* Names of their own, so that a handle never pins another row's object. */
static char hdl_name[64], hrec_name[64], pin_name[64], own_name[64];

/* A file with a handle on @name, for exclusive HLOCKs. */
static int handle_attach_to(struct handle *h, const char *name)
{
	if (glock_attach_ex(h, name))
		return -1;
	if (get_handle(h->fd, name, &h->hid)) {
		close(h->fd);
		return -1;
	}
	h->harg = h->hid | (unsigned long)GLOCK_EXCLUSIVE << GLOCK_H_MODE_SHIFT;
	return 0;
}

static int handle_attach(struct handle *h, const char *name)
{
	(void)name;
	return handle_attach_to(h, hdl_name);
}

static int handle_lock(struct handle *h)
{
	return ioctl(h->fd, GLOCK_IOC_HLOCK, h->harg) < 0 ? -1 : 0;
}

static int handle_unlock(struct handle *h)
{
	return ioctl(h->fd, GLOCK_IOC_HUNLOCK, h->hid) < 0 ? -1 : 0;
}

/*
 * A name pair on an object another file's handle keeps alive: no object
 * is made or freed, but this owner's ref is.
 */
static int pinned_attach(struct handle *h, const char *name)
{
	(void)name;
	h->fd2 = open("/dev/glock", O_RDWR | O_CLOEXEC);
	if (h->fd2 < 0)
		return -1;
	if (get_handle(h->fd2, pin_name, &h->hid) ||
	    glock_attach_ex(h, pin_name)) {
		close(h->fd2);
		return -1;
	}
	return 0;
}

static void pinned_detach(struct handle *h)
{
	close(h->fd);
	close(h->fd2);
}

/* A name pair while this owner has a handle on it: its ref stays too. */
static int ownhandle_attach(struct handle *h, const char *name)
{
	(void)name;
	if (glock_attach_ex(h, own_name))
		return -1;
	if (get_handle(h->fd, own_name, &h->hid)) {
		close(h->fd);
		return -1;
	}
	return 0;
}

/*
 * Two names in turn: each release keeps its lock for the file and lets
 * the other one go, so every pair makes an object and a ref and frees
 * another two, as a program that never locks the same name twice does.
 */
static char alt_name[2][64];

static int alternate_attach(struct handle *h, const char *name)
{
	(void)name;
	return glock_attach_ex(h, alt_name[0]);
}

static int alternate_unlock(struct handle *h)
{
	int ret = glock_do_unlock(h);

	h->gl.name = (uintptr_t)alt_name[h->gl.name == (uintptr_t)alt_name[0]];
	h->ul.name = h->gl.name;
	return ret;
}

/* ---- the cost ladder: glock calls that stop at a known point ---- */

/* 0 if a ladder call failed with @err as it should; else -1 (EPROTO). */
static int failed_with(int ret, int err)
{
	if (ret == 0 || errno != err) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* LOCK with nonzero padding: dispatch + 64-byte copy in, then EINVAL. */
static int einval_ioctl(struct handle *h)
{
	return failed_with(ioctl(h->fd, GLOCK_IOC_LOCK, &h->gl), EINVAL);
}

static int einval_attach(struct handle *h, const char *name)
{
	if (glock_attach_ex(h, name))
		return -1;
	h->gl.padding[6] = 1;
	return 0;
}

/*
 * UNLOCK of a name not held: every copy of a real unlock, the hash, the
 * bucket lock and the lookup, but no release work.
 */
static int eperm_ioctl(struct handle *h)
{
	return failed_with(ioctl(h->fd, GLOCK_IOC_UNLOCK, &h->ul), EPERM);
}

/* Names of their own, so the ladder's rows never block each other. */
static char rec_name[64], none_name[64];

static int eperm_attach(struct handle *h, const char *name)
{
	(void)name;
	return glock_attach_ex(h, none_name);
}

/*
 * Take an attached row's lock once with @lock, so that its pairs go depth
 * 1 -> 2 -> 1 (no grant work); on failure the row's file is closed.
 */
static int hold_once(struct handle *h, int (*lock)(struct handle *h))
{
	if (lock(h)) {
		close(h->fd);
		return -1;
	}
	return 0;
}

static int recursive_attach(struct handle *h, const char *name)
{
	(void)name;
	if (glock_attach_ex(h, rec_name))
		return -1;
	return hold_once(h, glock_do_lock);
}

/* HLOCK of handle 0, never one: dispatch, argument checks, EINVAL. */
static int hinval_ioctl(struct handle *h)
{
	unsigned long arg = (unsigned long)GLOCK_EXCLUSIVE << GLOCK_H_MODE_SHIFT;

	return failed_with(ioctl(h->fd, GLOCK_IOC_HLOCK, arg), EINVAL);
}

/* HUNLOCK of a handle not held: the lookup and both locks, no release. */
static int heperm_ioctl(struct handle *h)
{
	return failed_with(ioctl(h->fd, GLOCK_IOC_HUNLOCK, h->hid), EPERM);
}

/* Held once through the handle. */
static int hrecursive_attach(struct handle *h, const char *name)
{
	(void)name;
	if (handle_attach_to(h, hrec_name))
		return -1;
	return hold_once(h, handle_lock);
}

/* What a kernel clock read costs here (vDSO, or a syscall without TSC). */
static int clock_call(struct handle *h)
{
	struct timespec ts;

	(void)h;
	return clock_gettime(CLOCK_MONOTONIC, &ts);
}

/* ---- flock and OFD locks on a tmpfs file ---- */

static int file_attach(struct handle *h, const char *name)
{
	(void)name;
	h->fd = open(lock_path, O_RDWR | O_CLOEXEC);
	return h->fd < 0 ? -1 : 0;
}

static int flock_lock(struct handle *h)
{
	return flock(h->fd, LOCK_EX);
}

static int flock_unlock(struct handle *h)
{
	return flock(h->fd, LOCK_UN);
}

static int ofd_lock(struct handle *h)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	return fcntl(h->fd, F_OFD_SETLKW, &fl);
}

static int ofd_unlock(struct handle *h)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	return fcntl(h->fd, F_OFD_SETLK, &fl);
}

/* ---- SysV semaphore, POSIX named semaphore, robust mutex ---- */

static int none_attach(struct handle *h, const char *name)
{
	(void)name;
	h->fd = -1;
	return 0;
}

static void none_detach(struct handle *h)
{
	(void)h;
}

static int sysv_lock(struct handle *h)
{
	struct sembuf op = { .sem_num = 0, .sem_op = -1, .sem_flg = SEM_UNDO };

	(void)h;
	return semop(sysv_id, &op, 1);
}

static int sysv_unlock(struct handle *h)
{
	struct sembuf op = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO };

	(void)h;
	return semop(sysv_id, &op, 1);
}

static int psem_lock(struct handle *h)
{
	(void)h;
	return sem_wait(psem);
}

static int psem_unlock(struct handle *h)
{
	(void)h;
	return sem_post(psem);
}

/*
 * Reference for section 2: a FIFO queue lock in user space (Anderson's
 * array lock, one futex per slot). Arrival order is the ticket order and
 * every contended acquisition is one precise wake-up, as with glock's
 * hand-off: what a strictly FIFO lock without barging reaches here.
 */
static long futex(int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static int fifo_lock(struct handle *h)
{
	unsigned int t = __atomic_fetch_add(&shm->next_ticket, 1,
					    __ATOMIC_RELAXED);
	int *slot = &shm->slot[t % MAX_PROCS];

	while (!__atomic_load_n(slot, __ATOMIC_ACQUIRE))
		if (futex(slot, FUTEX_WAIT, 0) && errno != EAGAIN &&
		    errno != EINTR)
			return -1;
	__atomic_store_n(slot, 0, __ATOMIC_RELAXED);
	h->ticket = t;
	return 0;
}

static int fifo_unlock(struct handle *h)
{
	int *next = &shm->slot[(h->ticket + 1) % MAX_PROCS];

	__atomic_store_n(next, 1, __ATOMIC_RELEASE);
	return futex(next, FUTEX_WAKE, 1) < 0 ? -1 : 0;
}

/*
 * Second reference: a token passed round a ring of processes, each waiting
 * on its own semaphore, so that every acquisition wakes a sleeping process
 * as glock's hand-off to a queued waiter does: the floor for that.
 */
static int ring_lock(struct handle *h)
{
	for (;;) {
		int64_t end = now_ns() + 10000000;
		struct timespec ts = { end / 1000000000, end % 1000000000 };

		if (!sem_clockwait(&shm->ring[h->idx], CLOCK_MONOTONIC, &ts))
			return 0;
		if (errno != ETIMEDOUT && errno != EINTR)
			return -1;
		/*
		 * The run is over, and the process before this one may have
		 * left without its turn: the token will not come.
		 */
		if (__atomic_load_n(&shm->stop, __ATOMIC_RELAXED))
			return 1;
	}
}

static int ring_unlock(struct handle *h)
{
	return sem_post(&shm->ring[(h->idx + 1) % shm->nring]);
}

static int mutex_lock(struct handle *h)
{
	int r = pthread_mutex_lock(&shm->mtx);

	(void)h;
	if (r == EOWNERDEAD)
		r = pthread_mutex_consistent(&shm->mtx);
	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

static int mutex_unlock(struct handle *h)
{
	int r = pthread_mutex_unlock(&shm->mtx);

	(void)h;
	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

static const struct mech m_noop = {
	"2 no-op ioctls, /dev/glock",
	noop_attach, noop_ioctl, noop_ioctl, fd_detach };
static const struct mech m_devnull = {
	"2 no-op ioctls, /dev/null",
	devnull_attach, noop_ioctl, noop_ioctl, fd_detach };
static const struct mech m_glock_ex = {
	"glock exclusive",
	glock_attach_ex, glock_do_lock, glock_do_unlock, fd_detach };
static const struct mech m_handle = {
	"glock handle HLOCK/HUNLOCK",
	handle_attach, handle_lock, handle_unlock, fd_detach };
static const struct mech m_glock_sh = {
	"glock shared",
	glock_attach_sh, glock_do_lock, glock_do_unlock, fd_detach };
static const struct mech m_flock = {
	"flock LOCK_EX/LOCK_UN",
	file_attach, flock_lock, flock_unlock, fd_detach };
static const struct mech m_ofd = {
	"OFD fcntl F_OFD_SETLKW",
	file_attach, ofd_lock, ofd_unlock, fd_detach };
static const struct mech m_sysv = {
	"SysV semop SEM_UNDO",
	none_attach, sysv_lock, sysv_unlock, none_detach };
static const struct mech m_psem = {
	"POSIX named sem_wait/post",
	none_attach, psem_lock, psem_unlock, none_detach };
static const struct mech m_mutex = {
	"robust pshared pthread mutex",
	none_attach, mutex_lock, mutex_unlock, none_detach };

static const struct mech m_einval = {
	"2 LOCK, EINVAL at arg check",
	einval_attach, einval_ioctl, einval_ioctl, fd_detach };
static const struct mech m_eperm = {
	"2 UNLOCK, EPERM (not held)",
	eperm_attach, eperm_ioctl, eperm_ioctl, fd_detach };
static const struct mech m_pinned = {
	"name pair, obj kept by a handle",
	pinned_attach, glock_do_lock, glock_do_unlock, pinned_detach };
static const struct mech m_ownhandle = {
	"name pair, own handle (ref kept)",
	ownhandle_attach, glock_do_lock, glock_do_unlock, fd_detach };
static const struct mech m_alternate = {
	"name pair, a new object each time",
	alternate_attach, glock_do_lock, alternate_unlock, fd_detach };
static const struct mech m_recursive = {
	"glock recursive (depth 1<->2)",
	recursive_attach, glock_do_lock, glock_do_unlock, fd_detach };
static const struct mech m_hinval = {
	"2 HLOCK, EINVAL (no handle 0)",
	handle_attach, hinval_ioctl, hinval_ioctl, fd_detach };
static const struct mech m_heperm = {
	"2 HUNLOCK, EPERM (not held)",
	handle_attach, heperm_ioctl, heperm_ioctl, fd_detach };
static const struct mech m_hrecursive = {
	"handle recursive (depth 1<->2)",
	hrecursive_attach, handle_lock, handle_unlock, fd_detach };

static const struct mech m_fifo = {
	"FIFO futex queue lock (ref)",
	none_attach, fifo_lock, fifo_unlock, none_detach };
static const struct mech m_ring = {
	"hand-off ring, sems (ref)",
	none_attach, ring_lock, ring_unlock, none_detach };
static const struct mech m_clock = {
	"2 clock_gettime(MONOTONIC)",
	none_attach, clock_call, clock_call, none_detach };

static const struct mech *const table1[] = {
	&m_noop, &m_devnull, &m_glock_ex, &m_handle, &m_glock_sh, &m_flock,
	&m_ofd, &m_sysv, &m_psem, &m_mutex,
};

static const struct mech *const ladder[] = {
	&m_noop, &m_einval, &m_eperm, &m_recursive, &m_ownhandle, &m_pinned,
	&m_glock_ex, &m_alternate, &m_hinval, &m_heperm, &m_hrecursive, &m_handle, &m_clock,
};

/* ---- setup and teardown of the shared objects ---- */

static int setup(void)
{
	pthread_mutexattr_t ma;
	struct statfs sfs;
	const char *dir = opt_dir;
	int fd;

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		warnx("mmap: %s", strerror(errno));
		return -1;
	}
	memset(shm, 0, sizeof(*shm));
	acq_log = mmap(NULL, LOG_MAX * sizeof(*acq_log), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (acq_log == MAP_FAILED) {
		warnx("mmap: %s", strerror(errno));
		return -1;
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (pthread_mutex_init(&shm->mtx, &ma)) {
		warnx("pthread_mutex_init failed");
		return -1;
	}
	pthread_mutexattr_destroy(&ma);

	snprintf(glock_name, sizeof(glock_name), "glock-bench.%d", getpid());
	snprintf(rec_name, sizeof(rec_name), "glock-bench.rec.%d", getpid());
	snprintf(none_name, sizeof(none_name), "glock-bench.none.%d",
		 getpid());
	snprintf(hdl_name, sizeof(hdl_name), "glock-bench.hdl.%d", getpid());
	snprintf(hrec_name, sizeof(hrec_name), "glock-bench.hrec.%d",
		 getpid());
	snprintf(pin_name, sizeof(pin_name), "glock-bench.pin.%d", getpid());
	snprintf(own_name, sizeof(own_name), "glock-bench.own.%d", getpid());
	for (int i = 0; i < 2; i++)
		snprintf(alt_name[i], sizeof(alt_name[i]),
			 "glock-bench.alt%d.%d", i, getpid());

	if (!dir)
		dir = statfs("/dev/shm", &sfs) == 0 &&
		      sfs.f_type == TMPFS_MAGIC ? "/dev/shm" : "/tmp";
	snprintf(lock_path, sizeof(lock_path), "%s/glock-bench.%d", dir,
		 getpid());
	fd = open(lock_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		warnx("%s: %s", lock_path, strerror(errno));
		return -1;
	}
	close(fd);
	if (statfs(dir, &sfs) == 0 && sfs.f_type != TMPFS_MAGIC)
		printf("# note: %s is not tmpfs (f_type 0x%lx)\n", dir,
		       (unsigned long)sfs.f_type);

	sysv_id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (sysv_id < 0 || semctl(sysv_id, 0, SETVAL, 1) < 0) {
		warnx("SysV semaphore: %s", strerror(errno));
		return -1;
	}

	snprintf(psem_name, sizeof(psem_name), "/glock-bench.%d", getpid());
	psem = sem_open(psem_name, O_CREAT | O_EXCL, 0600, 1);
	if (psem == SEM_FAILED) {
		warnx("sem_open %s: %s (is /dev/shm mounted?)", psem_name,
		      strerror(errno));
		return -1;
	}
	return 0;
}

static void teardown(void)
{
	if (lock_path[0])
		unlink(lock_path);
	if (sysv_id >= 0)
		semctl(sysv_id, 0, IPC_RMID);
	if (psem != SEM_FAILED) {
		sem_close(psem);
		sem_unlink(psem_name);
	}
}

/* ---- 1. uncontended ---- */

/* ns per lock+unlock pair over @n pairs; < 0 on failure. */
static double time_pairs(const struct mech *m, struct handle *h, long n)
{
	int64_t t0, t1;
	long i;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (m->lock(h) || m->unlock(h)) {
			warnx("%s: %s", m->name, strerror(errno));
			return -1;
		}
	}
	t1 = now_ns();
	return (double)(t1 - t0) / n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Median ns/pair for each mechanism. Runs are interleaved (run r of every
 * mechanism, then run r + 1) so that drift of the host hits all alike.
 */
static void measure_uncontended(const struct mech *const *ms, size_t nm,
				double *median, double *best)
{
	struct handle h[16];
	long n[16];
	double *samples = calloc(nm * opt_runs, sizeof(double));
	bool ok[16];
	size_t i;
	int r;

	for (i = 0; i < nm; i++) {
		double warm;

		median[i] = -1;
		best[i] = -1;
		ok[i] = false;
		if (ms[i]->attach(&h[i], glock_name)) {
			warnx("%s: attach: %s", ms[i]->name, strerror(errno));
			failed = true;
			continue;
		}
		warm = time_pairs(ms[i], &h[i], 2000);
		if (warm < 0) {
			ms[i]->detach(&h[i]);
			failed = true;
			continue;
		}
		n[i] = (long)(RUN_NS / (warm > 1 ? warm : 1));
		if (n[i] < 1000)
			n[i] = 1000;
		ok[i] = true;
	}
	for (r = 0; r < opt_runs; r++) {
		for (i = 0; i < nm; i++) {
			double v;

			if (!ok[i])
				continue;
			v = time_pairs(ms[i], &h[i], n[i]);
			if (v < 0) {
				ok[i] = false;
				failed = true;
				continue;
			}
			samples[i * opt_runs + r] = v;
		}
	}
	for (i = 0; i < nm; i++) {
		if (!ok[i])
			continue;
		qsort(samples + i * opt_runs, opt_runs, sizeof(double),
		      cmp_double);
		median[i] = samples[i * opt_runs + opt_runs / 2];
		best[i] = samples[i * opt_runs];
		ms[i]->detach(&h[i]);
	}
	free(samples);
}

/* ---- 2. and 3.: several processes for a fixed time ---- */

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void child_run(const struct mech *m, int idx, const char *name,
		      bool critical, int pin_cpu)
{
	struct handle h;
	unsigned long mine = 0;

	if (pin_cpu >= 0)
		pin_to_cpu(pin_cpu);
	h.idx = idx;
	if (m->attach(&h, name)) {
		warnx("%s: attach: %s", m->name, strerror(errno));
		_exit(1);
	}
	__atomic_add_fetch(&shm->ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&shm->go, __ATOMIC_ACQUIRE))
		sleep_ns(200000);
	while (!__atomic_load_n(&shm->stop, __ATOMIC_RELAXED)) {
		unsigned int arrival = __atomic_fetch_add(&shm->arrivals, 1,
							  __ATOMIC_SEQ_CST);
		int r = m->lock(&h);

		if (r > 0)		/* the run ended while it waited */
			break;
		if (r) {
			warnx("%s: lock: %s", m->name, strerror(errno));
			_exit(1);
		}
		if (critical) {
			if (__atomic_fetch_add(&shm->inside, 1,
					       __ATOMIC_ACQUIRE))
				shm->violations++;
			if (shm->counter < LOG_MAX)
				acq_log[shm->counter] = arrival;
			shm->counter++;
			__atomic_fetch_sub(&shm->inside, 1, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&shm->count[idx].v, ++mine,
				 __ATOMIC_RELAXED);
		if (m->unlock(&h)) {
			warnx("%s: unlock: %s", m->name, strerror(errno));
			_exit(1);
		}
	}
	m->detach(&h);
	_exit(0);
}

/*
 * Run @np processes of @m for @secs; per-process acquisitions in @counts.
 * @names[i] is process i's lock name; @pin: one CPU each. Returns the
 * elapsed seconds, < 0 on failure.
 */
static double run_for(const struct mech *m, int np, const char **names,
		      bool critical, bool pin, double secs,
		      unsigned long *counts)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t pid[MAX_PROCS];
	int64_t t0, t1, give_up;
	int i, alive, status;
	bool bad = false;

	shm->ready = shm->go = shm->stop = 0;
	shm->inside = 0;
	shm->violations = 0;
	shm->counter = 0;
	shm->arrivals = 0;
	for (i = 0; i < np; i++)
		shm->count[i].v = 0;
	fflush(stdout);
	for (i = 0; i < np; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			warnx("fork: %s", strerror(errno));
			np = i;
			bad = true;
			break;
		}
		if (!pid[i])
			child_run(m, i, names[i], critical,
				  pin && ncpu > 1 ? (int)(i % ncpu) : -1);
	}
	give_up = now_ns() + 10000000000LL;
	while (!bad && __atomic_load_n(&shm->ready, __ATOMIC_SEQ_CST) < np) {
		if (now_ns() > give_up) {
			warnx("%s: processes did not start", m->name);
			bad = true;
		}
		sleep_ns(1000000);
	}
	t0 = now_ns();
	__atomic_store_n(&shm->go, 1, __ATOMIC_RELEASE);
	if (!bad)
		sleep_ns((int64_t)(secs * 1e9));
	for (i = 0; i < np; i++)
		counts[i] = __atomic_load_n(&shm->count[i].v,
					    __ATOMIC_RELAXED);
	t1 = now_ns();
	__atomic_store_n(&shm->stop, 1, __ATOMIC_RELAXED);

	/* Bounded: a process stuck in a lock is killed, and that fails. */
	give_up = now_ns() + 20000000000LL;
	for (alive = np; alive;) {
		for (i = 0; i < np; i++) {
			pid_t r;

			if (!pid[i])
				continue;
			r = waitpid(pid[i], &status, WNOHANG);
			if (r == 0)
				continue;
			if (r < 0 || !WIFEXITED(status) ||
			    WEXITSTATUS(status))
				bad = true;
			pid[i] = 0;
			alive--;
		}
		if (!alive)
			break;
		if (now_ns() > give_up) {
			warnx("%s: %d processes stuck; killing them", m->name,
			      alive);
			for (i = 0; i < np; i++)
				if (pid[i]) {
					kill(pid[i], SIGKILL);
					waitpid(pid[i], &status, 0);
					pid[i] = 0;
				}
			bad = true;
			break;
		}
		sleep_ns(5000000);
	}
	if (critical && shm->violations) {
		warnx("%s: MUTUAL EXCLUSION VIOLATED %lu times", m->name,
		      shm->violations);
		bad = true;
	}
	if (bad) {
		failed = true;
		return -1;
	}
	return (double)(t1 - t0) / 1e9;
}

/* run_for() for opt_secs. */
static double run_timed(const struct mech *m, int np, const char **names,
			bool critical, bool pin, unsigned long *counts)
{
	return run_for(m, np, names, critical, pin, opt_secs, counts);
}

/* " x/y" in a field of @width, or "-" when y is unknown. */
static void print_ratio(double x, double y, int width)
{
	if (y > 0)
		printf(" %*.2f", width, x / y);
	else
		printf(" %*s", width, "-");
}

/* Section 1, with the verdicts for the handle and the name pair. */
static void uncontended(void)
{
	double med[ARRAY_SIZE(table1)], lad[ARRAY_SIZE(ladder)];
	double min[ARRAY_SIZE(table1)], lmin[ARRAY_SIZE(ladder)];
	int64_t t0 = now_ns();
	double base, gl;
	size_t i;

	printf("## 1. Uncontended lock+unlock, one process, median of %d runs "
	       "of ~%lld ms\n\n", opt_runs, RUN_NS / 1000000);
	measure_uncontended(table1, ARRAY_SIZE(table1), med, min);
	base = med[0];
	gl = med[2];
	printf("%-32s %10s %10s %9s %10s %9s\n", "mechanism", "ns/pair",
	       "x ioctls", "x glock", "min ns", "min x io");
	for (i = 0; i < ARRAY_SIZE(table1); i++) {
		if (med[i] < 0) {
			printf("%-32s %10s\n", table1[i]->name, "FAILED");
			continue;
		}
		printf("%-32s %10.1f", table1[i]->name, med[i]);
		print_ratio(med[i], base, 10);
		print_ratio(med[i], gl, 9);
		printf(" %10.1f", min[i]);
		print_ratio(min[i], min[0], 9);
		printf("\n");
	}
	sec1_noop = base;
	sec1_name = gl;
	sec1_handle = med[3];
	if (base > 0 && min[0] > 0 && base / min[0] > 1.3)
		printf("# warning: noisy host: the baseline's median is %.2f x "
		       "its best run; the min columns are steadier\n",
		       base / min[0]);
	printf("\n");
	target("handle lock+unlock / two no-op ioctls",
	       base > 0 && med[3] > 0 ? med[3] / base : -1, true, 1.20, 2, "");
	if (base > 0 && med[3] > 0)
		printf("#   goal 1.15: %s; best runs %.2f\n",
		       med[3] / base <= 1.15 ? "met" : "missed",
		       min[0] > 0 ? min[3] / min[0] : -1);
	target("name lock+unlock / two no-op ioctls",
	       base > 0 && gl > 0 ? gl / base : -1, true, 2.0, 2, "");
	if (base > 0 && gl > 0)
		printf("#   best runs %.2f\n", min[0] > 0 ? min[2] / min[0] : -1);

	printf("\n## 1b. Where glock's pair goes (ns per pair of calls, "
	       "same method)\n\n");
	measure_uncontended(ladder, ARRAY_SIZE(ladder), lad, lmin);
	printf("%-32s %10s %12s %10s %12s\n", "calls", "ns/pair",
	       "+ over no-op", "min ns", "min + no-op");
	for (i = 0; i < ARRAY_SIZE(ladder); i++) {
		if (lad[i] < 0) {
			printf("%-32s %10s\n", ladder[i]->name, "FAILED");
			continue;
		}
		printf("%-32s %10.1f %12.1f %10.1f %12.1f\n", ladder[i]->name,
		       lad[i], lad[0] > 0 ? lad[i] - lad[0] : 0, lmin[i],
		       lmin[0] > 0 ? lmin[i] - lmin[0] : 0);
	}
	printf("# (%.1f s)\n", (now_ns() - t0) / 1e9);
}

static double jain(const unsigned long *x, int n)
{
	double s = 0, s2 = 0;
	int i;

	for (i = 0; i < n; i++) {
		s += x[i];
		s2 += (double)x[i] * x[i];
	}
	return s2 > 0 ? s * s / (n * s2) : 0;
}

/*
 * Bypass: how many requests that arrived later got the lock first. 0 for a
 * strictly FIFO lock (but for the few instructions between drawing the
 * number and entering lock()); large when a releaser may barge back in.
 * Returns the mean over the first @n acquisitions in acq_log; *maxb gets
 * the largest. Counted with a Fenwick tree over arrival numbers.
 */
static double bypass_of(unsigned long n, unsigned long *maxb)
{
	unsigned long size = LOG_MAX + MAX_PROCS + 1, k, sum = 0;
	unsigned int *tree = calloc(size + 1, sizeof(*tree));

	*maxb = 0;
	if (!tree || !n) {
		free(tree);
		return -1;
	}
	for (k = 0; k < n; k++) {
		unsigned long r = acq_log[k], before = 0, j, b;

		if (r >= size)		/* cannot happen; be safe */
			continue;
		/* Acquisitions so far that arrived before this one. */
		for (j = r; j > 0; j -= j & -j)
			before += tree[j];
		b = k - before;
		sum += b;
		if (b > *maxb)
			*maxb = b;
		for (j = r + 1; j <= size; j += j & -j)
			tree[j]++;
	}
	free(tree);
	return (double)sum / n;
}

/* Bypass of the last timed run, from the numbers drawn in user space. */
static double bypass(unsigned long *maxb)
{
	return bypass_of(shm->counter < LOG_MAX ? shm->counter : LOG_MAX,
			 maxb);
}

static long read_param(const char *name);
static int write_param(const char *name, long v);

/* Context switches so far on all CPUs (/proc/stat), 0 if unknown. */
static unsigned long long ctxt_switches(void)
{
	unsigned long long n = 0;
	char line[256];
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "ctxt %llu", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * glock once more with spin_us=0, so the run shows what the head waiter's
 * spinning buys: ops/s, or -1 if the parameter cannot be set; Jain,
 * bypass and context switches per acquisition in *@fair, *@byp, *@maxb
 * and *@cs.
 */
static double contended_nospin(const char **names, double *fair,
			       double *byp, unsigned long *maxb, double *cs)
{
	long saved = read_param("spin_us");
	unsigned long counts[MAX_PROCS], sum = 0;
	unsigned long long c0;
	double secs;
	int j;

	if (saved < 0 || write_param("spin_us", 0))
		return -1;
	c0 = ctxt_switches();
	secs = run_timed(&m_glock_ex, opt_procs, names, true, false, counts);
	write_param("spin_us", saved);
	if (secs <= 0)
		return -1;
	for (j = 0; j < opt_procs; j++)
		sum += counts[j];
	*cs = sum ? (double)(ctxt_switches() - c0) / sum : 0;
	*fair = jain(counts, opt_procs);
	*byp = bypass(maxb);
	return sum / secs;
}

/* Section 2's round by name under glock's tracepoints. */
struct traced_round {
	double ops, fair;
	double bypass;		/* kernel order; < 0 not measured */
	unsigned long maxb, n, queued;
	double user_bypass;	/* the same round, numbers drawn in user space */
	unsigned long user_maxb;
};

/*
 * glock by name once more with its contended and acquire events traced,
 * so bypass is counted in the kernel's own order of arrival (queueing)
 * and grant (trace_order.c): a process preempted between drawing its
 * number and entering LOCK cannot move that order. Prints why when it
 * cannot be measured.
 */
static void contended_traced(const char **names, struct traced_round *r)
{
	unsigned long counts[MAX_PROCS], sum = 0;
	const char *why = "";
	double secs;
	long n;
	int j;

	r->bypass = -1;
	if (trace_order_selfcheck()) {
		printf("# kernel order: not measured (trace parser self-check "
		       "failed)\n");
		return;
	}
	if (trace_order_start(names[0], &why)) {
		printf("# kernel order: not measured (%s)\n", why);
		return;
	}
	secs = run_timed(&m_glock_ex, opt_procs, names, true, false, counts);
	r->user_bypass = bypass(&r->user_maxb);
	n = trace_order_stop(acq_log, LOG_MAX, &r->queued);
	/* n stops at LOG_MAX: a longer run is not measured either. */
	if (secs <= 0 || n < 0 || (unsigned long)n != shm->counter) {
		printf("# kernel order: not measured (%s%ld of %lu acquisitions "
		       "traced)\n", secs <= 0 ? "run failed; " : "", n,
		       shm->counter);
		return;
	}
	for (j = 0; j < opt_procs; j++)
		sum += counts[j];
	r->ops = sum / secs;
	r->fair = jain(counts, opt_procs);
	r->n = n;
	r->bypass = bypass_of(n, &r->maxb);
}

/*
 * The throughput targets compare rows run seconds apart, and a busy host
 * moves one row by a third and more (README). So they read rounds in
 * which glock, the SysV semaphore and the FIFO reference run back to
 * back, PAIRED_ROUNDS times for half of opt_secs each: the median of the
 * rounds' ratios, each taken over seconds the three shared. Returns
 * false if a run failed.
 */
#define PAIRED_ROUNDS 5

/* Print @label and the rounds' ratios @r on one line; their median. */
static double rounds_median(const char *label, double *r)
{
	int i;

	printf("%s", label);
	for (i = 0; i < PAIRED_ROUNDS; i++)
		printf(" %.2f", r[i]);
	printf("\n");
	qsort(r, PAIRED_ROUNDS, sizeof(double), cmp_double);
	return r[PAIRED_ROUNDS / 2];
}

static bool contended_paired(const char **names, double *vs_sysv,
			     double *vs_fifo)
{
	static const struct mech *const ms[] = {
		&m_glock_ex, &m_sysv, &m_fifo,
	};
	double r_sysv[PAIRED_ROUNDS], r_fifo[PAIRED_ROUNDS];
	unsigned long counts[MAX_PROCS];
	double ops[ARRAY_SIZE(ms)];
	int r, j;
	size_t i;

	for (r = 0; r < PAIRED_ROUNDS; r++) {
		for (i = 0; i < ARRAY_SIZE(ms); i++) {
			double secs = run_for(ms[i], opt_procs, names, true,
					      false, opt_secs / 2, counts);

			if (secs <= 0)
				return false;
			ops[i] = 0;
			for (j = 0; j < opt_procs; j++)
				ops[i] += counts[j];
			ops[i] /= secs;
		}
		r_sysv[r] = ops[0] / ops[1];
		r_fifo[r] = ops[0] / ops[2];
	}
	printf("# paired rounds, glock / SysV / FIFO back to back, %d x "
	       "%.1f s each:\n", PAIRED_ROUNDS, opt_secs / 2);
	*vs_sysv = rounds_median("#   glock / SysV", r_sysv);
	*vs_fifo = rounds_median("#   glock / FIFO", r_fifo);
	return true;
}

static void contended(void)
{
	static const struct mech *const ms[] = {
		&m_glock_ex, &m_flock, &m_ofd, &m_sysv, &m_psem, &m_mutex,
		&m_fifo, &m_ring, &m_handle,	/* Jain and bypass read 0 */
	};
	const char *names[MAX_PROCS];
	unsigned long counts[MAX_PROCS];
	double ops[ARRAY_SIZE(ms)], fair[ARRAY_SIZE(ms)], mbyp[ARRAY_SIZE(ms)];
	double cs[ARRAY_SIZE(ms)];
	unsigned long maxb[ARRAY_SIZE(ms)];
	double nospin, nospin_fair = 0, nospin_byp = -1, nospin_cs = 0;
	double vs_sysv = -1, vs_fifo = -1;
	unsigned long nospin_maxb = 0;
	struct traced_round tr;
	size_t i;
	int j;

	for (j = 0; j < opt_procs; j++)
		names[j] = glock_name;
	printf("\n## 2. Contended: %d processes on one lock, %.1f s each, "
	       "critical section = one shared counter increment\n\n",
	       opt_procs, opt_secs);
	shm->next_ticket = 0;
	shm->slot[0] = 1;
	shm->nring = opt_procs;
	for (j = 0; j < opt_procs; j++)
		sem_init(&shm->ring[j], 1, j == 0);
	for (i = 0; i < ARRAY_SIZE(ms); i++) {
		unsigned long long c0 = ctxt_switches();
		double secs = run_timed(ms[i], opt_procs, names, true, false,
					counts);
		unsigned long sum = 0;

		ops[i] = -1;
		if (secs <= 0)
			continue;
		for (j = 0; j < opt_procs; j++)
			sum += counts[j];
		ops[i] = sum / secs;
		cs[i] = sum ? (double)(ctxt_switches() - c0) / sum : 0;
		fair[i] = jain(counts, opt_procs);
		mbyp[i] = bypass(&maxb[i]);
		printf("#   %-30s counts:", ms[i]->name);
		for (j = 0; j < opt_procs; j++)
			printf(" %lu", counts[j]);
		printf("\n");
	}
	nospin = contended_nospin(names, &nospin_fair, &nospin_byp,
				  &nospin_maxb, &nospin_cs);
	contended_traced(names, &tr);
	printf("\n# bypass: requests that arrived later but got the lock "
	       "first (0 = strict FIFO), mean and max;\n# cs/acq: context "
	       "switches (all CPUs, /proc/stat) per acquisition\n");
	printf("%-32s %12s %8s %9s %8s %8s %7s\n", "mechanism", "ops/s",
	       "Jain", "x glock", "bypass", "max", "cs/acq");
	for (i = 0; i < ARRAY_SIZE(ms); i++) {
		if (ops[i] < 0) {
			printf("%-32s %12s\n", ms[i]->name, "FAILED");
			continue;
		}
		printf("%-32s %12.0f %8.3f", ms[i]->name, ops[i], fair[i]);
		print_ratio(ops[i], ops[0], 9);
		if (ms[i] == &m_ring)	/* fixed turns, not arrival order */
			printf(" %8s %8s", "-", "-");
		else
			printf(" %8.2f %8lu", mbyp[i], maxb[i]);
		printf(" %7.2f\n", cs[i]);
	}
	if (nospin > 0) {
		printf("%-32s %12.0f %8.3f", "glock ex, spin_us=0 (sleeps)",
		       nospin, nospin_fair);
		print_ratio(nospin, ops[0], 9);
		printf(" %8.2f %8lu %7.2f\n", nospin_byp, nospin_maxb,
		       nospin_cs);
	} else {
		printf("# glock with spin_us=0: not measured (parameter)\n");
	}
	if (tr.bypass >= 0) {
		printf("%-32s %12.0f %8.3f", "glock ex, traced: kernel order",
		       tr.ops, tr.fair);
		print_ratio(tr.ops, ops[0], 9);
		printf(" %8.3f %8lu\n", tr.bypass, tr.maxb);
		printf("# kernel order: %lu acquisitions, %lu of them queued "
		       "first; bypass counted from\n#   the queueing "
		       "(glock_contended) or, unqueued, the grant; the same "
		       "round from\n#   numbers drawn in user space: bypass "
		       "%.3f, max %lu\n", tr.n, tr.queued, tr.user_bypass,
		       tr.user_maxb);
	}
	if (!contended_paired(names, &vs_sysv, &vs_fifo))
		printf("# paired rounds: a run failed\n");
	printf("\n");
	target("contended throughput / SysV, paired median",
	       vs_sysv, false, 2.0, 2, "");
	target("contended Jain fairness", ops[0] > 0 ? fair[0] : -1, false,
	       0.99, 3, "");
	/*
	 * Bypass in the kernel's order (the traced round): the numbers drawn
	 * in user space also count a process preempted between its draw and
	 * the ioctl, which no lock can see, let alone order.
	 */
	target("contended bypass, kernel order (mean)", tr.bypass, true,
	       0.005, 3, "");
	target("contended throughput / FIFO ref, paired median",
	       vs_fifo, false, 1.5, 2, "");
}

/*
 * The scaling target in paired rounds, as section 2's throughput: one
 * process, then two, each on a CPU of its own with its own name, for
 * half of opt_secs each, PAIRED_ROUNDS times; the median of the rounds'
 * total / 1 proc. Returns -1 if a run failed.
 */
static double scaling_paired(const char *const *distinct)
{
	const char *names[2] = { distinct[0], distinct[1] };
	double ratio[PAIRED_ROUNDS], ops[3];
	unsigned long counts[MAX_PROCS];
	int r, np;

	for (r = 0; r < PAIRED_ROUNDS; r++) {
		for (np = 1; np <= 2; np++) {
			double secs = run_for(&m_glock_ex, np, names, false,
					      true, opt_secs / 2, counts);

			if (secs <= 0)
				return -1;
			ops[np] = (counts[0] + (np > 1 ? counts[1] : 0)) /
				  secs;
		}
		ratio[r] = ops[2] / ops[1];
	}
	printf("# paired rounds, 1 then 2 processes back to back, %d x %.1f "
	       "s each:", PAIRED_ROUNDS, opt_secs / 2);
	return rounds_median(" total / 1 proc", ratio);
}

static void scaling(void)
{
	static const char *const distinct[] = { "glock-bench.a",
						"glock-bench.b" };
	static const struct {
		const struct mech *m;
		const char *label;
		bool same_name;
	} rows[] = {
		{ &m_noop, "2 no-op ioctls (reference)", false },
		{ &m_clock, "2 clock_gettime", false },
		{ &m_glock_ex, "glock ex, own name each", false },
		{ &m_glock_sh, "glock sh, one shared name", true },
	};
	unsigned long counts[MAX_PROCS];
	double ref = -1;
	size_t i;
	int np;

	printf("\n## 3. Scaling: 1 vs 2 processes, one CPU each, %.1f s "
	       "each, no critical section\n\n", opt_secs);
	printf("%-28s %13s %13s %13s %8s %8s\n", "mechanism", "1 proc ops/s",
	       "2 procs ops/s", "per proc", "scaling", "vs ref");
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const char *names[2];
		double per[3] = { 0 };

		names[0] = distinct[0];
		names[1] = rows[i].same_name ? distinct[0] : distinct[1];
		for (np = 1; np <= 2; np++) {
			double secs = run_timed(rows[i].m, np, names, false,
						true, counts);

			if (secs <= 0) {
				per[np] = -1;
				break;
			}
			per[np] = (counts[0] + (np > 1 ? counts[1] : 0)) /
				  secs / np;
		}
		if (per[1] < 0 || per[2] < 0) {
			printf("%-28s %14s\n", rows[i].label, "FAILED");
			continue;
		}
		/*
		 * scaling: per-process rate with 2 vs alone, 1.00 = ideal;
		 * vs ref: over what the same guest allows two no-op ioctls.
		 */
		printf("%-28s %13.0f %13.0f %13.0f %8.2f", rows[i].label,
		       per[1], per[2] * 2, per[2], per[2] / per[1]);
		if (i == 0)
			ref = per[2] / per[1];
		print_ratio(per[2] / per[1], ref, 8);
		printf("\n");
	}
	printf("\n");
	target("2 procs on 2 names, total / 1 proc, paired median",
	       scaling_paired(distinct), false, 1.8, 2, "");
}

/* ---- 4. many live locks: memory, lookup, the debugfs list ---- */

#define PARAM_DIR	"/sys/module/glock/parameters/"
#define LOCKS_FILE	"/sys/kernel/debug/glock/locks"

static long read_param(const char *name)
{
	char path[128], buf[32];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

static int write_param(const char *name, long v)
{
	char path[128];
	FILE *f;
	int bad;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "we");
	if (!f)
		return -1;
	bad = fprintf(f, "%ld\n", v) < 0;
	bad |= fclose(f) != 0;
	return bad ? -1 : 0;
}

/* A /proc/meminfo field in bytes, -1 if absent. */
static long long meminfo(const char *key)
{
	size_t kl = strlen(key);
	long long v = -1;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtoll(line + kl + 1, NULL, 10) * 1024;
			break;
		}
	fclose(f);
	return v;
}

/* active_objs and objsize of @cache in /proc/slabinfo; false if absent. */
static bool slabinfo(const char *cache, long *active, long *objsize)
{
	char line[512], name[64];
	long a, num, sz;
	bool found = false;
	FILE *f = fopen("/proc/slabinfo", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld %ld %ld", name, &a, &num, &sz) == 4 &&
		    !strcmp(name, cache)) {
			*active = a;
			*objsize = sz;
			found = true;
			break;
		}
	fclose(f);
	return found;
}

/*
 * The same from SLUB's sysfs, which names a cache even when it was merged
 * with another (then the other's objects count too): objects in use and
 * the size each takes in its slab.
 */
static bool slab_sysfs(const char *cache, long *active, long *objsize)
{
	char path[128];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/objects", cache);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fscanf(f, "%ld", active) == 1;
	fclose(f);
	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/slab_size", cache);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok &= fscanf(f, "%ld", objsize) == 1;
	fclose(f);
	return ok;
}

struct memsnap {
	long long slab, stack, vmalloc;
	long obj, objsz, ref, refsz;
	bool have_obj, have_ref, sysfs;
};

static void take_memsnap(struct memsnap *m)
{
	/* Objects are freed an RCU grace period late: let those land. */
	sleep_ns(300000000);
	m->slab = meminfo("Slab");
	m->stack = meminfo("KernelStack");
	m->vmalloc = meminfo("VmallocUsed");
	m->have_obj = slabinfo("glock_obj", &m->obj, &m->objsz);
	m->have_ref = slabinfo("glock_ref", &m->ref, &m->refsz);
	m->sysfs = false;
	if (!m->have_obj || !m->have_ref) {
		m->have_obj = slab_sysfs("glock_obj", &m->obj, &m->objsz);
		m->have_ref = slab_sysfs("glock_ref", &m->ref, &m->refsz);
		m->sysfs = true;
	}
}

/* Take @n distinct names (<= 16 bytes) on @fd; returns how many it took. */
static long hold_names(int fd, long n)
{
	struct glock_lock gl;
	char name[32];
	long i;

	memset(&gl, 0, sizeof(gl));
	gl.name = (uintptr_t)name;
	gl.mode = GLOCK_EXCLUSIVE;
	gl.timeout_ns = 0;
	for (i = 0; i < n; i++) {
		gl.name_len = snprintf(name, sizeof(name), "s%d.%lx",
				       getpid() % 100000, i);
		if (ioctl(fd, GLOCK_IOC_LOCK, &gl)) {
			warnx("LOCK of name %ld of %ld: %s", i + 1, n,
			      strerror(errno));
			failed = true;
			break;
		}
	}
	return i;
}

/* Read the debugfs lock list to its end, as cat does; its lines or -1. */
static long read_locks(double *secs)
{
	static char buf[1 << 16];
	int64_t t0 = now_ns();
	long lines = 0;
	ssize_t r;
	int fd;

	fd = open(LOCKS_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		char *p = buf, *end = buf + r;

		while ((p = memchr(p, '\n', end - p))) {
			lines++;
			p++;
		}
	}
	close(fd);
	*secs = (now_ns() - t0) / 1e9;
	return r < 0 ? -1 : lines;
}

static long opt_scale[8] = { 100000, 300000, 1000000 };
static int opt_nscale = 3;
static double opt_scale_budget = 100;	/* s: projected time of one size */
static int opt_scale_runs = 11;

static void many_locks(void)
{
	static const struct mech *const ms[] = { &m_noop, &m_glock_ex,
						 &m_handle };
	double med0[3], min0[3], med1[3], min1[3];
	long saved_owner = read_param("max_locks_per_owner");
	long saved_user = read_param("max_locks_per_user");
	long saved_max = read_param("max_locks");
	double per_lock_100k = -1, ratio_100k = -1;
	int saved_runs = opt_runs;
	int k;

	printf("\n## 4. Many live locks: one owner holds N distinct names "
	       "(<= 16 bytes), taken by name\n\n");
	if (saved_owner < 0 || saved_user < 0 || saved_max < 0) {
		printf("# skipped: %s* not readable (module parameters)\n",
		       PARAM_DIR);
		target("slab per held lock, 100k held", -1, true, 256, 0, " B");
		target("pair cost, 100k held / none", -1, true, 1.1, 2, "");
		return;
	}
	opt_runs = opt_scale_runs;
	measure_uncontended(ms, ARRAY_SIZE(ms), med0, min0);
	printf("# none held: 2 no-op ioctls %.0f ns, name pair %.0f ns, "
	       "handle pair %.0f ns (median of %d runs)\n", med0[0], med0[1],
	       med0[2], opt_runs);
	printf("# kernel B/lock: delta of Slab + KernelStack + VmallocUsed "
	       "(/proc/meminfo) over N; pair x none: ratio to two no-op "
	       "ioctls, held / none\n");
	printf("# the slab target reads the glock_obj + glock_ref caches per "
	       "lock (the # line under each size; Slab B/lk if absent); Slab "
	       "B/lk adds slab pages' slack and the hash table's buckets\n");
	printf("# (max_locks_per_owner, max_locks_per_user, max_locks raised "
	       "for the run, restored after)\n\n");
	printf("%9s %10s %11s %10s %10s %7s %10s %7s %8s %9s %8s\n", "locks",
	       "ns/LOCK", "kernel B/lk", "Slab B/lk", "name pair", "x none",
	       "hdl pair", "x none", "cat s", "lines", "close s");
	for (k = 0; k < opt_nscale; k++) {
		long n = opt_scale[k], got, lines;
		struct memsnap m0, m1, m2;
		double make_s, cat_s = -1, close_s, kern, slab, r1, r2;
		int64_t t0;
		int fd;

		if (write_param("max_locks_per_owner",
				n + 64 > saved_owner ? n + 64 : saved_owner) ||
		    write_param("max_locks_per_user",
				n + 4096 > saved_user ? n + 4096 : saved_user) ||
		    write_param("max_locks",
				n + 4096 > saved_max ? n + 4096 : saved_max)) {
			printf("# %ld: cannot raise the limits: %s\n", n,
			       strerror(errno));
			failed = true;
			break;
		}
		take_memsnap(&m0);
		fd = open("/dev/glock", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			warnx("/dev/glock: %s", strerror(errno));
			failed = true;
			break;
		}
		t0 = now_ns();
		got = hold_names(fd, n);
		make_s = (now_ns() - t0) / 1e9;
		take_memsnap(&m1);
		measure_uncontended(ms, ARRAY_SIZE(ms), med1, min1);
		lines = read_locks(&cat_s);
		t0 = now_ns();
		close(fd);
		close_s = (now_ns() - t0) / 1e9;
		take_memsnap(&m2);

		kern = (double)(m1.slab - m0.slab + m1.stack - m0.stack +
				m1.vmalloc - m0.vmalloc) / n;
		slab = (double)(m1.slab - m0.slab) / n;
		r1 = med0[0] > 0 && med1[0] > 0 && med0[1] > 0 ?
		     (med1[1] / med1[0]) / (med0[1] / med0[0]) : -1;
		r2 = med0[0] > 0 && med1[0] > 0 && med0[2] > 0 ?
		     (med1[2] / med1[0]) / (med0[2] / med0[0]) : -1;
		printf("%9ld %10.0f %11.0f %10.0f %10.0f %7.2f %10.0f %7.2f",
		       got, make_s * 1e9 / (got ? got : 1), kern, slab, med1[1],
		       r1, med1[2], r2);
		if (lines >= 0)
			printf(" %8.2f %9ld", cat_s, lines);
		else
			printf(" %8s %9s", "-", "-");
		printf(" %8.2f\n", close_s);
		if (m0.have_obj && m1.have_obj && m0.have_ref && m1.have_ref)
			printf("#   %s: glock_obj +%ld x %ld B, "
			       "glock_ref +%ld x %ld B = %.0f B/lock\n",
			       m1.sysfs ? "/sys/kernel/slab (objects x slab_size)" :
			       "/proc/slabinfo (active_objs x objsize)",
			       m1.obj - m0.obj, m1.objsz, m1.ref - m0.ref,
			       m1.refsz,
			       (double)((m1.obj - m0.obj) * m1.objsz +
					(m1.ref - m0.ref) * m1.refsz) / n);
		else
			printf("#   no per-cache figures: neither /proc/slabinfo "
			       "nor /sys/kernel/slab has glock_obj/glock_ref\n");
		printf("#   after close: Slab still %+.0f B/lock (empty slabs "
		       "and tables not yet given back)\n",
		       (double)(m2.slab - m0.slab) / n);
		if (got != n)
			break;
		if (n == 100000) {
			/*
			 * As the issue counts it: the two caches' objects
			 * (slab_size, so the free pointer and alignment count).
			 */
			per_lock_100k = slab;
			if (m0.have_obj && m1.have_obj && m0.have_ref &&
			    m1.have_ref)
				per_lock_100k =
					(double)((m1.obj - m0.obj) * m1.objsz +
						 (m1.ref - m0.ref) * m1.refsz) / n;
			ratio_100k = r1;
		}
		if (k + 1 < opt_nscale) {
			long next = opt_scale[k + 1];
			double proj = (make_s + cat_s + close_s) * next / n +
				      2 * opt_runs * ARRAY_SIZE(ms) * 0.011;
			long long avail = meminfo("MemAvailable");

			if (proj > opt_scale_budget) {
				printf("# %ld skipped: projected %.0f s "
				       "(budget %.0f s, -B)\n", next, proj,
				       opt_scale_budget);
				break;
			}
			if (avail > 0 && kern * next * 2 > avail) {
				printf("# %ld skipped: needs ~%.0f MiB of "
				       "kernel memory, %lld MiB available\n",
				       next, kern * next / 1048576,
				       avail / 1048576);
				break;
			}
		}
	}
	write_param("max_locks_per_owner", saved_owner);
	write_param("max_locks_per_user", saved_user);
	write_param("max_locks", saved_max);
	opt_runs = saved_runs;
	printf("\n");
	target("slab per held lock, 100k held", per_lock_100k, true, 256, 0,
	       " B");
	target("pair cost, 100k held / none", ratio_100k, true, 1.1, 2, "");
}

/* ---- 5. SIGKILL of the holder to a queued waiter running ---- */

static int opt_kill_trials = 41;

/* The state letter of @pid from /proc, or '?'. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return '?';
	buf[r] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* STATE of @name: its waiters, or -1. */
static int state_waiters(int fd, const char *name)
{
	struct glock_state st;

	memset(&st, 0, sizeof(st));
	st.name = (uintptr_t)name;
	st.name_len = strlen(name);
	if (ioctl(fd, GLOCK_IOC_STATE, &st))
		return -1;
	return st.waiters;
}

/* One process waiting in LOCK for @name (wait forever), until it gets it. */
static void lock_or_die(int fd, const char *name, int64_t timeout_ns)
{
	struct glock_lock gl;

	memset(&gl, 0, sizeof(gl));
	gl.name = (uintptr_t)name;
	gl.name_len = strlen(name);
	gl.mode = GLOCK_EXCLUSIVE;
	gl.timeout_ns = timeout_ns;
	if (ioctl(fd, GLOCK_IOC_LOCK, &gl)) {
		warnx("LOCK %s: %s", name, strerror(errno));
		_exit(1);
	}
}

/* Reap @pid, killing it after @secs; false if it did not exit 0. */
static bool reap(pid_t pid, double secs)
{
	int64_t give_up = now_ns() + (int64_t)(secs * 1e9);
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) && !WEXITSTATUS(status);
		if (r < 0)
			return false;
		if (now_ns() > give_up) {
			warnx("process %d stuck; killing it", pid);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return false;
		}
		sleep_ns(1000000);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* What section 5 kills a holder of: glock by name, and two references. */
enum kill_kind { KILL_GLOCK, KILL_FLOCK, KILL_SYSV, KILL_KINDS };

static const char *const kill_names[KILL_KINDS] = {
	"glock exclusive (by name)",
	"flock LOCK_EX (ref)",
	"SysV semop SEM_UNDO (ref)",
};

/* A holder's lock, for its SIGUSR1 handler. */
static enum kill_kind holder_kind;
static int holder_fd = -1;

/* The holder's release without an exit: close the file or undo the op. */
static void holder_release(int sig)
{
	(void)sig;
	if (holder_kind == KILL_SYSV)
		sysv_unlock(NULL);
	else
		close(holder_fd);
}

/*
 * In a child: take @kind's lock (@name for glock), waiting if @wait, and
 * return the file that holds it (-1 for SysV); exit 1 on failure.
 */
static int kill_take(enum kill_kind kind, const char *name, bool wait)
{
	int fd = -1;

	switch (kind) {
	case KILL_GLOCK:
		fd = open("/dev/glock", O_RDWR | O_CLOEXEC);
		lock_or_die(fd, name, wait ? -1 : 0);
		return fd;
	case KILL_FLOCK:
		fd = open(lock_path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && !flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)))
			return fd;
		break;
	case KILL_SYSV:
		if (!sysv_lock(NULL))
			return -1;
		break;
	default:
		break;
	}
	warnx("%s: %s", kill_names[kind], strerror(errno));
	_exit(1);
}

/* In a child: release what kill_take() took, and exit 0 if that worked. */
static void kill_give(enum kill_kind kind, int fd, const char *name)
{
	struct glock_lock gl;

	switch (kind) {
	case KILL_GLOCK:	/* an exit would leave an abandoned mark */
		memset(&gl, 0, sizeof(gl));
		gl.name = (uintptr_t)name;
		gl.name_len = strlen(name);
		_exit(ioctl(fd, GLOCK_IOC_UNLOCK, &gl) ? 1 : 0);
	case KILL_SYSV:
		_exit(sysv_unlock(NULL) ? 1 : 0);
	default:
		_exit(0);
	}
}

/* Is the waiter queued and asleep? glock can tell the queue; all sleep. */
static bool kill_waiter_queued(enum kill_kind kind, int sfd,
			       const char *name, pid_t waiter)
{
	if (kind == KILL_GLOCK && state_waiters(sfd, name) != 1)
		return false;
	return __atomic_load_n(&shm->ready, __ATOMIC_ACQUIRE) == 2 &&
	       proc_state(waiter) == 'S';
}

/*
 * One kill of a holder of @kind with one waiter queued, trial @t: kill()
 * to the waiter's lock call returning, in ns, or -1 if it failed. With
 * @release the signal is SIGUSR1, whose handler releases and the holder
 * lives on (killed once the waiter is done).
 */
static int64_t kill_trial(enum kill_kind kind, bool release, int sfd, int t)
{
	char name[64];
	pid_t holder, waiter;
	int64_t give_up, t_kill;
	bool ok = true;

	snprintf(name, sizeof(name), "glock-bench.kill.%d.%d.%d", getpid(),
		 release, t);
	shm->ready = 0;
	shm->t_wake = 0;
	fflush(stdout);
	holder = fork();
	if (!holder) {
		holder_kind = kind;
		holder_fd = kill_take(kind, name, false);
		signal(SIGUSR1, holder_release);
		__atomic_store_n(&shm->ready, 1, __ATOMIC_RELEASE);
		for (;;)
			pause();
	}
	give_up = now_ns() + 10000000000LL;
	while (holder > 0 && !__atomic_load_n(&shm->ready, __ATOMIC_ACQUIRE) &&
	       now_ns() < give_up)
		sleep_ns(200000);
	waiter = fork();
	if (!waiter) {
		__atomic_store_n(&shm->ready, 2, __ATOMIC_RELEASE);
		int fd = kill_take(kind, name, true);

		__atomic_store_n(&shm->t_wake, now_ns(), __ATOMIC_RELEASE);
		kill_give(kind, fd, name);
	}
	if (holder < 0 || waiter < 0) {
		warnx("fork: %s", strerror(errno));
		if (holder > 0)
			kill(holder, SIGKILL);
		return -1;
	}
	/* Queued, and asleep in the kernel. */
	give_up = now_ns() + 10000000000LL;
	while (!kill_waiter_queued(kind, sfd, name, waiter)) {
		if (now_ns() > give_up) {
			warnx("%s, kill trial %d: the waiter never queued",
			      kill_names[kind], t);
			ok = false;
			break;
		}
		sleep_ns(200000);
	}
	sleep_ns(2000000);
	t_kill = now_ns();
	kill(holder, release ? SIGUSR1 : SIGKILL);
	if (!reap(waiter, 10) || !ok)
		ok = false;
	if (release)
		kill(holder, SIGKILL);
	reap(holder, 10);
	return ok && shm->t_wake ? shm->t_wake - t_kill : -1;
}

static void kill_latency(void)
{
	int64_t *lat[2][KILL_KINDS], v, t0 = now_ns();
	double med[2][KILL_KINDS];
	int k, n = opt_kill_trials, rel, t, sfd;
	bool ok = true;

	printf("\n## 5. SIGKILL of the holder -> the queued waiter running, "
	       "%d trials each\n\n", n);
	sfd = open("/dev/glock", O_RDWR | O_CLOEXEC);
	for (rel = 0; rel < 2; rel++)
		for (k = 0; k < KILL_KINDS; k++) {
			lat[rel][k] = calloc(n, sizeof(*lat[rel][k]));
			ok = ok && lat[rel][k];
		}
	if (!ok || sfd < 0) {
		warnx("kill latency: %s", strerror(errno));
		n = 0;
	}
	/*
	 * Interleaved, trial by trial, so that the host's load and whatever
	 * the sections before left running (an RCU backlog, a table
	 * shrinking) fall on every mechanism alike.
	 */
	for (t = 0; t < n && ok; t++)
		for (rel = 0; rel < 2 && ok; rel++)
			for (k = 0; k < KILL_KINDS && ok; k++) {
				v = kill_trial(k, rel, sfd, t);
				if (v < 0) {
					printf("%s: trial %d of %d failed\n",
					       kill_names[k], t + 1, n);
					ok = false;
				}
				lat[rel][k][t] = v;
			}
	if (!ok)
		failed = true;
	if (sfd >= 0)
		close(sfd);
	printf("%-30s %10s %8s %8s %8s %12s %10s\n", "mechanism",
	       "median ms", "min ms", "max ms", "x flock", "release ms",
	       "exit ms");
	for (k = 0; ok && k < KILL_KINDS; k++)
		for (rel = 0; rel < 2; rel++) {
			qsort(lat[rel][k], n, sizeof(int64_t), cmp_i64);
			med[rel][k] = lat[rel][k][n / 2] / 1e6;
		}
	for (k = 0; ok && k < KILL_KINDS; k++)
		printf("%-30s %10.3f %8.3f %8.3f %8.2f %12.3f %10.3f\n",
		       kill_names[k], med[0][k], lat[0][k][0] / 1e6,
		       lat[0][k][n - 1] / 1e6, med[0][k] / med[0][KILL_FLOCK],
		       med[1][k], med[0][k] - med[1][k]);
	printf("# kill() to the waiter's lock call returning, the mechanisms' "
	       "trials interleaved. release:\n# the same holder, sent SIGUSR1, "
	       "closes its file (SysV: undoes its op) in the handler\n# and "
	       "lives on; exit = median - release, the dying holder's exit "
	       "before its files are\n# closed and its undo runs\n");
	printf("# (%.1f s)\n\n", (now_ns() - t0) / 1e9);
	target("SIGKILL -> waiter running, median", ok ? med[0][KILL_GLOCK] : -1,
	       true, 1.0, 3, " ms");
	for (rel = 0; rel < 2; rel++)
		for (k = 0; k < KILL_KINDS; k++)
			free(lat[rel][k]);
}

/* ---- 6. costs the design forces ---- */

/*
 * ns per call of @req(@arg) on @fd, which must fail with @want: the median
 * of 7 runs of @n calls.
 */
static double time_failing(int fd, unsigned long req, void *arg, int want,
			   long n)
{
	double v[7];
	int r;
	long i;

	for (r = 0; r < 7; r++) {
		int64_t t0 = now_ns();

		for (i = 0; i < n; i++)
			if (ioctl(fd, req, arg) == 0 || errno != want) {
				warnx("forced costs: ioctl 0x%lx: %s "
				      "(expected %s)", req, strerror(errno),
				      strerror(want));
				failed = true;
				return -1;
			}
		v[r] = (double)(now_ns() - t0) / n;
	}
	qsort(v, 7, sizeof(double), cmp_double);
	return v[3];
}

#define CHAIN	16

/* Files of root and of uid 65534, for the quota rows of section 6. */
static int root_fd = -1, nobody_fd = -1;
static char root_name[64], nobody_name[64];

static int root_attach(struct handle *h, const char *name)
{
	(void)name;
	if (glock_attach_ex(h, root_name))
		return -1;
	close(h->fd);
	h->fd = dup(root_fd);
	return h->fd < 0 ? -1 : 0;
}

static int nobody_attach(struct handle *h, const char *name)
{
	(void)name;
	if (glock_attach_ex(h, nobody_name))
		return -1;
	close(h->fd);
	h->fd = dup(nobody_fd);
	return h->fd < 0 ? -1 : 0;
}

static const struct mech m_root = {
	"name pair, file opened by root",
	root_attach, glock_do_lock, glock_do_unlock, fd_detach };
static const struct mech m_nobody = {
	"name pair, opened by uid 65534",
	nobody_attach, glock_do_lock, glock_do_unlock, fd_detach };

static void forced_costs(void)
{
	static const struct mech *const quota[] = { &m_noop, &m_root,
						    &m_nobody };
	/* chain[0..CHAIN-1], then "a" (the parent's), then "x". */
	char names[CHAIN + 2][64];
	const int A = CHAIN, X = CHAIN + 1;
	pid_t pid[CHAIN + 1];
	double try_name, try_hdl, dl_short, dl_long, med[3], min[3];
	struct glock_lock gl;
	unsigned long hid = 0, harg;
	int64_t give_up, t0 = now_ns();
	int i, fd, started = 0;
	bool ok = true;

	printf("\n## 6. Costs the design forces, each on its own line\n\n");
	for (i = 0; i < CHAIN + 2; i++)
		snprintf(names[i], sizeof(names[i]), "glock-bench.dd.%d.%d",
			 getpid(), i);
	/*
	 * The parent holds "a". Process i < CHAIN holds chain[i] and then
	 * waits for chain[i + 1] ("a" for the last one); process CHAIN holds
	 * "x" and waits for "a". A LOCK by the parent on chain[0] closes a
	 * cycle through CHAIN + 1 wait-for edges, one on "x" through 2: both
	 * queue, search and are refused with EDEADLK, without sleeping.
	 */
	fd = open("/dev/glock", O_RDWR | O_CLOEXEC);
	memset(&gl, 0, sizeof(gl));
	gl.name = (uintptr_t)names[A];
	gl.name_len = strlen(names[A]);
	gl.mode = GLOCK_EXCLUSIVE;
	if (fd < 0 || ioctl(fd, GLOCK_IOC_LOCK, &gl)) {
		warnx("forced costs: LOCK: %s", strerror(errno));
		failed = true;
		goto out;
	}
	shm->ready = 0;
	shm->go = 0;
	fflush(stdout);
	for (i = 0; i <= CHAIN; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			warnx("fork: %s", strerror(errno));
			ok = false;
			break;
		}
		if (!pid[i]) {
			int cfd = open("/dev/glock", O_RDWR | O_CLOEXEC);

			close(fd);
			lock_or_die(cfd, names[i < CHAIN ? i : X], 0);
			__atomic_add_fetch(&shm->ready, 1, __ATOMIC_SEQ_CST);
			while (!__atomic_load_n(&shm->go, __ATOMIC_ACQUIRE))
				sleep_ns(200000);
			lock_or_die(cfd, names[i < CHAIN ? i + 1 : A], -1);
			for (;;)
				pause();
		}
		started++;
	}
	give_up = now_ns() + 10000000000LL;
	while (ok && __atomic_load_n(&shm->ready, __ATOMIC_SEQ_CST) < started) {
		if (now_ns() > give_up)
			ok = false;
		sleep_ns(1000000);
	}
	__atomic_store_n(&shm->go, 1, __ATOMIC_RELEASE);
	give_up = now_ns() + 10000000000LL;
	for (i = 1; ok && i <= A; i++)
		while (state_waiters(fd, names[i]) != (i == A ? 2 : 1)) {
			if (now_ns() > give_up) {
				warnx("forced costs: the chain did not form");
				ok = false;
				break;
			}
			sleep_ns(1000000);
		}
	if (!ok) {
		failed = true;
		goto out;
	}

	gl.name = (uintptr_t)names[0];
	gl.name_len = strlen(names[0]);
	gl.timeout_ns = 0;
	try_name = time_failing(fd, GLOCK_IOC_LOCK, &gl, EAGAIN, 2000);
	if (get_handle(fd, names[0], &hid)) {
		warnx("GET_HANDLE: %s", strerror(errno));
		failed = true;
		goto out;
	}
	harg = hid | (unsigned long)GLOCK_EXCLUSIVE << GLOCK_H_MODE_SHIFT |
	       GLOCK_H_TRY;
	try_hdl = time_failing(fd, GLOCK_IOC_HLOCK, (void *)harg, EAGAIN,
			       2000);
	gl.timeout_ns = -1;
	dl_long = time_failing(fd, GLOCK_IOC_LOCK, &gl, EDEADLK, 1000);
	gl.name = (uintptr_t)names[X];
	gl.name_len = strlen(names[X]);
	dl_short = time_failing(fd, GLOCK_IOC_LOCK, &gl, EDEADLK, 1000);

	printf("%-56s %10s\n", "call (by name unless said)", "ns/call");
	printf("%-56s %10.0f\n", "try on a held lock (EAGAIN): no queue, no "
	       "search", try_name);
	printf("%-56s %10.0f\n", "try by handle on a held lock (EAGAIN)",
	       try_hdl);
	printf("%-56s %10.0f\n", "LOCK that queues, searches, EDEADLK: 2 "
	       "edges", dl_short);
	printf("%-56s %10.0f\n", "LOCK that queues, searches, EDEADLK: "
	       "17 edges", dl_long);
	if (try_name > 0 && dl_short > 0 && dl_long > 0)
		printf("# a blocking request over a try (graph lock, queue, "
		       "shortest search, dequeue): %.0f ns\n"
		       "# cycle search, per wait-for edge followed: %.0f ns\n",
		       dl_short - try_name,
		       (dl_long - dl_short) / (CHAIN + 1 - 2));
	if (sec1_noop > 0 && sec1_name > 0 && sec1_handle > 0)
		printf("# name path over handle path (section 1): %.0f ns per "
		       "pair, %.2f x two no-op ioctls\n",
		       sec1_name - sec1_handle,
		       (sec1_name - sec1_handle) / sec1_noop);

	/* The per-user quota: root is charged like everyone else. */
	snprintf(root_name, sizeof(root_name), "glock-bench.root.%d",
		 getpid());
	snprintf(nobody_name, sizeof(nobody_name), "glock-bench.nobody.%d",
		 getpid());
	root_fd = open("/dev/glock", O_RDWR | O_CLOEXEC);
	if (geteuid() == 0 && !setresuid(65534, 65534, 0)) {
		nobody_fd = open("/dev/glock", O_RDWR | O_CLOEXEC);
		if (setresuid(0, 0, 0)) {
			warnx("setresuid back to root: %s", strerror(errno));
			exit(2);
		}
	}
	if (root_fd >= 0 && nobody_fd >= 0) {
		int saved_runs = opt_runs;

		opt_runs = opt_scale_runs;
		measure_uncontended(quota, ARRAY_SIZE(quota), med, min);
		opt_runs = saved_runs;
		printf("%-56s %10.0f\n", "name pair, file opened by root",
		       med[1]);
		printf("%-56s %10.0f\n", "name pair, file opened by uid 65534",
		       med[2]);
		printf("# quota: a ref put to use is charged with two atomic "
		       "cmpxchg (owner, uid), root included;\n"
		       "#   a name pair charges its file's kept ref and "
		       "uncharges it, a handle pair does neither\n");
	} else {
		printf("# quota rows skipped: no file as uid 65534 (not root?)\n");
	}
	if (root_fd >= 0)
		close(root_fd);
	if (nobody_fd >= 0)
		close(nobody_fd);
out:
	for (i = 0; i < started; i++)
		kill(pid[i], SIGKILL);
	for (i = 0; i < started; i++)
		waitpid(pid[i], NULL, 0);
	if (fd >= 0)
		close(fd);
	printf("# (%.1f s)\n", (now_ns() - t0) / 1e9);
}

/*
 * -P: one workload for opt_secs and nothing else, so that a profile of the
 * whole guest shows where its time goes. Returns the exit status.
 */
static int workload(const char *w)
{
	static const struct mech *const pairs[] = {
		&m_noop, &m_glock_ex, &m_handle,
	};
	static const char *const pair_names[] = { "noop", "name", "handle" };
	const char *names[MAX_PROCS];
	unsigned long counts[MAX_PROCS], sum = 0;
	struct handle h;
	int64_t end;
	double secs, ns = 0;
	long rounds = 0;
	size_t i;
	int j;

	if (!strcmp(w, "contended")) {
		for (j = 0; j < opt_procs; j++)
			names[j] = glock_name;
		secs = run_timed(&m_glock_ex, opt_procs, names, true, false,
				 counts);
		if (secs <= 0)
			return 1;
		for (j = 0; j < opt_procs; j++)
			sum += counts[j];
		printf("contended: %d processes, %.0f ops/s\n", opt_procs,
		       sum / secs);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(pairs); i++)
		if (!strcmp(w, pair_names[i]))
			break;
	if (i == ARRAY_SIZE(pairs)) {
		warnx("-P %s: no such workload", w);
		return 2;
	}
	if (pairs[i]->attach(&h, glock_name)) {
		warnx("%s: attach: %s", pairs[i]->name, strerror(errno));
		return 1;
	}
	end = now_ns() + (int64_t)(opt_secs * 1e9);
	do {
		double r = time_pairs(pairs[i], &h, 10000);

		if (r < 0) {
			pairs[i]->detach(&h);
			return 1;
		}
		ns += r;
		rounds++;
	} while (now_ns() < end);
	pairs[i]->detach(&h);
	printf("%s: %.1f ns per pair (%s)\n", w, ns / rounds, pairs[i]->name);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: glock_bench [-r RUNS] [-t SECONDS] [-p PROCS] [-d DIR] [-s] [-S 123456]\n"
		"                   [-N N[,N...]] [-B SECONDS] [-k TRIALS]\n"
		"       glock_bench -P noop|name|handle|contended [-t SECONDS] [-p PROCS]\n");
	exit(2);
}

/* -N: a comma-separated list of lock counts for section 4. */
static void parse_scale(const char *arg)
{
	char *end;

	opt_nscale = 0;
	do {
		long v = strtol(arg, &end, 10);

		if (end == arg || v < 1 || v > 100000000 ||
		    opt_nscale == (int)ARRAY_SIZE(opt_scale))
			usage();
		opt_scale[opt_nscale++] = v;
		arg = end + 1;
	} while (*end == ',');
	if (*end)
		usage();
}

static bool section(char c)
{
	return strchr(opt_sections, c);
}

int main(int argc, char **argv)
{
	int64_t t0, start = now_ns();
	bool missed = false;
	int c, i;

	while ((c = getopt(argc, argv, "r:t:p:d:sS:N:B:k:P:h")) != -1) {
		switch (c) {
		case 'r':
			opt_runs = atoi(optarg);
			break;
		case 't':
			opt_secs = atof(optarg);
			break;
		case 'p':
			opt_procs = atoi(optarg);
			break;
		case 'd':
			opt_dir = optarg;
			break;
		case 's':
			opt_strict = true;
			break;
		case 'S':
			opt_sections = optarg;
			break;
		case 'N':
			parse_scale(optarg);
			break;
		case 'B':
			opt_scale_budget = atof(optarg);
			break;
		case 'k':
			opt_kill_trials = atoi(optarg);
			break;
		case 'P':
			opt_workload = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || opt_runs < 1 || opt_secs <= 0 ||
	    opt_procs < 2 || opt_procs > MAX_PROCS || opt_kill_trials < 1 ||
	    opt_kill_trials > 100000)
		usage();
	if (access("/dev/glock", R_OK | W_OK)) {
		warnx("/dev/glock: %s (is glock.ko loaded?)", strerror(errno));
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (setup()) {
		teardown();
		return 2;
	}
	if (opt_workload) {
		c = workload(opt_workload);
		teardown();
		return c;
	}

	if (section('1'))
		uncontended();
	t0 = now_ns();
	if (section('2')) {
		contended();
		printf("# (%.1f s)\n", (now_ns() - t0) / 1e9);
	}
	t0 = now_ns();
	if (section('3')) {
		scaling();
		printf("# (%.1f s)\n", (now_ns() - t0) / 1e9);
	}
	t0 = now_ns();
	if (section('4')) {
		many_locks();
		printf("# (%.1f s)\n", (now_ns() - t0) / 1e9);
	}
	if (section('5'))
		kill_latency();
	if (section('6'))
		forced_costs();
	teardown();

	printf("\n## Targets (issue 12), this run (%.0f s)\n\n",
	       (now_ns() - start) / 1e9);
	printf("%-50s %12s %12s  %s\n", "figure", "value", "target",
	       "verdict");
	for (i = 0; i < ntargets; i++) {
		const struct target *t = &targets[i];
		char v[32], l[32];

		if (t->value < 0)
			snprintf(v, sizeof(v), "n/a");
		else
			snprintf(v, sizeof(v), "%.*f%s", t->prec, t->value,
				 t->unit);
		snprintf(l, sizeof(l), "%s %.*f%s", t->at_most ? "<=" : ">=",
			 t->prec, t->limit, t->unit);
		printf("%-50s %12s %12s  %s\n", t->figure, v, l,
		       t->met ? "met" : "MISSED");
		missed |= !t->met;
	}
	if (failed)
		return 1;
	return opt_strict && missed ? 1 : 0;
}
