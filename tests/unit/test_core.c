/* core/identity, core/buf, core/clock: the caller's identity, the growable buffer, the
 * clock. No socket, no database. */
#include "check.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/identity.h"
#include "domain/vocab.h"

#include <stdlib.h>
#include <string.h>

static lda_principal principal(role_bit role, const char *p1, const char *p2)
{
    lda_principal who;
    memset(&who, 0, sizeof who);
    who.role = role;
    who.role_name = identity_role_name(role);
    if (p1) snprintf(who.platforms[who.nplatforms++], sizeof who.platforms[0], "%s", p1);
    if (p2) snprintf(who.platforms[who.nplatforms++], sizeof who.platforms[0], "%s", p2);
    identity_scope_build(&who);
    return who;
}

TEST(role_names_and_bits_go_both_ways)
{
    for (int i = 0; i < ROLE_COUNT; i++) {
        role_bit b = (role_bit)(1u << i);
        CHECK(identity_role_bit(identity_role_name(b)) == b);
        /* the vocabulary of roles (labels) lists the same codes */
        CHECK(vocab_has(vocab_find("role"), IDENTITY_ROLE_NAMES[i]));
    }
    CHECK(identity_role_bit("root") == 0 && identity_role_bit(NULL) == 0);
    CHECK_STR(identity_role_name((role_bit)(ROLE_ADMIN | ROLE_SIAO)), "unknown");
    CHECK(identity_role_scoped(ROLE_COORDINATOR) && identity_role_scoped(ROLE_PARTNER) &&
          identity_role_scoped(ROLE_SIAO));
    CHECK(!identity_role_scoped(ROLE_ADMIN) && !identity_role_scoped(ROLE_ANALYST));
}

TEST(scope_is_built_once_as_a_text_array)
{
    lda_principal admin = principal(ROLE_ADMIN, NULL, NULL);
    CHECK(identity_scope(&admin) == NULL && identity_in_scope(&admin, "artois"));
    lda_principal analyst = principal(ROLE_ANALYST, NULL, NULL);
    CHECK(identity_scope(&analyst) == NULL && identity_sees_all(&analyst));
    lda_principal scoped_analyst = principal(ROLE_ANALYST, "artois", NULL);
    CHECK_STR(identity_scope(&scoped_analyst), "{artois}");
    CHECK(!identity_in_scope(&scoped_analyst, "boulonnais"));
    lda_principal coord = principal(ROLE_COORDINATOR, "artois", "lens_henin");
    CHECK_STR(identity_scope(&coord), "{artois,lens_henin}");
    CHECK(identity_in_scope(&coord, "lens_henin") && !identity_in_scope(&coord, "audomarois"));
    lda_principal none = principal(ROLE_PARTNER, NULL, NULL);
    CHECK_STR(identity_scope(&none), "{}");
    CHECK(!identity_in_scope(&none, "artois"));
    CHECK(identity_scope(NULL) == NULL && !identity_in_scope(NULL, "artois"));
}

TEST(buffer_grows_and_hands_over_its_text)
{
    buf_t b = {0};
    char *empty = buf_steal(&b, NULL);
    CHECK_STR(empty, "");
    free(empty);
    for (int i = 0; i < 1000; i++) buf_printf(&b, "%d,", i);
    buf_puts(&b, "end");
    buf_putc(&b, '!');
    CHECK(b.len == strlen(b.data) && b.cap > b.len);
    CHECK(!strncmp(b.data, "0,1,2,", 6) && !strcmp(b.data + b.len - 4, "end!"));
    buf_clear(&b);
    CHECK(b.len == 0 && b.data[0] == '\0');
    buf_add(&b, "a\0b", 3);
    size_t len = 0;
    char *text = buf_steal(&b, &len);
    CHECK(len == 3 && text[0] == 'a' && text[1] == '\0' && text[2] == 'b' && text[3] == '\0');
    CHECK(b.data == NULL && b.len == 0);
    free(text);
    buf_free(&b);
}

TEST(clock_moves_forward_and_deadlines_are_normalised)
{
    long long a = clock_mono_ms();
    CHECK(clock_mono_ms() >= a);
    CHECK(clock_wall_ms() > 1600000000000LL);
    struct timespec t = clock_deadline_in(1999);
    CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000L);
    CHECK((long long)t.tv_sec * 1000 >= clock_wall_ms());
}

int main(void)
{
    RUN(role_names_and_bits_go_both_ways);
    RUN(scope_is_built_once_as_a_text_array);
    RUN(buffer_grows_and_hands_over_its_text);
    RUN(clock_moves_forward_and_deadlines_are_normalised);
    return check_summary();
}
