/* Tiny assertion helpers for manx unit tests (libuv task.h style): each
 * failed check prints both values and the location, and counts a failure.
 * A test program returns mx_test_summary(). */
#ifndef MX_TESTS_TEST_H
#define MX_TESTS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int mx_test_checks, mx_test_failures;

#define ASSERT_TRUE(c) do { mx_test_checks++; if (!(c)) { mx_test_failures++; \
    fprintf(stderr, "%s:%d: ASSERT_TRUE(%s) failed\n", __FILE__, __LINE__, #c); } } while (0)
#define ASSERT_EQ(a, b) do { mx_test_checks++; long long _a = (long long)(a), _b = (long long)(b); \
    if (_a != _b) { mx_test_failures++; fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)
#define ASSERT_STR_EQ(a, b) do { mx_test_checks++; const char *_a = (a), *_b = (b); \
    if (strcmp(_a, _b) != 0) { mx_test_failures++; fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)
#define ASSERT_MEM_EQ(a, b, n) do { mx_test_checks++; if (memcmp((a), (b), (n)) != 0) { \
    mx_test_failures++; fprintf(stderr, "%s:%d: memcmp(%s, %s, %s) failed\n", __FILE__, __LINE__, \
    #a, #b, #n); } } while (0)

static inline int mx_test_summary(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failed\n", name, mx_test_checks, mx_test_failures);
    return mx_test_failures ? 1 : 0;
}

#endif
