/* Reference data: platforms, funding and the vocabularies. Public routes. */
#include "core/mem.h"
#include "domain/vocab.h"
#include "http/query.h"
#include "resources/resource.h"
#include "store/platform.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Platforms change only through a migration or an operator's SQL: their documents are kept
 * for PLATFORM_CACHE_MS, so that these public routes seldom cost a database round trip (an
 * operator's change shows within that time). Slot 0 holds the list, the others one
 * platform each. */
#define PLATFORM_CACHE_MS   1000
#define PLATFORM_CACHE_SLOT 16

typedef struct {
    char code[40]; /* "" for the list */
    char *json;
    long version;
    int64_t until_ms;
} cached_doc;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cached_doc cache[PLATFORM_CACHE_SLOT];

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A fresh copy of the cached document of `code`, or NULL. */
static char *cache_get(const char *code, long *version)
{
    char *json = NULL;
    int64_t now = now_ms();
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < PLATFORM_CACHE_SLOT; i++)
        if (cache[i].json && cache[i].until_ms > now && !strcmp(cache[i].code, code)) {
            json = xstrdup(cache[i].json);
            *version = cache[i].version;
            break;
        }
    pthread_mutex_unlock(&cache_mu);
    return json;
}

static void cache_put(const char *code, const char *json, long version)
{
    if (strlen(code) >= sizeof cache[0].code) return;
    char *copy = xstrdup(json);
    int64_t now = now_ms();
    pthread_mutex_lock(&cache_mu);
    size_t slot = 0; /* the same code, else a free or expired slot, else the oldest */
    for (size_t i = 0; i < PLATFORM_CACHE_SLOT; i++) {
        if (cache[i].json && !strcmp(cache[i].code, code)) {
            slot = i;
            break;
        }
        if (!cache[i].json || cache[i].until_ms < cache[slot].until_ms) slot = i;
    }
    free(cache[slot].json);
    snprintf(cache[slot].code, sizeof cache[slot].code, "%s", code);
    cache[slot].json = copy;
    cache[slot].version = version;
    cache[slot].until_ms = now + PLATFORM_CACHE_MS;
    pthread_mutex_unlock(&cache_mu);
}

void platforms_list(lda_req *r)
{
    long version = 0;
    char *json = cache_get("", &version);
    if (json) {
        resource_answer(r, NULL, LDA_OK, 200, json);
        return;
    }
    db_conn *c = resource_db(r);
    if (!c) return;
    lda_err e = platform_list_json(c, &json);
    if (!e && json) cache_put("", json, 0);
    resource_answer(r, c, e, 200, json);
}

void platforms_get(lda_req *r)
{
    store_doc d = {0};
    d.json = cache_get(r->params[0], &d.version);
    if (d.json) {
        resource_send_doc(r, NULL, LDA_OK, 200, d.json, d.version, NULL);
        return;
    }
    db_conn *c = resource_db(r);
    if (!c) return;
    lda_err e = platform_get(c, r->params[0], &d);
    if (!e && d.json) cache_put(r->params[0], d.json, d.version);
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
