// SPDX-License-Identifier: GPL-2.0-only
/*
 * i2c_helper: the user-space side of i2c_test.sh. Talks to an i2c-stub chip
 * through /dev/i2c-N (pointer set + byte reads, like i2ctransfer would) and
 * to the glock_i2c driver through its "registers" attribute, and takes the
 * glock "i2c-N" with raw /dev/glock ioctls.
 *
 *   i2c_helper fill BUS                     write the pattern to the chip
 *   i2c_helper check BUS                    read all 256 via /dev/i2c-BUS
 *   i2c_helper pattern OFF LEN XOR          print expected bytes, hex
 *   i2c_helper uread BUS OFF LEN            print chip bytes via /dev/i2c-BUS
 *   i2c_helper kread ATTR OFF LEN           one read through the driver
 *   i2c_helper kwrite ATTR OFF LEN XOR      one write through the driver
 *   i2c_helper hold BUS SECONDS [mid]       hold glock i2c-BUS, then release
 *   i2c_helper race BUS ATTR COUNT lock|nolock DEBUGFS_LOCKS
 *
 * Exit status: 0 done/correct, 1 wrong data, 2 error (errno name printed).
 * Every mode bounds its own run time.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/glock.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NREGS		256
#define CHIP_ADDR	0x50
#define RACE_MAX_SEC	300	/* the whole race, then everything stops */
#define USER_LOCK_NS	(10LL * 1000000000LL)

/* Register k holds pattern(k): a bijection on 0..255, so any skip shows. */
static uint8_t pattern(unsigned int k)
{
	return (uint8_t)((k * 167u + 89u) & 0xff);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail_errno(const char *what)
{
	int e = errno;

	printf("error=%s op=%s\n", strerrorname_np(e) ? strerrorname_np(e) : "?",
	       what);
	fflush(stdout);
	return 2;
}

/* ---- /dev/i2c-N ---- */

static int i2c_open(const char *bus)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/i2c-%s", bus);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* FORCE: the address is bound to glock_i2c; we share it on purpose. */
	if (ioctl(fd, I2C_SLAVE_FORCE, CHIP_ADDR) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int smbus(int fd, char rw, uint8_t cmd, int size,
		 union i2c_smbus_data *data)
{
	struct i2c_smbus_ioctl_data args = {
		.read_write = rw, .command = cmd, .size = size, .data = data,
	};

	return ioctl(fd, I2C_SMBUS, &args);
}

static int set_pointer(int fd, uint8_t off)
{
	return smbus(fd, I2C_SMBUS_WRITE, off, I2C_SMBUS_BYTE, NULL);
}

static int read_byte(int fd)
{
	union i2c_smbus_data d;

	if (smbus(fd, I2C_SMBUS_READ, 0, I2C_SMBUS_BYTE, &d) < 0)
		return -1;
	return d.byte;
}

/* The multi-step sequence: set the pointer, then read byte by byte. */
static int user_seq(int fd, unsigned int off, unsigned int len, uint8_t *buf)
{
	unsigned int i;
	int v;

	if (set_pointer(fd, off) < 0)
		return -1;
	for (i = 0; i < len; i++) {
		v = read_byte(fd);
		if (v < 0)
			return -1;
		buf[i] = v;
	}
	return 0;
}

/* ---- /dev/glock ---- */

static char lock_name[32];

static int glock_req(int gfd, unsigned long cmd, int64_t timeout_ns,
		     uint32_t *result)
{
	struct glock_lock req;
	int ret;

	memset(&req, 0, sizeof(req));
	req.name = (uintptr_t)lock_name;
	req.name_len = strlen(lock_name);
	req.mode = cmd == GLOCK_IOC_LOCK ? GLOCK_EXCLUSIVE : 0;
	req.timeout_ns = timeout_ns;
	ret = ioctl(gfd, cmd, &req);
	if (!ret && result)
		*result = req.result;
	return ret;
}

/*
 * Try first, then wait: a failed try is user space finding i2c-N held
 * (by the driver, the only other user), counted in *busy.
 */
static int glock_get(int gfd, long *busy)
{
	if (!glock_req(gfd, GLOCK_IOC_LOCK, 0, NULL))
		return 0;
	if (errno != EAGAIN)
		return -1;
	(*busy)++;
	return glock_req(gfd, GLOCK_IOC_LOCK, USER_LOCK_NS, NULL);
}

static int glock_put(int gfd)
{
	return glock_req(gfd, GLOCK_IOC_UNLOCK, 0, NULL);
}

/* ---- small modes ---- */

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int do_fill(const char *bus)
{
	union i2c_smbus_data d;
	int fd = i2c_open(bus);
	unsigned int k;

	if (fd < 0)
		return fail_errno("open");
	for (k = 0; k < NREGS; k++) {
		d.byte = pattern(k);
		if (smbus(fd, I2C_SMBUS_WRITE, k, I2C_SMBUS_BYTE_DATA, &d) < 0)
			return fail_errno("write_byte_data");
	}
	close(fd);
	return 0;
}

static int do_uread(const char *bus, unsigned int off, unsigned int len,
		    bool check)
{
	uint8_t buf[NREGS];
	unsigned int i, bad = 0;
	int fd = i2c_open(bus);

	if (fd < 0)
		return fail_errno("open");
	if (user_seq(fd, off, len, buf) < 0)
		return fail_errno("smbus");
	for (i = 0; i < len; i++) {
		if (check)
			bad += buf[i] != pattern(off + i);
		else
			printf("%02x", buf[i]);
	}
	if (check)
		printf("mismatches=%u\n", bad);
	else
		printf("\n");
	close(fd);
	return bad ? 1 : 0;
}

static int do_pattern(unsigned int off, unsigned int len, unsigned int x)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		printf("%02x", pattern(off + i) ^ x);
	printf("\n");
	return 0;
}

static int do_kread(const char *attr, unsigned int off, unsigned int len)
{
	uint8_t buf[NREGS];
	unsigned int i, bad = 0;
	double t0;
	ssize_t n;
	int fd = open(attr, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail_errno("open");
	t0 = now_ms();
	n = pread(fd, buf, len, off);
	if (n < 0) {
		printf("elapsed_ms=%.0f ", now_ms() - t0);
		return fail_errno("pread");
	}
	for (i = 0; i < (unsigned int)n; i++)
		bad += buf[i] != pattern(off + i);
	printf("elapsed_ms=%.0f bytes=%zd mismatches=%u\n", now_ms() - t0, n,
	       bad);
	close(fd);
	return bad || n != (ssize_t)len ? 1 : 0;
}

static int do_kwrite(const char *attr, unsigned int off, unsigned int len,
		     unsigned int x)
{
	uint8_t buf[NREGS];
	unsigned int i;
	ssize_t n;
	int fd = open(attr, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return fail_errno("open");
	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i) ^ x;
	n = pwrite(fd, buf, len, off);
	if (n < 0)
		return fail_errno("pwrite");
	close(fd);
	printf("bytes=%zd\n", n);
	return n == (ssize_t)len ? 0 : 1;
}

/*
 * Hold the glock for SECONDS. With "mid", leave the chip mid-sequence
 * first: pointer set, a few bytes read, the rest never read.
 */
static int do_hold(const char *bus, unsigned int secs, bool mid)
{
	struct timespec ts = { .tv_sec = secs };
	struct sigaction sa = { 0 };
	uint32_t result = 0;
	uint8_t buf[4];
	int gfd, fd;

	gfd = open("/dev/glock", O_RDWR | O_CLOEXEC);
	if (gfd < 0)
		return fail_errno("open glock");
	if (glock_req(gfd, GLOCK_IOC_LOCK, USER_LOCK_NS, &result) < 0)
		return fail_errno("lock");
	if (mid) {
		fd = i2c_open(bus);
		if (fd < 0 || user_seq(fd, 0x80, 3, buf) < 0)
			return fail_errno("smbus");
	}
	/* SIGTERM ends the hold early but cleanly: unlock, no abandon mark. */
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	printf("held pid=%d result=%u\n", getpid(), result);
	fflush(stdout);
	while (!stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	if (glock_put(gfd) < 0)
		return fail_errno("unlock");
	printf("released\n");
	return 0;
}

/* ---- race ---- */

struct side {
	long seq, torn, err, lasterr, busy;
};

struct race_stats {
	struct side user, kern;
	long samples, kholder, uwaiter, both;
	char example[2048];
};

static unsigned int rnd(unsigned int *state, unsigned int n)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 8) % n;
}

static bool seq_torn(const uint8_t *buf, unsigned int off, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern(off + i))
			return true;
	return false;
}

/* Random windows of up to 48 registers, starting anywhere. */
static void window(unsigned int *st, unsigned int *off, unsigned int *len)
{
	*off = rnd(st, NREGS);
	*len = 1 + rnd(st, 48);
	if (*off + *len > NREGS)
		*len = NREGS - *off;
}

static void user_side(const char *bus, long count, bool lock,
		      struct side *s)
{
	unsigned int st = 1, off, len;
	uint8_t buf[NREGS];
	int fd, gfd = -1;
	long i;

	fd = i2c_open(bus);
	if (lock)
		gfd = open("/dev/glock", O_RDWR | O_CLOEXEC);
	if (fd < 0 || (lock && gfd < 0)) {
		s->err++;
		s->lasterr = errno;
		return;
	}
	for (i = 0; i < count && !stop; i++) {
		window(&st, &off, &len);
		if (lock && glock_get(gfd, &s->busy) < 0) {
			if (stop)
				break;
			s->err++;
			s->lasterr = errno;
			continue;
		}
		if (user_seq(fd, off, len, buf) < 0) {
			s->err++;
			s->lasterr = errno;
		} else {
			s->torn += seq_torn(buf, off, len);
		}
		if (lock && glock_put(gfd) < 0) {
			s->err++;
			s->lasterr = errno;
		}
		s->seq++;
	}
}

static void kernel_side(const char *attr, struct side *s)
{
	unsigned int st = 7, off, len;
	uint8_t buf[NREGS];
	ssize_t n;
	int fd;

	fd = open(attr, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		s->err++;
		s->lasterr = errno;
		return;
	}
	while (!stop) {
		window(&st, &off, &len);
		n = pread(fd, buf, len, off);
		if (n != (ssize_t)len && stop)
			break;	/* our own SIGTERM ended the wait */
		if (n != (ssize_t)len) {
			s->err++;
			s->lasterr = n < 0 ? errno : EIO;
		} else {
			s->torn += seq_torn(buf, off, len);
		}
		s->seq++;
	}
}

/*
 * Sample debugfs while the race runs: was the kernel owner seen holding
 * i2c-N, and user waiters queued for it?
 */
static void sampler(const char *path, struct race_stats *rs)
{
	static char text[65536], copy[2048];
	char holder_key[64], waiter_key[64];
	char *line, *save;
	bool kh, uw;
	ssize_t n, r = 0;
	int fd;

	snprintf(holder_key, sizeof(holder_key), "holder lock=%s ", lock_name);
	snprintf(waiter_key, sizeof(waiter_key), "waiter lock=%s ", lock_name);
	while (!stop && rs->samples < 200000) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		/* A read may return less than the file: read to the end. */
		for (n = 0; n < (ssize_t)sizeof(text) - 1; n += r) {
			r = read(fd, text + n, sizeof(text) - 1 - n);
			if (r <= 0)
				break;
		}
		close(fd);
		if (r < 0)
			return;
		text[n] = 0;
		rs->samples++;
		memcpy(copy, text, n < 2000 ? n + 1 : 2000);
		kh = false;
		uw = false;
		for (line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			bool k = strstr(line, " kind=kernel");

			if (!strncmp(line, holder_key, strlen(holder_key)) && k)
				kh = true;
			if (!strncmp(line, waiter_key, strlen(waiter_key)) && !k)
				uw = true;
		}
		/* Keep the first snapshot showing both, else the first one. */
		if ((kh && uw && !rs->both) || !rs->example[0])
			memcpy(rs->example, copy, sizeof(copy));
		rs->kholder += kh;
		rs->uwaiter += uw;
		rs->both += kh && uw;
		usleep(200);
	}
}

static pid_t spawn(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return pid;
}

struct race_args {
	const char *bus, *attr, *dbg;
	long count;
	bool lock;
	struct race_stats *rs;
};

static void run_user(void *p)
{
	struct race_args *a = p;

	user_side(a->bus, a->count, a->lock, &a->rs->user);
}

static void run_kernel(void *p)
{
	struct race_args *a = p;

	kernel_side(a->attr, &a->rs->kern);
}

static void run_sampler(void *p)
{
	struct race_args *a = p;

	sampler(a->dbg, a->rs);
}

static const char *ename(long e)
{
	return e ? strerrorname_np(e) : "none";
}

static int do_race(struct race_args *a)
{
	pid_t upid, kpid, spid;
	struct sigaction sa = { 0 };
	struct race_stats *rs;
	double t0 = now_ms();
	int status;

	rs = mmap(NULL, sizeof(*rs), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rs == MAP_FAILED)
		return fail_errno("mmap");
	memset(rs, 0, sizeof(*rs));
	a->rs = rs;

	/* No SA_RESTART: the alarm must interrupt waitpid(). */
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	alarm(RACE_MAX_SEC);	/* inherited by nobody: children get SIGTERM */

	kpid = spawn(run_kernel, a);
	spid = spawn(run_sampler, a);
	upid = spawn(run_user, a);
	while (waitpid(upid, &status, 0) < 0 && errno == EINTR && !stop)
		;
	if (stop)
		kill(upid, SIGTERM);
	kill(kpid, SIGTERM);
	kill(spid, SIGTERM);
	waitpid(upid, NULL, 0);
	waitpid(kpid, NULL, 0);
	waitpid(spid, NULL, 0);

	printf("mode=%s ms=%.0f useq=%ld utorn=%ld uerr=%ld uerrno=%s ubusy=%ld kseq=%ld ktorn=%ld kerr=%ld kerrno=%s samples=%ld kholder=%ld uwaiter=%ld both=%ld timedout=%d\n",
	       a->lock ? "lock" : "nolock", now_ms() - t0,
	       rs->user.seq, rs->user.torn, rs->user.err, ename(rs->user.lasterr),
	       rs->user.busy,
	       rs->kern.seq, rs->kern.torn, rs->kern.err, ename(rs->kern.lasterr),
	       rs->samples, rs->kholder, rs->uwaiter, rs->both, (int)stop);
	if (rs->example[0]) {
		char *line, *save;

		printf("# a debugfs locks sample%s:\n",
		       rs->both ? " (kernel holder, user waiter)" : "");
		for (line = strtok_r(rs->example, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			printf("# debugfs: %s\n", line);
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of i2c_helper.c\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned int off, len, x;

	if (argc < 3)
		return usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(lock_name, sizeof(lock_name), "i2c-%s", argv[2]);

	if (!strcmp(argv[1], "fill"))
		return do_fill(argv[2]);
	if (!strcmp(argv[1], "check"))
		return do_uread(argv[2], 0, NREGS, true);
	if (argc >= 5 && !strcmp(argv[1], "pattern"))
		return do_pattern(strtoul(argv[2], NULL, 0),
				  strtoul(argv[3], NULL, 0),
				  strtoul(argv[4], NULL, 0) & 0xff);
	if (!strcmp(argv[1], "hold") && argc >= 4)
		return do_hold(argv[2], strtoul(argv[3], NULL, 0),
			       argc > 4 && !strcmp(argv[4], "mid"));
	if (argc >= 7 && !strcmp(argv[1], "race")) {
		struct race_args a = {
			.bus = argv[2], .attr = argv[3], .dbg = argv[6],
			.count = strtol(argv[4], NULL, 0),
			.lock = !strcmp(argv[5], "lock"),
		};
		return do_race(&a);
	}
	if (argc < 5)
		return usage();
	off = strtoul(argv[3], NULL, 0);
	len = strtoul(argv[4], NULL, 0);
	if (off >= NREGS || len > NREGS - off)
		return usage();
	if (!strcmp(argv[1], "uread"))
		return do_uread(argv[2], off, len, false);
	if (!strcmp(argv[1], "kread"))
		return do_kread(argv[2], off, len);
	if (argc >= 6 && !strcmp(argv[1], "kwrite")) {
		x = strtoul(argv[5], NULL, 0) & 0xff;
		return do_kwrite(argv[2], off, len, x);
	}
	return usage();
}
