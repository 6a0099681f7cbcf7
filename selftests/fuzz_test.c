// SPDX-License-Identifier: GPL-2.0-only
/*
 * An ioctl fuzzer for /dev/glock with an oracle.
 *
 * Random commands (LOCK/UNLOCK/STATE, the future ones of DESIGN.md, their
 * neighbours in the 0xC4 range with other sizes and directions, other
 * magics), argument pointers (NULL, unmapped, read-only, ending mid-struct,
 * misaligned, kernel and non-canonical addresses), name pointers and lengths
 * (0, 1..255, 256, huge), name bytes outside 0x21..0x7e, padding, flags,
 * modes, output garbage, timeouts (negative, 0, tiny, huge, absolute in the
 * past and future).
 *
 * Every result must be what the contract allows for that input: for bad
 * input only the errnos its faults explain (EFAULT, EINVAL, ENOTTY...), for
 * good input what a model of two owners (A, fuzzed; B, a plain second owner
 * that makes names busy) predicts, including depths, STATE outputs and
 * pending abandoned marks. After every error, STATE of all names is
 * unchanged ("nothing changes on any error").
 *
 * GLOCK_SEED replays a run, GLOCK_FUZZ_SECS sets the duration (default 15).
 * GLOCK_FUZZ_BREAK=einval makes the oracle expect ENOTTY where the contract
 * says EINVAL: the test must then fail.
 *
 * To add a command, add a row to cmds[] with a generator/oracle function.
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "glock_test_util.h"

/* The commands DESIGN.md announces; absent today, so ENOTTY is fine too. */
#define F_IOC_SET_RULES		_IOW(GLOCK_IOC_MAGIC, 4, char[64])
#define F_IOC_GET_RULES		_IOWR(GLOCK_IOC_MAGIC, 5, char[64])
#define F_IOC_GET_HANDLE	_IOWR(GLOCK_IOC_MAGIC, 6, char[64])
#define F_IOC_PUT_HANDLE	_IO(GLOCK_IOC_MAGIC, 7)
#define F_IOC_HLOCK		_IO(GLOCK_IOC_MAGIC, 8)
#define F_IOC_HUNLOCK		_IO(GLOCK_IOC_MAGIC, 9)

#define NPOOL		5
#define PG		4096
#define MAXERR		140
#define NVMSG		20

/* Sets of errnos (all we allow are below 128); bit 0 is success. */
typedef unsigned __int128 eset;
#define EB(e)		((eset)1 << (e))
#define OKB		EB(0)	/* success */

static uint64_t rs;
static uint64_t rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 0x2545F4914F6CDD1DULL;
}

static uint64_t rn(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static int fdA, fdB, break_mode;
static char pool[NPOOL][64];
static uint32_t a_depth[NPOOL], a_mode[NPOOL], b_depth[NPOOL], b_mode[NPOOL];
static bool mark[NPOOL];

/* Memory: a RW page followed by a PROT_NONE page, a RO page, a hole. */
static char *rw, *ro, *hole;

static long long cnt[MAXERR + 1], calls, unchanged_checked;
static long long v_errno, v_changed, v_model, v_other;
static char vmsg[NVMSG][220];
static int nvmsg;

static void vio(long long *kind, const char *fmt, ...)
{
	va_list ap;

	(*kind)++;
	if (nvmsg >= NVMSG)
		return;
	va_start(ap, fmt);
	vsnprintf(vmsg[nvmsg++], sizeof(vmsg[0]), fmt, ap);
	va_end(ap);
}

static const char *ename(int e)
{
	static char b[16];

	switch (e) {
	case 0: return "ok";
	case ENOTTY: return "ENOTTY";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EAGAIN: return "EAGAIN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EDEADLK: return "EDEADLK";
	case EPERM: return "EPERM";
	case ENOLCK: return "ENOLCK";
	case EINTR: return "EINTR";
	case EOVERFLOW: return "EOVERFLOW";
	case EACCES: return "EACCES";
	case ENOMEM: return "ENOMEM";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	}
	snprintf(b, sizeof(b), "errno%d", e);
	return b;
}

static void errset_str(eset set, char *out, size_t n)
{
	size_t k = 0;

	out[0] = 0;
	for (int e = 0; e < 128 && k < n; e++)
		if (set & EB(e))
			k += snprintf(out + k, n - k, "%s%s", k ? "," : "", ename(e));
}

/* ---- the world: snapshots of every pool name through A ----------------- */

struct snap {
	struct glock_state st[NPOOL];
};

static void take_snap(struct snap *s)
{
	for (int i = 0; i < NPOOL; i++)
		if (gt_state(fdA, pool[i], &s->st[i]))
			vio(&v_other, "STATE %s failed: %s", pool[i], strerror(errno));
}

static bool same_state(const struct glock_state *a, const struct glock_state *b)
{
	return a->mode == b->mode && a->holders == b->holders &&
	       a->waiters == b->waiters && a->depth == b->depth &&
	       a->owner_pid == b->owner_pid && a->result == b->result;
}

/* What STATE of pool[i] must say, from the model. */
static void model_state(int i, struct glock_state *w)
{
	memset(w, 0, sizeof(*w));
	w->holders = !!a_depth[i] + !!b_depth[i];
	w->mode = a_depth[i] ? a_mode[i] : b_depth[i] ? b_mode[i] : 0;
	w->depth = a_depth[i];
	w->owner_pid = w->mode == GLOCK_EXCLUSIVE ? getpid() : 0;
	w->result = mark[i] ? GLOCK_R_ABANDONED : 0;
}

static void check_model(const char *when)
{
	struct snap s;
	struct glock_state w;

	take_snap(&s);
	for (int i = 0; i < NPOOL; i++) {
		model_state(i, &w);
		if (!same_state(&s.st[i], &w))
			vio(&v_model, "%s: STATE %s mode %u holders %u waiters %u depth %u pid %d result %#x; model mode %u holders %u depth %u pid %d result %#x",
			    when, pool[i], s.st[i].mode, s.st[i].holders,
			    s.st[i].waiters, s.st[i].depth, s.st[i].owner_pid,
			    s.st[i].result, w.mode, w.holders, w.depth,
			    w.owner_pid, w.result);
	}
}

/* ---- argument generation ------------------------------------------------ */

enum ptrkind { P_GOOD, P_MISALIGNED, P_RO, P_TAIL, P_NULL, P_HOLE,
	       P_KERNEL, P_NONCANON, P_NKINDS };

static const char *pkname[] = { "good", "misaligned", "read-only", "mid-struct",
				"NULL", "unmapped", "kernel", "non-canonical" };

/* Where to put a 64-byte struct; what of it can be read and written. */
static char *struct_ptr(int kind, bool *readable, bool *writable)
{
	*readable = *writable = false;
	switch (kind) {
	case P_GOOD:
		*readable = *writable = true;
		return rw + 1024;
	case P_MISALIGNED:
		*readable = *writable = true;
		return rw + 2048 + 1 + rn(7);
	case P_RO:
		*readable = true;
		return ro;
	case P_TAIL:
		return rw + PG - 1 - rn(63);
	case P_NULL:
		return NULL;
	case P_HOLE:
		return hole + rn(PG);
	case P_KERNEL:
		return (char *)(rn(2) ? 0xffff888000000000ULL : 0xffffffff81000000ULL);
	default:
		return (char *)0x8000000000000000ULL;
	}
}

/*
 * A struct_ptr() of @kind holding @size bytes of @src where they can be
 * stored: a read-only page is unprotected for the copy, a struct running
 * off the end of the mapping gets what fits, an unreadable one nothing.
 */
static char *place_struct(int kind, const void *src, size_t size,
			  bool *readable, bool *writable)
{
	char *p = struct_ptr(kind, readable, writable);

	if (kind == P_RO) {
		mprotect(ro, PG, PROT_READ | PROT_WRITE);
		memcpy(ro, src, size);
		mprotect(ro, PG, PROT_READ);
	} else if (kind == P_TAIL) {
		memcpy(p, src, rw + PG - p);
	} else if (*readable) {
		memcpy(p, src, size);
	}
	return p;
}

/*
 * A name: from the pool (valid), random printable (valid, fresh), or with
 * bytes outside 0x21..0x7e. Sets *pi to the pool index or -1, *valid and
 * *fault (the name cannot be read), *len.
 */
struct name {
	uint64_t ptr;
	uint32_t len;
	int pi;
	bool len_ok, bytes_ok, fault;
};

static void gen_name(struct name *n)
{
	static const unsigned char bad[] = { 0x00, 0x20, 0x7f, 0x80, 0xff, '\n', 0x1f };
	unsigned int k = rn(100);
	char buf[300];
	uint32_t len;
	char *where;

	n->pi = -1;
	n->bytes_ok = true;
	if (k < 70) {
		n->pi = rn(NPOOL);
		len = strlen(pool[n->pi]);
		memcpy(buf, pool[n->pi], len);
	} else if (k < 80) {
		len = 1 + rn(GLOCK_NAME_MAX);
		for (uint32_t i = 0; i < len; i++)
			buf[i] = 0x21 + rn(0x7e - 0x21 + 1);
		buf[0] = 'Z';	/* never one of the pool's */
	} else {
		len = 1 + rn(GLOCK_NAME_MAX);
		for (uint32_t i = 0; i < len; i++)
			buf[i] = rn(3) ? 0x21 + rn(94) : rn(256);
		buf[rn(len)] = bad[rn(sizeof(bad))];
		n->bytes_ok = false;
	}
	/* The length the request claims. */
	k = rn(100);
	n->len = len;
	if (k < 5)
		n->len = 0;
	else if (k < 8)
		n->len = 256;
	else if (k < 10)
		n->len = rn(2) ? 0xffffffffU : 256 + rn(1 << 20);
	else if (k < 14 && n->pi >= 0)
		n->len = 1 + rn(len);	/* a prefix: another, valid name */
	n->len_ok = n->len >= 1 && n->len <= GLOCK_NAME_MAX;
	if (n->len_ok && n->len < len) {
		n->pi = -1;
		n->bytes_ok = true;
		for (uint32_t i = 0; i < n->len; i++)
			if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] > 0x7e)
				n->bytes_ok = false;
		if (n->bytes_ok)
			buf[0] = 'Z';	/* keep fresh names out of the pool */
	} else if (n->len_ok && n->len > len) {
		/* Claimed longer than written: the rest is what lies there. */
		for (uint32_t i = len; i < n->len; i++)
			buf[i] = rn(2) ? 'x' : rn(256);
		n->pi = -1;
		n->bytes_ok = true;
		for (uint32_t i = 0; i < n->len; i++)
			if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] > 0x7e)
				n->bytes_ok = false;
		if (n->bytes_ok)
			buf[0] = 'Z';
	}
	/* Where the bytes live. */
	k = rn(100);
	n->fault = false;
	if (k < 80) {
		where = rw + rn(512);
		memcpy(where, buf, n->len_ok ? n->len : len);
	} else if (k < 85) {
		where = ro + 512;	/* readable is all a name needs */
		/* ro holds a copy made at start: only the pool names. */
		if (n->pi < 0 || n->len != strlen(pool[n->pi])) {
			where = rw + 600;
			memcpy(where, buf, n->len_ok ? n->len : len);
		} else {
			where = ro + 512 + 64 * n->pi;
		}
	} else if (k < 92) {
		/* Ends in the PROT_NONE page when the length runs past it. */
		uint32_t room = 1 + rn(n->len_ok ? n->len : 64);

		where = rw + PG - room;
		memcpy(where, buf, room);
		n->fault = n->len_ok && n->len > room;
	} else {
		int pk = P_NULL + rn(4);
		bool r, w;

		where = struct_ptr(pk, &r, &w);
		n->fault = true;
	}
	n->ptr = (uintptr_t)where;
}

static int64_t gen_timeout(uint32_t *flags)
{
	unsigned int k = rn(100);

	if (rn(100) < 15)
		*flags |= GLOCK_F_ABSTIME;
	if (*flags & GLOCK_F_ABSTIME) {
		int64_t now = gt_now();

		switch (rn(6)) {
		case 0: return 1;
		case 1: return now - rn(GT_NSEC);
		case 2: return now + rn(3 * GT_MSEC);
		case 3: return INT64_MAX;
		case 4: return -1;
		default: return now;
		}
	}
	if (k < 30)
		return 0;
	if (k < 45)
		return 1 + rn(1000);
	if (k < 60)
		return rn(3 * GT_MSEC);
	if (k < 70)
		return -1;
	if (k < 75)
		return INT64_MIN;
	if (k < 80)
		return INT64_MAX;
	if (k < 85)
		return -(int64_t)rn(1ULL << 40);
	return rnd() >> 1;
}

/* ---- calls -------------------------------------------------------------- */

static void on_alarm(int sig)
{
	(void)sig;
}

/* One ioctl on A, bounded by a 25 ms alarm (EINTR for a long wait). */
static int call(unsigned int cmd, void *arg, int *err)
{
	struct itimerval it = { .it_value = { 0, 25000 } }, off = { 0 };
	int ret;

	setitimer(ITIMER_REAL, &it, NULL);
	ret = ioctl(fdA, cmd, arg);
	*err = ret ? errno : 0;
	setitimer(ITIMER_REAL, &off, NULL);
	calls++;
	if (*err >= 0 && *err <= MAXERR)
		cnt[*err]++;
	return ret;
}

/* Check @err against @allowed; on error, nothing may have changed. */
static void judge(const char *what, int err, eset allowed,
		  const struct snap *before)
{
	if (break_mode && (allowed & EB(EINVAL)) && !(allowed & OKB)) {
		/* GLOCK_FUZZ_BREAK=einval: expect the wrong errno. */
		allowed &= ~EB(EINVAL);
		allowed |= EB(ENOTTY);
	}
	if (err < 0 || err >= 128 || !(allowed & EB(err))) {
		char a[200];

		errset_str(allowed, a, sizeof(a));
		vio(&v_errno, "%s: got %s, allowed %s", what, ename(err), a);
	}
	if (err && before) {
		struct snap after;

		take_snap(&after);
		unchanged_checked++;
		for (int i = 0; i < NPOOL; i++)
			if (!same_state(&before->st[i], &after.st[i]))
				vio(&v_changed, "%s: failed with %s but %s changed (holders %u->%u depth %u->%u result %#x->%#x)",
				    what, ename(err), pool[i], before->st[i].holders,
				    after.st[i].holders, before->st[i].depth,
				    after.st[i].depth, before->st[i].result,
				    after.st[i].result);
	}
}

static uint32_t gen_mode(bool unlock)
{
	unsigned int k = rn(100);

	if (k < 42)
		return GLOCK_EXCLUSIVE;
	if (k < 84)
		return GLOCK_SHARED;
	if (k < 92)
		return unlock ? 0 : (rn(2) ? 0 : 3);
	return rnd();
}

static void fill_padding(uint32_t *pad, size_t n, bool *bad)
{
	memset(pad, 0, n * sizeof(*pad));
	*bad = false;
	if (rn(100) < 8) {
		((unsigned char *)pad)[rn(n * sizeof(*pad))] = 1 + rn(255);
		*bad = true;
	}
}

/* LOCK and UNLOCK share their struct. */
static void fuzz_lock(bool unlock)
{
	struct glock_lock lk, *p;
	struct name n;
	struct snap before;
	bool rd, wr, padbad, valid;
	int kind = rn(100) < 75 ? P_GOOD : rn(P_NKINDS);
	eset allowed = 0;
	int64_t now0, now1;
	uint32_t flags = 0;
	int err, ret;
	char what[160];

	gen_name(&n);
	memset(&lk, GT_POISON, sizeof(lk));	/* output garbage is fine */
	lk.name = n.ptr;
	lk.name_len = n.len;
	lk.mode = gen_mode(unlock);
	if (unlock && rn(100) < 85) {
		lk.timeout_ns = 0;
	} else {
		lk.timeout_ns = gen_timeout(&flags);
	}
	if (unlock && rn(100) < 85)
		flags = 0;
	if (rn(100) < 6)
		flags |= 1U << rn(32);
	lk.flags = flags;
	fill_padding(lk.padding, 7, &padbad);

	p = (struct glock_lock *)place_struct(kind, &lk, sizeof(lk), &rd, &wr);
	snprintf(what, sizeof(what), "%s struct@%s name@%#llx len %u pi %d mode %u tmo %lld flags %#x pad %d",
		 unlock ? "UNLOCK" : "LOCK", pkname[kind],
		 (unsigned long long)n.ptr, n.len, n.pi, lk.mode,
		 (long long)lk.timeout_ns, flags, padbad);

	/* Faults and invalid fields, each with the errno it explains. */
	if (!rd) {
		allowed = EB(EFAULT);
	} else {
		if (padbad || !n.len_ok || !n.bytes_ok)
			allowed |= EB(EINVAL);
		if (unlock) {
			if (lk.flags || lk.timeout_ns || lk.mode > 2)
				allowed |= EB(EINVAL);
		} else {
			if ((lk.flags & ~GLOCK_F_ABSTIME) ||
			    (lk.mode != GLOCK_EXCLUSIVE && lk.mode != GLOCK_SHARED))
				allowed |= EB(EINVAL);
		}
		if (n.fault || !wr)
			allowed |= EB(EFAULT);
	}
	valid = !allowed;
	take_snap(&before);
	now0 = gt_now();
	ret = call(unlock ? GLOCK_IOC_UNLOCK : GLOCK_IOC_LOCK, p, &err);
	now1 = gt_now();
	if (!valid) {
		judge(what, err, allowed, &before);
		if (!ret)
			check_model("after a success on bad input");
		return;
	}

	/* Valid request: the model says what happens. */
	{
		struct glock_lock out;
		int i = n.pi;

		memcpy(&out, p, sizeof(out));
		if (!unlock) {
			bool busy;
			/* A deadline not in the future is a try; < 0 waits. */
			bool past = (flags & GLOCK_F_ABSTIME) &&
				    lk.timeout_ns > 0 && lk.timeout_ns <= now0;
			bool maybe_past = (flags & GLOCK_F_ABSTIME) &&
					  lk.timeout_ns > 0 && lk.timeout_ns <= now1;

			if (i < 0) {
				/* A fresh name nobody holds. */
				allowed = OKB;
			} else if (a_depth[i]) {
				allowed = a_mode[i] == lk.mode ? OKB : EB(EDEADLK);
			} else {
				busy = b_depth[i] && !(b_mode[i] == GLOCK_SHARED &&
						       lk.mode == GLOCK_SHARED);
				if (!busy)
					allowed = OKB;
				else if (lk.timeout_ns == 0 || past)
					allowed = EB(EAGAIN);
				else if (lk.timeout_ns < 0)
					allowed = EB(EINTR);
				else
					allowed = EB(ETIMEDOUT) | EB(EINTR) |
						  (maybe_past ? EB(EAGAIN) : 0);
			}
			judge(what, err, allowed, &before);
			if (ret)
				return;
			if (i < 0) {
				if (out.depth != 1 || out.result)
					vio(&v_model, "%s: fresh name: depth %u result %#x",
					    what, out.depth, out.result);
				/* Unlock the fresh name through a clean request. */
				{
					struct glock_lock u;

					gt_fill_lock(&u, (void *)(uintptr_t)n.ptr, n.len, 0, 0, 0);
					if (ioctl(fdA, GLOCK_IOC_UNLOCK, &u) || u.depth)
						vio(&v_model, "%s: unlock of the fresh name: %s depth %u",
						    what, strerror(errno), u.depth);
				}
				return;
			}
			if (out.depth != a_depth[i] + 1)
				vio(&v_model, "%s: depth %u, model %u", what, out.depth,
				    a_depth[i] + 1);
			if (out.result != (!a_depth[i] && mark[i] ? GLOCK_R_ABANDONED : 0))
				vio(&v_model, "%s: result %#x, model mark %d", what,
				    out.result, mark[i]);
			if (!a_depth[i])
				mark[i] = false;
			a_depth[i]++;
			a_mode[i] = lk.mode;
		} else {
			if (i < 0 || !a_depth[i])
				allowed = EB(EPERM) | (lk.mode ? EB(EINVAL) : 0);
			else if (lk.mode && lk.mode != a_mode[i])
				allowed = EB(EINVAL);
			else
				allowed = OKB;
			judge(what, err, allowed, &before);
			if (ret)
				return;
			if (i < 0)
				return;
			a_depth[i]--;
			if (out.depth != a_depth[i])
				vio(&v_model, "%s: depth %u, model %u", what, out.depth,
				    a_depth[i]);
		}
		check_model(what);
	}
}

static void fuzz_state(void)
{
	struct glock_state st, *p;
	struct name n;
	struct snap before;
	bool rd, wr, padbad;
	int kind = rn(100) < 75 ? P_GOOD : rn(P_NKINDS);
	eset allowed = 0;
	int err, ret;
	char what[160];

	gen_name(&n);
	memset(&st, GT_POISON, sizeof(st));
	st.name = n.ptr;
	st.name_len = n.len;
	st.flags = rn(100) < 8 ? 1U << rn(32) : 0;
	fill_padding(st.padding, 6, &padbad);
	p = (struct glock_state *)place_struct(kind, &st, sizeof(st), &rd, &wr);
	snprintf(what, sizeof(what), "STATE struct@%s name@%#llx len %u pi %d flags %#x pad %d",
		 pkname[kind], (unsigned long long)n.ptr, n.len, n.pi, st.flags,
		 padbad);
	if (!rd) {
		allowed = EB(EFAULT);
	} else {
		if (padbad || st.flags || !n.len_ok || !n.bytes_ok)
			allowed |= EB(EINVAL);
		if (n.fault || !wr)
			allowed |= EB(EFAULT);
	}
	if (!allowed)
		allowed = OKB;
	take_snap(&before);
	ret = call(GLOCK_IOC_STATE, p, &err);
	judge(what, err, allowed, &before);
	if (!ret && allowed == OKB) {
		struct glock_state w;

		if (n.pi >= 0) {
			model_state(n.pi, &w);
		} else {
			memset(&w, 0, sizeof(w));
		}
		if (!same_state(p, &w))
			vio(&v_model, "%s: mode %u holders %u waiters %u depth %u pid %d result %#x",
			    what, p->mode, p->holders, p->waiters, p->depth,
			    p->owner_pid, p->result);
	}
}

/* Commands that are not LOCK/UNLOCK/STATE: only ENOTTY today. */
static void fuzz_other(void)
{
	static const unsigned int future[] = {
		F_IOC_SET_RULES, F_IOC_GET_RULES, F_IOC_GET_HANDLE,
		F_IOC_PUT_HANDLE, F_IOC_HLOCK, F_IOC_HUNLOCK,
	};
	/* What DESIGN.md lets each future command answer. */
	static const eset fut_err[] = {
		EB(EFAULT) | EB(EPERM) | EB(EINVAL) | EB(ENOSPC) | EB(ENOMEM),
		EB(EFAULT) | EB(EINVAL) | OKB,
		EB(EFAULT) | EB(EINVAL) | EB(EACCES) | EB(ENOLCK) | EB(ENOMEM) |
			EB(ENOSPC),
		EB(EINVAL) | EB(EBUSY),
		EB(EINVAL) | EB(EAGAIN) | EB(EDEADLK) | EB(EINTR) | EB(EACCES) |
			EB(ENOLCK) | EB(EOVERFLOW),
		EB(EINVAL) | EB(EPERM),
	};
	unsigned int k = rn(100), cmd;
	eset allowed = EB(ENOTTY);
	struct snap before;
	unsigned long arg;
	bool rd, wr;
	int err;
	char what[120];

	if (k < 30) {
		int f = rn(6);

		cmd = future[f];
		allowed |= fut_err[f];
		if (f <= 2) {
			/*
			 * Pointer commands: never hand SET_RULES or GET_HANDLE
			 * memory they could act on (rules change other tests).
			 */
			int pk = (f == 1 && rn(2)) ? P_GOOD : P_NULL + rn(4);

			arg = (uintptr_t)struct_ptr(pk, &rd, &wr);
			if (pk == P_GOOD)
				memset((void *)arg, 0, 64);
			if (f != 1)
				allowed &= ~OKB;
		} else {
			/* A handle never issued: 0, too big, or junk bits. */
			arg = rn(3) == 0 ? 0 : rn(2) ? 65536 + rn(1 << 20) : rnd();
			if (f == 4 && (arg & 0xffff) && !(arg >> 21) && rn(2))
				arg = 0;	/* never a plausible handle */
		}
	} else {
		do {
			if (k < 70) {
				cmd = _IOC(rn(4), GLOCK_IOC_MAGIC,
					   rn(4) ? rn(16) : rn(256),
					   rn(3) ? 64 : rn(2) ? rn(129) : rn(1 << 14));
			} else if (k < 85) {
				cmd = _IOC(rn(4), GLOCK_IOC_MAGIC + (rn(2) ? 1 : -1),
					   1 + rn(9), 64);
			} else {
				cmd = rnd();
			}
		} while (cmd == GLOCK_IOC_LOCK || cmd == GLOCK_IOC_UNLOCK ||
			 cmd == GLOCK_IOC_STATE || cmd == F_IOC_SET_RULES ||
			 cmd == F_IOC_GET_RULES || cmd == F_IOC_GET_HANDLE ||
			 cmd == F_IOC_PUT_HANDLE || cmd == F_IOC_HLOCK ||
			 cmd == F_IOC_HUNLOCK ||
			 /* The VFS answers these before any driver. */
			 strchr("\x00Tf\x58\x94\x15", _IOC_TYPE(cmd)) ||
			 _IOC_TYPE(cmd) == 0);
		arg = rn(2) ? (uintptr_t)struct_ptr(rn(P_NKINDS), &rd, &wr) : rnd();
	}
	snprintf(what, sizeof(what), "ioctl %#x (dir %u type %#x nr %u size %u) arg %#lx",
		 cmd, _IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), _IOC_SIZE(cmd), arg);
	take_snap(&before);
	call(cmd, (void *)arg, &err);
	judge(what, err, allowed, &before);
	if (!err)
		check_model(what);
}

/* B, the second owner: makes names busy, consumes marks like anyone. */
static void poke_b(void)
{
	int i = rn(NPOOL);
	uint32_t result, depth;

	if (b_depth[i] && rn(2)) {
		if (gt_unlock_full(fdB, pool[i], 0, &depth) || depth != b_depth[i] - 1)
			vio(&v_model, "B: UNLOCK %s: %s depth %u", pool[i],
			    strerror(errno), depth);
		else
			b_depth[i]--;
		return;
	}
	{
		uint32_t mode = b_depth[i] ? b_mode[i] :
				rn(2) ? GLOCK_SHARED : GLOCK_EXCLUSIVE;
		bool free = b_depth[i] || !a_depth[i] ||
			    (a_mode[i] == GLOCK_SHARED && mode == GLOCK_SHARED);

		if (gt_lock_full(fdB, pool[i], mode, 0, 0, &result, &depth)) {
			if (free || errno != EAGAIN)
				vio(&v_model, "B: LOCK %s: %s", pool[i], strerror(errno));
			return;
		}
		if (!free)
			vio(&v_model, "B: LOCK %s granted while A holds it", pool[i]);
		if (result != (!b_depth[i] && mark[i] ? GLOCK_R_ABANDONED : 0))
			vio(&v_model, "B: LOCK %s result %#x, model mark %d", pool[i],
			    result, mark[i]);
		if (!b_depth[i])
			mark[i] = false;
		b_depth[i]++;
		b_mode[i] = mode;
	}
}

/* Close and reopen an owner: exclusive holds become abandoned marks. */
static void reopen(int *fd, uint32_t *depth, uint32_t *mode)
{
	close(*fd);
	for (int i = 0; i < NPOOL; i++) {
		if (depth[i] && mode[i] == GLOCK_EXCLUSIVE)
			mark[i] = true;
		depth[i] = 0;
	}
	*fd = gt_open();
	if (*fd < 0)
		vio(&v_other, "reopen: %s", strerror(errno));
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int64_t secs = 15, end;
	uint64_t seed;
	const char *e;
	int fails = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	fdA = gt_open();
	fdB = gt_open();
	if (fdA < 0 || fdB < 0) {
		printf("1..0 # SKIP %s: %s\n", GT_DEV, strerror(errno));
		return 4;
	}
	e = getenv("GLOCK_SEED");
	seed = e && *e ? strtoull(e, NULL, 0) : (uint64_t)gt_now() ^ getpid();
	rs = seed | 1;
	e = getenv("GLOCK_FUZZ_SECS");
	if (e && *e)
		secs = strtoll(e, NULL, 0);
	e = getenv("GLOCK_FUZZ_BREAK");
	break_mode = e && !strcmp(e, "einval");
	printf("# fuzz: seed %#llx (GLOCK_SEED to replay), %lld s%s\n",
	       (unsigned long long)seed, (long long)secs,
	       break_mode ? ", BREAK=einval (must fail)" : "");
	printf("1..4\n");

	/* No SA_RESTART: the alarm ends a long wait with EINTR. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	rw = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	hole = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rw == MAP_FAILED || ro == MAP_FAILED || hole == MAP_FAILED) {
		printf("Bail out! mmap\n");
		return 1;
	}
	mprotect(rw + PG, PG, PROT_NONE);
	munmap(hole, PG);
	for (int i = 0; i < NPOOL; i++) {
		snprintf(pool[i], sizeof(pool[i]), "gt-%d-fz%d", (int)getpid(), i);
		memcpy(ro + 512 + 64 * i, pool[i], strlen(pool[i]));
	}
	mprotect(ro, PG, PROT_READ);

	end = gt_now() + secs * GT_NSEC;
	while (gt_now() < end) {
		for (int j = 0; j < 64; j++) {
			unsigned int k = rn(1000);

			if (k < 330)
				fuzz_lock(false);
			else if (k < 560)
				fuzz_lock(true);
			else if (k < 720)
				fuzz_state();
			else if (k < 900)
				fuzz_other();
			else if (k < 990)
				poke_b();
			else if (k < 995)
				reopen(&fdA, a_depth, a_mode);
			else
				reopen(&fdB, b_depth, b_mode);
		}
	}
	check_model("end of run");

	/* Cleanup: close both, consume marks once, nothing left. */
	{
		int ok = 1, fd;
		char *buf;
		char pfx[64];

		reopen(&fdA, a_depth, a_mode);
		reopen(&fdB, b_depth, b_mode);
		for (int i = 0; i < NPOOL; i++) {
			uint32_t result;

			if (gt_lock_full(fdA, pool[i], GLOCK_EXCLUSIVE, 0, 0, &result, NULL) ||
			    result != (mark[i] ? GLOCK_R_ABANDONED : 0)) {
				vio(&v_model, "final take of %s: %s result %#x mark %d",
				    pool[i], strerror(errno), result, mark[i]);
				ok = 0;
			}
			mark[i] = false;
			gt_unlock(fdA, pool[i]);
		}
		close(fdA);
		close(fdB);
		fd = gt_open();
		for (int i = 0; i < NPOOL && fd >= 0; i++) {
			struct glock_state st;

			if (gt_state(fd, pool[i], &st) || st.holders || st.waiters ||
			    st.result)
				ok = 0;
		}
		if (fd >= 0)
			close(fd);
		snprintf(pfx, sizeof(pfx), "gt-%d-fz", (int)getpid());
		buf = gt_debugfs("locks");
		if (buf && strstr(buf, pfx))
			ok = 0;
		if (!buf)
			printf("# debugfs locks not readable: not checked\n");
		free(buf);
		if (!ok)
			vio(&v_other, "cleanup: names of this test left behind");
	}

	printf("# calls %lld; errors checked for no change: %lld\n", calls,
	       unchanged_checked);
	printf("# results:");
	for (int i = 0; i <= MAXERR; i++)
		if (cnt[i])
			printf(" %s=%lld", ename(i), cnt[i]);
	printf("\n");
	printf("# violations: errno %lld, changed on error %lld, model %lld, other %lld\n",
	       v_errno, v_changed, v_model, v_other);
	for (int i = 0; i < nvmsg; i++)
		printf("# violation: %s\n", vmsg[i]);

	fails += !!v_errno;
	printf("%sok 1 fuzz: every result is allowed for its input\n", v_errno ? "not " : "");
	fails += !!v_changed;
	printf("%sok 2 fuzz: nothing changes on any error\n", v_changed ? "not " : "");
	fails += !!v_model;
	printf("%sok 3 fuzz: successes, depths, STATE and marks match the model\n",
	       v_model ? "not " : "");
	fails += !!v_other;
	printf("%sok 4 fuzz: setup and cleanup, nothing left behind\n",
	       v_other ? "not " : "");
	return fails ? 1 : 0;
}
