/*
 * unit.h - a tiny unit-test harness: TEST(name) functions registered in a
 * table, ASSERT_* macros that print what was expected and what was got and
 * mark the test failed, and a main() that runs them and prints
 * "N passed, N failed".  One program per test file; one ctest test each.
 *
 *     TEST(parses_epoch) { ASSERT_INT_EQ(mm_dpkg_vercmp("1:1", "2"), 1); }
 *     UNIT_MAIN(T(parses_epoch))
 */
#ifndef MM_UNIT_H
#define MM_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_;

#define TEST(name) static void name(void)

#define ASSERT_TRUE(c)                                                                    \
	do {                                                                              \
		if (!(c)) {                                                               \
			fprintf(stderr, "%s:%d: expected true: %s\n", __FILE__, __LINE__, #c); \
			unit_failed_ = 1;                                                 \
		}                                                                         \
	} while (0)

#define ASSERT_INT_EQ(got, want)                                                          \
	do {                                                                              \
		long long g_ = (long long)(got), w_ = (long long)(want);                  \
		if (g_ != w_) {                                                           \
			fprintf(stderr, "%s:%d: %s: expected %lld, got %lld\n", __FILE__,  \
				__LINE__, #got, w_, g_);                                  \
			unit_failed_ = 1;                                                 \
		}                                                                         \
	} while (0)

#define ASSERT_STR_EQ(got, want)                                                          \
	do {                                                                              \
		const char *g_ = (got), *w_ = (want);                                     \
		if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0) {          \
			fprintf(stderr, "%s:%d: %s: expected \"%s\", got \"%s\"\n", __FILE__, \
				__LINE__, #got, w_ ? w_ : "(null)", g_ ? g_ : "(null)");  \
			unit_failed_ = 1;                                                 \
		}                                                                         \
	} while (0)

struct unit_test_ {
	const char *name;
	void (*fn)(void);
};
#define T(name) { #name, name }

#define UNIT_MAIN(...)                                                                    \
	int main(void)                                                                    \
	{                                                                                 \
		static const struct unit_test_ tests_[] = { __VA_ARGS__ };                \
		int passed_ = 0, failed_ = 0;                                             \
		size_t i_;                                                                \
		for (i_ = 0; i_ < sizeof(tests_) / sizeof(tests_[0]); i_++) {             \
			unit_failed_ = 0;                                                 \
			tests_[i_].fn();                                                  \
			if (unit_failed_) {                                               \
				fprintf(stderr, "FAIL %s\n", tests_[i_].name);            \
				failed_++;                                                \
			} else {                                                          \
				passed_++;                                                \
			}                                                                 \
		}                                                                         \
		printf("%d passed, %d failed\n", passed_, failed_);                       \
		return failed_ ? 1 : 0;                                                   \
	}

#endif
