#include "http/auth.h"

void auth_init(const lda_config *cfg) { (void)cfg; }
void auth_shutdown(void) {}
void auth_cache_clear(void) {}

lda_err auth_authenticate(const lda_req *r, lda_principal *who, int *retry_after_s)
{
    (void)r;
    (void)who;
    (void)retry_after_s;
    return LDA_EUNAUTHORIZED;
}
