/* A minimal test runner: CHECK records a failure and goes on; main returns non-zero when
 * any check failed, and prints "N passed, M failed". */
#ifndef LDA_TEST_CHECK_H
#define LDA_TEST_CHECK_H
#include <stdio.h>
#include <string.h>

static int checks_passed, checks_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            checks_passed++;                                                                       \
        else {                                                                                     \
            checks_failed++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ && b_ && !strcmp(a_, b_))                                                           \
            checks_passed++;                                                                       \
        else {                                                                                     \
            checks_failed++;                                                                       \
            fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__,            \
                    b_ ? b_ : "(null)", a_ ? a_ : "(null)");                                       \
        }                                                                                          \
    } while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                                                  \
    do {                                                                                           \
        int before_ = checks_failed;                                                               \
        name();                                                                                    \
        printf("%s %s\n", checks_failed == before_ ? "ok  " : "FAIL", #name);                      \
    } while (0)

static int check_summary(void)
{
    printf("%d passed, %d failed\n", checks_passed, checks_failed);
    return checks_failed ? 1 : 0;
}
#endif
