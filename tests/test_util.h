/* Minimal test harness: CHECK records a failure and keeps going, so one run
 * reports every mismatch; test_finish() prints "N passed, N failed" and
 * returns the process exit status (non-zero on any failure). */
#ifndef GROKSWEEP_TEST_UTIL_H
#define GROKSWEEP_TEST_UTIL_H

#include <math.h>
#include <stdio.h>

static int test_passed, test_failed;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) {                                                          \
            test_passed++;                                                   \
        } else {                                                             \
            test_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)

#define CHECK_CLOSE(actual, expected, tolerance, what)                                       \
    CHECK(fabs((double)(actual) - (double)(expected)) <= (tolerance), "%s: got %.9g, expected %.9g (tolerance %.3g)", \
          (what), (double)(actual), (double)(expected), (double)(tolerance))

static inline int test_finish(void) {
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

#endif
