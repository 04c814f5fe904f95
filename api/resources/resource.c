#include "resources/resource.h"

#include <stdlib.h>
#include <string.h>

db_conn *resource_db(lda_req *r)
{
    db_conn *c = NULL;
    lda_err e = db_acquire(&c);
    if (e) {
        problem_send_err(r, e, NULL);
        return NULL;
    }
    return c;
}

void resource_answer(lda_req *r, db_conn *c, lda_err e, int status, char *json)
{
    db_release(c);
    if (e == LDA_OK && json) http_send_json_text(r, status, json, strlen(json));
    else problem_send_err(r, e ? e : LDA_EINTERNAL, NULL);
    free(json);
}
