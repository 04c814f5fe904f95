/* Reference data: platforms, funding and the vocabularies. Public routes. */
#include "core/mem.h"
#include "domain/vocab.h"
#include "http/query.h"
#include "resources/resource.h"
#include "store/platform.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void platforms_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    char *json = NULL;
    lda_err e = platform_list_json(c, &json);
    resource_answer(r, c, e, 200, json);
}

void platforms_get(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    store_doc d = {0};
    lda_err e = platform_get(c, r->params[0], &d);
    resource_send_doc(r, c, e, 200, d.json, d.version, NULL);
}

void funding_list(lda_req *r)
{
    db_conn *c = resource_db(r);
    if (!c) return;
    char *json = NULL;
    lda_err e = funding_list_json(c, query_get(&r->query, "ami"), &json);
    resource_answer(r, c, e, 200, json);
}

/* The vocabularies never change while the process runs: rendered once. */
static char *vocab_text;
static size_t vocab_len;
static pthread_once_t vocab_once = PTHREAD_ONCE_INIT;

static void render_vocabularies(void)
{
    json_t *all = JCHECK(json_object());
    for (size_t i = 0; i < VOCAB_COUNT; i++) {
        json_t *codes = JCHECK(json_array());
        for (size_t k = 0; k < VOCABS[i].ncodes; k++)
            json_array_append_new(codes,
                                  JCHECK(json_pack("{s:s, s:s}", "code", VOCABS[i].codes[k].code,
                                                   "label_fr", VOCABS[i].codes[k].label_fr)));
        json_object_set_new(all, VOCABS[i].name, codes);
    }
    vocab_text = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(all);
    if (!vocab_text) lda_oom();
    vocab_len = strlen(vocab_text);
}

void vocabularies_get(lda_req *r)
{
    pthread_once(&vocab_once, render_vocabularies);
    http_send_json_text(r, 200, vocab_text, vocab_len);
}
