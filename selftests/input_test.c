// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock input validation: name length and bytes, bad pointers, padding,
 * flags, modes, UNLOCK's fixed fields, unknown ioctls; output fields are
 * ignored on input; nothing changes on any error.
 */
#include <sys/mman.h>
#include <termios.h>

#include "glock_test_util.h"
#include "kselftest_harness.h"

FIXTURE(in) {
	int fd;
	long page;
	char *map;	/* two pages: read-write, then PROT_NONE */
};

FIXTURE_SETUP(in)
{
	self->fd = gt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GT_DEV, strerror(errno));
	self->page = sysconf(_SC_PAGESIZE);
	self->map = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(0, mprotect(self->map + self->page, self->page, PROT_NONE));
}

FIXTURE_TEARDOWN(in)
{
	munmap(self->map, 2 * self->page);
	close(self->fd);
}

static int raw_lock(int fd, const void *name, size_t len, uint32_t mode,
		    int64_t tmo, uint32_t flags)
{
	struct glock_lock lk;

	gt_fill_lock(&lk, name, len, mode, tmo, flags);
	return ioctl(fd, GLOCK_IOC_LOCK, &lk);
}

static int raw_unlock(int fd, const void *name, size_t len)
{
	struct glock_lock lk;

	gt_fill_lock(&lk, name, len, 0, 0, 0);
	return ioctl(fd, GLOCK_IOC_UNLOCK, &lk);
}

static int raw_state(int fd, const void *name, size_t len,
		     struct glock_state *st)
{
	gt_fill_state(st, name, len);
	return ioctl(fd, GLOCK_IOC_STATE, st);
}

/* Nobody holds/waits/marks @name, as seen by a fresh owner. */
static bool untouched(int fd, const void *name, size_t len)
{
	struct glock_state st;

	if (raw_state(fd, name, len, &st))
		return false;
	return !st.mode && !st.holders && !st.waiters && !st.depth &&
	       !st.result;
}

TEST_F(in, name_length_limits)
{
	char name[GLOCK_NAME_MAX + 2];
	static const size_t good[] = { 1, 2, 254, GLOCK_NAME_MAX };
	static const uint32_t bad[] = { 0, GLOCK_NAME_MAX + 1, 4096,
					0x80000000u, 0xffffffffu };
	struct glock_state st;
	struct glock_lock lk;

	memset(name, 'n', sizeof(name));
	snprintf(name, sizeof(name), "gt-%d-", getpid());
	name[strlen(name)] = 'n';

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		const char *p = good[i] < 16 ? "LK" : name;

		ASSERT_EQ(0, raw_lock(self->fd, p, good[i], GLOCK_EXCLUSIVE,
				      0, 0)) TH_LOG("len %zu", good[i]);
		ASSERT_EQ(0, raw_state(self->fd, p, good[i], &st));
		EXPECT_EQ(1, st.depth);
		EXPECT_EQ(0, raw_unlock(self->fd, p, good[i]));
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		gt_fill_lock(&lk, name, 0, GLOCK_EXCLUSIVE, 0, 0);
		lk.name_len = bad[i];
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
		EXPECT_EQ(EINVAL, errno) TH_LOG("len %u", bad[i]);
		lk.mode = 0;
		lk.flags = 0;
		lk.timeout_ns = 0;
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
		EXPECT_EQ(EINVAL, errno);
		gt_fill_state(&st, name, 0);
		st.name_len = bad[i];
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_STATE, &st));
		EXPECT_EQ(EINVAL, errno);
	}
	/* The 256-byte request did not create a 255-byte lock. */
	EXPECT_TRUE(untouched(self->fd, name, GLOCK_NAME_MAX));
}

TEST_F(in, name_bytes_must_be_printable_without_space)
{
	static const unsigned char badc[] = { 0x00, 0x01, 0x09, 0x0a, 0x1f,
					      0x20, 0x7f, 0x80, 0xa0, 0xff };
	char name[32], all[95];
	struct glock_state st;
	int len;

	for (size_t i = 0; i < sizeof(badc); i++) {
		for (int pos = 0; pos < 3; pos++) {
			len = snprintf(name, sizeof(name), "gtbad%d", getpid());
			name[pos == 0 ? 0 : pos == 1 ? 3 : len - 1] = badc[i];
			EXPECT_EQ(-1, raw_lock(self->fd, name, len,
					       GLOCK_EXCLUSIVE, 0, 0));
			EXPECT_EQ(EINVAL, errno)
				TH_LOG("byte %#x at %d", badc[i], pos);
			EXPECT_EQ(-1, raw_unlock(self->fd, name, len));
			EXPECT_EQ(EINVAL, errno);
			EXPECT_EQ(-1, raw_state(self->fd, name, len, &st));
			EXPECT_EQ(EINVAL, errno);
		}
	}
	/* A single bad byte. */
	EXPECT_EQ(-1, raw_lock(self->fd, " ", 1, GLOCK_EXCLUSIVE, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, raw_lock(self->fd, "", 1, GLOCK_EXCLUSIVE, 0, 0));
	EXPECT_EQ(EINVAL, errno);

	/* Every allowed byte, 0x21..0x7e, in one name; then each alone. */
	for (int c = 0x21; c <= 0x7e; c++)
		all[c - 0x21] = c;
	len = 0x7e - 0x21 + 1;
	ASSERT_EQ(0, raw_lock(self->fd, all, len, GLOCK_EXCLUSIVE, 0, 0));
	EXPECT_EQ(0, raw_unlock(self->fd, all, len));
	for (int c = 0x21; c <= 0x7e; c++) {
		char one = c;

		EXPECT_EQ(0, raw_lock(self->fd, &one, 1, GLOCK_SHARED, 0, 0))
			TH_LOG("byte %#x", c);
		EXPECT_EQ(0, raw_unlock(self->fd, &one, 1));
	}
}

/*
 * The kernel checks and compares names 8 bytes at a time, the last word
 * overlapping the one before: every bad byte value at every position of
 * names of 1 to 24 bytes (short, one word, word and a bit, two and three
 * words), each one found.
 */
TEST_F(in, bad_byte_found_at_every_position)
{
	char name[24];
	struct glock_state st;
	int bad = 0;

	for (size_t len = 1; len <= sizeof(name); len++) {
		for (size_t pos = 0; pos < len; pos++) {
			for (int c = 0; c < 256; c++) {
				if (c >= 0x21 && c <= 0x7e)
					continue;
				memset(name, 'g', len);
				name[pos] = c;
				if (raw_lock(self->fd, name, len,
					     GLOCK_EXCLUSIVE, 0, 0) != -1 ||
				    errno != EINVAL ||
				    raw_unlock(self->fd, name, len) != -1 ||
				    errno != EINVAL ||
				    raw_state(self->fd, name, len, &st) != -1 ||
				    errno != EINVAL) {
					if (!bad++)
						TH_LOG("len %zu: byte %#x at %zu not refused",
						       len, c, pos);
				}
			}
		}
		/* All good bytes, the bounds included, are accepted. */
		for (size_t pos = 0; pos < len; pos++)
			name[pos] = pos & 1 ? 0x7e : 0x21;
		EXPECT_EQ(0, raw_lock(self->fd, name, len, GLOCK_EXCLUSIVE,
				      0, 0)) TH_LOG("len %zu", len);
		EXPECT_EQ(0, raw_unlock(self->fd, name, len));
	}
	EXPECT_EQ(0, bad);
}

/*
 * Names that differ in one byte, at any position, are different locks:
 * through the table, and through the lock a file keeps after releasing
 * it (its next request for a name of the same length looks there first).
 * The negative control: the same name is busy.
 */
TEST_F(in, names_differing_in_one_byte_are_different_locks)
{
	char name[24], other[24];
	int holder = gt_open(), wrong = 0;
	struct glock_state st;

	ASSERT_LE(0, holder);
	for (size_t len = 1; len <= sizeof(name); len++) {
		for (size_t pos = 0; pos < len; pos++) {
			memset(name, 'k', len);
			memcpy(other, name, len);
			other[pos] = 'K';
			/* This file keeps @name, then @holder takes it. */
			ASSERT_EQ(0, raw_lock(self->fd, name, len,
					      GLOCK_EXCLUSIVE, 0, 0));
			ASSERT_EQ(0, raw_unlock(self->fd, name, len));
			ASSERT_EQ(0, raw_lock(holder, name, len,
					      GLOCK_EXCLUSIVE, 0, 0));
			/* The same name is busy; the other one is free. */
			if (raw_lock(self->fd, name, len, GLOCK_EXCLUSIVE,
				     0, 0) != -1 || errno != EAGAIN)
				wrong++;
			if (raw_lock(self->fd, other, len, GLOCK_EXCLUSIVE,
				     0, 0)) {
				wrong++;
			} else {
				ASSERT_EQ(0, raw_state(holder, other, len,
						       &st));
				if (st.holders != 1 || st.depth)
					wrong++;
				if (raw_unlock(self->fd, other, len))
					wrong++;
			}
			/* Nor does unlocking one release the other. */
			if (raw_unlock(self->fd, name, len) != -1 ||
			    errno != EPERM)
				wrong++;
			ASSERT_EQ(0, raw_unlock(holder, name, len));
			if (wrong) {
				TH_LOG("len %zu, byte %zu", len, pos);
				break;
			}
		}
	}
	EXPECT_EQ(0, wrong);
	close(holder);
}

TEST_F(in, bad_pointers_are_efault)
{
	char *edge = self->map + self->page - 4;	/* 4 bytes, then a hole */
	void *holes[] = { NULL, (void *)1, self->map + self->page,
			  (void *)-4096L };
	struct glock_state st;
	struct glock_lock lk;

	memcpy(edge, "gtEF", 4);
	for (size_t i = 0; i < ARRAY_SIZE(holes); i++) {
		EXPECT_EQ(-1, raw_lock(self->fd, holes[i], 8,
				       GLOCK_EXCLUSIVE, 0, 0));
		EXPECT_EQ(EFAULT, errno) TH_LOG("name %p", holes[i]);
		EXPECT_EQ(-1, raw_unlock(self->fd, holes[i], 8));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(-1, raw_state(self->fd, holes[i], 8, &st));
		EXPECT_EQ(EFAULT, errno);

		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, holes[i]));
		EXPECT_EQ(EFAULT, errno) TH_LOG("arg %p", holes[i]);
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_UNLOCK, holes[i]));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_STATE, holes[i]));
		EXPECT_EQ(EFAULT, errno);
	}
	/* A name running into the hole: its first 4 bytes are readable. */
	EXPECT_EQ(-1, raw_lock(self->fd, edge, 8, GLOCK_EXCLUSIVE, 0, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_TRUE(untouched(self->fd, edge, 4));
	/* The struct itself running into the hole. */
	gt_fill_lock(&lk, "gtEF", 4, GLOCK_EXCLUSIVE, 0, 0);
	memcpy(self->map + self->page - 32, &lk, 32);
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK,
			    self->map + self->page - 32));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_TRUE(untouched(self->fd, "gtEF", 4));
	/* Exactly at the edge is fine. */
	memcpy(edge, "gtEF", 4);
	EXPECT_EQ(0, raw_lock(self->fd, edge, 4, GLOCK_EXCLUSIVE, 0, 0));
	EXPECT_EQ(0, raw_unlock(self->fd, edge, 4));
}

TEST_F(in, read_only_argument_is_efault_and_changes_nothing)
{
	struct glock_lock *lk = (void *)self->map;
	const char *x = gt_name("ro");
	struct glock_state st;
	int other = gt_open();

	ASSERT_LE(0, other);
	/*
	 * LOCK writes result/depth back; if it cannot, the call fails with
	 * EFAULT and, as on any error, must not leave the lock taken.
	 */
	gt_fill_lock(lk, x, strlen(x), GLOCK_EXCLUSIVE, 0, 0);
	ASSERT_EQ(0, mprotect(self->map, self->page, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, lk));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, gt_state(other, x, &st));
	EXPECT_EQ(0, st.holders);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.depth);
	ASSERT_EQ(0, mprotect(self->map, self->page, PROT_READ | PROT_WRITE));
	gt_unlock(self->fd, x);
	close(other);
}

TEST_F(in, nonzero_padding_is_einval)
{
	const char *x = gt_name("pad");
	struct glock_state st;
	struct glock_lock lk;
	uint32_t depth;

	for (int i = 0; i < 7; i++) {
		gt_fill_lock(&lk, x, strlen(x), GLOCK_EXCLUSIVE, 0, 0);
		lk.padding[i] = 1;
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
		EXPECT_EQ(EINVAL, errno) TH_LOG("LOCK padding[%d]", i);
		lk.padding[i] = 0x80000000u;
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_TRUE(untouched(self->fd, x, strlen(x)));

	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	for (int i = 0; i < 7; i++) {
		gt_fill_lock(&lk, x, strlen(x), 0, 0, 0);
		lk.padding[i] = 1;
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
		EXPECT_EQ(EINVAL, errno) TH_LOG("UNLOCK padding[%d]", i);
	}
	for (int i = 0; i < 6; i++) {
		gt_fill_state(&st, x, strlen(x));
		st.padding[i] = 1;
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_STATE, &st));
		EXPECT_EQ(EINVAL, errno) TH_LOG("STATE padding[%d]", i);
	}
	gt_fill_state(&st, x, strlen(x));
	st.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_STATE, &st));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(1, st.depth);
	ASSERT_EQ(0, gt_unlock_full(self->fd, x, 0, &depth));
	EXPECT_EQ(0, depth);
}

TEST_F(in, unknown_flags_and_bad_modes_are_einval)
{
	const char *x = gt_name("flags");
	static const uint32_t modes[] = { 0, 3, 4, 0x100, 0xffffffffu };
	struct glock_lock lk;

	for (int b = 1; b < 32; b++) {
		gt_fill_lock(&lk, x, strlen(x), GLOCK_EXCLUSIVE, 0, 1u << b);
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
		EXPECT_EQ(EINVAL, errno) TH_LOG("flag bit %d", b);
		lk.flags |= GLOCK_F_ABSTIME;
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
		EXPECT_EQ(EINVAL, errno);
	}
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		for (int tmo = -1; tmo <= 1; tmo++) {
			gt_fill_lock(&lk, x, strlen(x), modes[i],
				     tmo * GT_MSEC, 0);
			EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
			EXPECT_EQ(EINVAL, errno) TH_LOG("mode %#x", modes[i]);
		}
	}
	EXPECT_TRUE(untouched(self->fd, x, strlen(x)));
}

TEST_F(in, unlock_fixed_fields_are_einval)
{
	const char *x = gt_name("unl");
	struct glock_state st;
	struct glock_lock lk;

	for (int m = GLOCK_EXCLUSIVE; m <= GLOCK_SHARED; m++) {
		uint32_t other = 3 - m;

		ASSERT_EQ(0, gt_lock(self->fd, x, m, 0));
		/* Not 0 and not the held mode. */
		gt_fill_lock(&lk, x, strlen(x), other, 0, 0);
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
		EXPECT_EQ(EINVAL, errno);
		gt_fill_lock(&lk, x, strlen(x), 3, 0, 0);
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
		EXPECT_EQ(EINVAL, errno);
		/* timeout_ns must be 0. */
		gt_fill_lock(&lk, x, strlen(x), 0, 1, 0);
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
		EXPECT_EQ(EINVAL, errno);
		gt_fill_lock(&lk, x, strlen(x), 0, -1, 0);
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
		EXPECT_EQ(EINVAL, errno);
		/* No flags, not even ABSTIME. */
		gt_fill_lock(&lk, x, strlen(x), 0, 0, GLOCK_F_ABSTIME);
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
		EXPECT_EQ(EINVAL, errno);
		gt_fill_lock(&lk, x, strlen(x), 0, 0, 2);
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
		EXPECT_EQ(EINVAL, errno);

		ASSERT_EQ(0, gt_state(self->fd, x, &st));
		EXPECT_EQ(1, st.depth);
		EXPECT_EQ((uint32_t)m, st.mode);
		ASSERT_EQ(0, gt_unlock(self->fd, x));
	}
}

TEST_F(in, unknown_ioctls_are_enotty)
{
	struct glock_lock lk;
	char big[256] = { 0 };
	struct termios t;
	static const unsigned long cmds[] = {
		0,
		_IO(GLOCK_IOC_MAGIC, 0),
		_IOWR(GLOCK_IOC_MAGIC, 0, struct glock_lock),
		_IOWR(GLOCK_IOC_MAGIC, 4, struct glock_lock),
		_IOWR(GLOCK_IOC_MAGIC, 0xff, struct glock_lock),
		/* the right numbers with the wrong size or direction */
		_IOWR(GLOCK_IOC_MAGIC, 1, char[32]),
		_IOWR(GLOCK_IOC_MAGIC, 3, char[128]),
		_IOR(GLOCK_IOC_MAGIC, 1, struct glock_lock),
		_IOW(GLOCK_IOC_MAGIC, 2, struct glock_lock),
		_IO(GLOCK_IOC_MAGIC, 3),
		_IOWR(GLOCK_IOC_MAGIC + 1, 1, struct glock_lock),
	};

	gt_fill_lock(&lk, "gtENOTTY", 8, GLOCK_EXCLUSIVE, 0, 0);
	memcpy(big, &lk, sizeof(lk));
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i], big));
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", cmds[i]);
	}
	EXPECT_EQ(-1, tcgetattr(self->fd, &t));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_TRUE(untouched(self->fd, "gtENOTTY", 8));
}

TEST_F(in, output_fields_are_ignored_on_input)
{
	const char *x = gt_name("out");
	struct glock_state st;
	struct glock_lock lk;

	for (int poison = 0; poison < 3; poison++) {
		uint32_t v = poison == 0 ? 0xcccccccc :
			     poison == 1 ? 0xffffffff : 1;

		gt_fill_lock(&lk, x, strlen(x), GLOCK_EXCLUSIVE, 0, 0);
		lk.result = v;
		lk.depth = v;
		ASSERT_EQ(0, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
		EXPECT_EQ(0, lk.result);	/* written back */
		EXPECT_EQ(1, lk.depth);

		gt_fill_state(&st, x, strlen(x));
		st.mode = v;
		st.holders = v;
		st.waiters = v;
		st.depth = v;
		st.owner_pid = v;
		st.result = v;
		ASSERT_EQ(0, ioctl(self->fd, GLOCK_IOC_STATE, &st));
		EXPECT_EQ(GLOCK_EXCLUSIVE, st.mode);
		EXPECT_EQ(1, st.holders);
		EXPECT_EQ(0, st.waiters);
		EXPECT_EQ(1, st.depth);
		EXPECT_EQ(getpid(), st.owner_pid);
		EXPECT_EQ(0, st.result);

		gt_fill_lock(&lk, x, strlen(x), 0, 0, 0);
		lk.result = v;
		lk.depth = v;
		ASSERT_EQ(0, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
		EXPECT_EQ(0, lk.depth);
	}
}

TEST_F(in, nothing_changes_on_error)
{
	const char *x = gt_name("keep");
	struct glock_state st;
	struct glock_lock lk;
	long long locks0 = gt_stat("locks");

	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));

	for (int k = 0; k < 8; k++) {
		gt_fill_lock(&lk, x, strlen(x), GLOCK_EXCLUSIVE, 0, 0);
		switch (k) {
		case 0:
			lk.padding[6] = 1;
			break;
		case 1:
			lk.flags = 2;
			break;
		case 2:
			lk.mode = 7;
			break;
		case 3:
			lk.mode = GLOCK_SHARED;	/* EDEADLK */
			break;
		case 4:
			lk.name_len = 0;
			break;
		case 5:
			lk.name = 8;
			break;
		default:
			lk.timeout_ns = 5;
			lk.mode = GLOCK_SHARED;
			break;
		}
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
		ASSERT_EQ(0, gt_state(self->fd, x, &st));
		EXPECT_EQ(2, st.depth) TH_LOG("LOCK case %d", k);
		EXPECT_EQ(1, st.holders);
		EXPECT_EQ(0, st.waiters);

		gt_fill_lock(&lk, x, strlen(x), 0, 0, 0);
		switch (k) {
		case 0:
			lk.padding[0] = 1;
			break;
		case 1:
			lk.flags = GLOCK_F_ABSTIME;
			break;
		case 2:
			lk.mode = GLOCK_SHARED;
			break;
		case 3:
			lk.timeout_ns = 1;
			break;
		case 4:
			lk.name_len = 256;
			break;
		case 5:
			lk.name = 8;
			break;
		default:
			lk.mode = 9;
			break;
		}
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
		ASSERT_EQ(0, gt_state(self->fd, x, &st));
		EXPECT_EQ(2, st.depth) TH_LOG("UNLOCK case %d", k);
	}
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	if (locks0 >= 0) {
		EXPECT_EQ(locks0, gt_stat("locks"));
	}
}

TEST_F(in, outputs_written_on_success)
{
	const char *x = gt_name("wr");
	struct glock_lock lk;
	struct glock_state st;

	/* Every output starts as 0xcc bytes (gt_fill_*): none may stay so. */
	gt_fill_lock(&lk, x, strlen(x), GLOCK_SHARED, -1, 0);
	ASSERT_EQ(0, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
	EXPECT_EQ(0, lk.result);
	EXPECT_EQ(1, lk.depth);
	/* Inputs are not rewritten. */
	EXPECT_EQ((uintptr_t)x, lk.name);
	EXPECT_EQ(strlen(x), lk.name_len);
	EXPECT_EQ(GLOCK_SHARED, lk.mode);
	EXPECT_EQ(-1, lk.timeout_ns);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(GLOCK_SHARED, st.mode);
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(0, st.owner_pid);
	EXPECT_EQ(0, st.result);
	gt_fill_lock(&lk, x, strlen(x), 0, 0, 0);
	ASSERT_EQ(0, ioctl(self->fd, GLOCK_IOC_UNLOCK, &lk));
	EXPECT_EQ(0, lk.depth);
}

TEST_HARNESS_MAIN
