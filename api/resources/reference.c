/* Reference data: platforms, funding and the vocabularies. Public routes, served from
 * memory. */
#include "core/mem.h"
#include "core/clock.h"
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

/*
 * Platforms and funding change only through a migration or an operator's SQL. They are held
 * in memory and every public request is answered from there, never waiting for the
 * database: a flood of public requests cannot take the pool's connections from the
 * authenticated ones. A request that finds the copy older than REFERENCE_REFRESH_MS
 * refreshes it, one at a time, and only with a connection that is idle at that moment
 * (db_try_acquire); otherwise the copy in memory is answered as it is. An operator's change
 * therefore shows within REFERENCE_REFRESH_MS (at once after a restart).
 *
 * The coordinators' e-mail addresses are personal data: they are published on these public
 * routes only when the operator says so (LDA_PUBLISH_COORDINATOR_EMAIL), else null.
 */
#define REFERENCE_REFRESH_MS 30000
#define MAX_PLATFORMS        32

typedef struct {
    char code[40];
    char *json;
    long version;
} platform_doc;

typedef struct {
    char *list;       /* {"items":[...],"next_cursor":null} */
    char *funding[3]; /* all, ami=1, ami=2 */
    platform_doc platforms[MAX_PLATFORMS];
    size_t nplatforms;
} reference_set;

static pthread_mutex_t ref_mu = PTHREAD_MUTEX_INITIALIZER;
static reference_set *current; /* NULL until the first load */
static int64_t loaded_ms;
static bool refreshing;
static bool publish_email;

static void set_free(reference_set *set)
{
    if (!set) return;
    free(set->list);
    for (int i = 0; i < 3; i++) free(set->funding[i]);
    for (size_t i = 0; i < set->nplatforms; i++) free(set->platforms[i].json);
    free(set);
}

/* A platform object as the public sees it (coordinator's e-mail withheld unless published). */
static void redact(json_t *platform)
{
    json_t *coord = json_object_get(platform, "coordinator");
    if (!publish_email && json_is_object(coord)) json_object_set_new(coord, "email", json_null());
}

static char *dump(const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text) lda_oom();
    return text;
}

/* Reads everything through c into a new set; NULL on a database error. */
static reference_set *set_load(db_conn *c)
{
    reference_set *set = xcalloc(1, sizeof *set);
    char *list = NULL;
    static const char *const AMI[3] = {NULL, "1", "2"};
    lda_err e = platform_list_json(c, &list);
    for (int i = 0; !e && i < 3; i++) e = funding_list_json(c, AMI[i], &set->funding[i]);
    json_t *doc = e ? NULL : json_loads(list, 0, NULL);
    free(list);
    if (!doc) {
        set_free(set);
        return NULL;
    }
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(doc, "items"), i, item)
    {
        const char *code = json_string_value(json_object_get(item, "code"));
        if (!code || set->nplatforms == MAX_PLATFORMS ||
            strlen(code) >= sizeof set->platforms[0].code)
            continue;
        store_doc d = {0};
        if (platform_get(c, code, &d) != LDA_OK) {
            json_decref(doc);
            set_free(set);
            return NULL;
        }
        json_t *one = json_loads(d.json, 0, NULL);
        long version = d.version;
        store_doc_free(&d);
        if (!one) lda_oom();
        redact(one);
        platform_doc *p = &set->platforms[set->nplatforms++];
        snprintf(p->code, sizeof p->code, "%s", code);
        p->json = dump(one);
        p->version = version;
        json_decref(one);
        redact(item);
    }
    set->list = dump(doc);
    json_decref(doc);
    return set;
}

void reference_load(const lda_config *cfg)
{
    publish_email = cfg->publish_coordinator_email;
    db_conn *c = NULL;
    if (db_acquire(&c) != LDA_OK) return; /* the first request will try again */
    reference_set *set = set_load(c);
    db_release(c);
    if (!set) return;
    pthread_mutex_lock(&ref_mu);
    set_free(current);
    current = set;
    loaded_ms = clock_mono_ms();
    pthread_mutex_unlock(&ref_mu);
}

/* Refreshes the set when it is stale and nobody else is doing it, with an idle connection
 * if there is one (waiting for one only when nothing was ever loaded). */
static void maybe_refresh(void)
{
    pthread_mutex_lock(&ref_mu);
    bool due = !refreshing && (!current || clock_mono_ms() - loaded_ms >= REFERENCE_REFRESH_MS);
    bool empty = !current;
    if (due) refreshing = true;
    pthread_mutex_unlock(&ref_mu);
    if (!due) return;
    db_conn *c = NULL;
    lda_err e = empty ? db_acquire(&c) : db_try_acquire(&c);
    reference_set *set = NULL;
    if (!e) {
        set = set_load(c);
        db_release(c);
    }
    pthread_mutex_lock(&ref_mu);
    if (set) {
        set_free(current);
        current = set;
        loaded_ms = clock_mono_ms();
    }
    refreshing = false;
    pthread_mutex_unlock(&ref_mu);
}

/* A copy of the document `pick` chooses in the current set (NULL: none, or no set). */
static char *copy_of(const char *(*pick)(const reference_set *, const void *, long *),
                     const void *arg, long *version, bool *loaded)
{
    maybe_refresh();
    pthread_mutex_lock(&ref_mu);
    *loaded = current != NULL;
    const char *doc = current ? pick(current, arg, version) : NULL;
    char *out = doc ? xstrdup(doc) : NULL;
    pthread_mutex_unlock(&ref_mu);
    return out;
}

static const char *pick_list(const reference_set *set, const void *arg, long *version)
{
    (void)arg;
    (void)version;
    return set->list;
}

static const char *pick_platform(const reference_set *set, const void *code, long *version)
{
    for (size_t i = 0; i < set->nplatforms; i++)
        if (!strcmp(set->platforms[i].code, code)) {
            *version = set->platforms[i].version;
            return set->platforms[i].json;
        }
    return NULL;
}

static const char *pick_funding(const reference_set *set, const void *ami, long *version)
{
    (void)version;
    const char *a = ami;
    return set->funding[a && !strcmp(a, "1") ? 1 : a && !strcmp(a, "2") ? 2 : 0];
}

void platforms_list(lda_req *r)
{
    long version = 0;
    bool loaded;
    char *json = copy_of(pick_list, NULL, &version, &loaded);
    resource_answer(r, NULL, loaded ? LDA_OK : LDA_EUNAVAILABLE, 200, json);
}

void platforms_get(lda_req *r)
{
    long version = 0;
    bool loaded;
    char *json = copy_of(pick_platform, r->params[0], &version, &loaded);
    resource_send_doc(r, NULL,
                      !loaded ? LDA_EUNAVAILABLE
                      : json  ? LDA_OK
                              : LDA_ENOTFOUND,
                      200, json, version, NULL);
}

void funding_list(lda_req *r)
{
    long version = 0;
    bool loaded;
    char *json = copy_of(pick_funding, query_get(&r->query, "ami"), &version, &loaded);
    resource_answer(r, NULL, loaded ? LDA_OK : LDA_EUNAVAILABLE, 200, json);
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
