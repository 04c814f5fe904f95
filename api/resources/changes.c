/* /v1/changes — the change feed: every change the caller may see, in commit order, from a
 * cursor; long polling with ?wait=N (http/longpoll.c), 410 for a cursor older than the
 * events kept. Events carry ids, types, times and codes: never identity or free text. */
#include "core/clock.h"
#include "core/cursor.h"
#include "core/mem.h"
#include "core/parse.h"
#include "domain/vocab.h"
#include "http/longpoll.h"
#include "resources/resource.h"
#include "store/change.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a waiting reader keeps (it outlives the handler). */
typedef struct {
    lda_principal who; /* a copy: the reader outlives the request */
    char *types;       /* text[] literal, NULL for all */
    bool has_cursor;
    int64_t pos, id;
    int limit;
    long long seen_horizon;
} feed;

static void feed_free(void *arg)
{
    feed *f = arg;
    free(f->types);
    free(f);
}

static change_viewer viewer_of(const feed *f)
{
    change_viewer v = {f->who.role_name, identity_scope(&f->who), f->who.token_id,
                       f->who.source[0] ? f->who.source : NULL};
    return v;
}

/* {"items": [...], "next_cursor": "...", "has_more": bool}; caller frees. */
static char *render(const char *items, int64_t pos, int64_t id, bool has_more, size_t *len)
{
    char k[24], i[24];
    snprintf(k, sizeof k, "%" PRId64, pos);
    snprintf(i, sizeof i, "%" PRId64, id);
    char *cursor = cursor_encode(k, i);
    char *out = xasprintf("{\"items\":%s,\"next_cursor\":\"%s\",\"has_more\":%s}", items, cursor,
                          has_more ? "true" : "false");
    free(cursor);
    *len = strlen(out);
    return out;
}

/* One page for f from the pool: LDA_OK with *page filled (caller frees page->items). */
static lda_err read_page(feed *f, long long horizon, change_page_t *page)
{
    db_conn *c = NULL;
    lda_err e = db_acquire(&c);
    if (!e) e = db_set_scope(c, &f->who);
    change_viewer v = viewer_of(f);
    if (!e) e = change_page(c, &v, f->has_cursor, f->pos, f->id, horizon, f->types, f->limit, page);
    db_release(c);
    return e;
}

/* The long poll (longpoll_fn): reads again when the horizon moved; answers with the first
 * events it sees, or with an empty page when `final`. */
static bool feed_poll(void *arg, bool final, char **body, size_t *len)
{
    feed *f = arg;
    long long h = change_horizon();
    if (h > f->seen_horizon) {
        change_page_t page = {0};
        if (read_page(f, h, &page) == LDA_OK && !page.expired) {
            f->seen_horizon = h;
            if (page.count > 0 || page.has_more) {
                *body = render(page.items, page.next_pos, page.next_id, page.has_more, len);
                free(page.items);
                return true;
            }
            /* nothing for this reader: skip what it has examined */
            f->pos = page.next_pos;
            f->id = page.next_id;
            f->has_cursor = true;
        }
        free(page.items);
    }
    if (!final) return false;
    *body = render("[]", f->pos, f->id, false, len);
    return true;
}

static void type_error(json_t *errors)
{
    json_array_append_new(errors, JCHECK(json_pack("{s:s, s:s}", "field", "types", "message",
                                                   "unknown code (see GET /v1/vocabularies: "
                                                   "change_type)")));
}

/* Splits the `types` parameters (repeated, or comma-separated) into a text[] literal;
 * unknown codes are appended to errors. NULL when none given. */
static char *types_literal(const lda_req *r, json_t *errors)
{
    const vocab *types = vocab_find("change_type");
    size_t cap = 3, n = 0;
    for (size_t i = 0; query_get_nth(&r->query, "types", i); i++)
        cap += 3 * strlen(query_get_nth(&r->query, "types", i)) + 3; /* a code at least 1 */
    if (cap == 3) return NULL;
    char *out = xmalloc(cap), *p = out;
    *p++ = '{';
    for (size_t i = 0; query_get_nth(&r->query, "types", i); i++) {
        const char *v = query_get_nth(&r->query, "types", i);
        while (*v) {
            size_t len = strcspn(v, ",");
            char code[64];
            if (len == 0 || len >= sizeof code) {
                type_error(errors);
            } else {
                memcpy(code, v, len);
                code[len] = '\0';
                if (!vocab_has(types, code)) {
                    type_error(errors);
                } else {
                    p += sprintf(p, "%s\"%s\"", n++ ? "," : "", code);
                }
            }
            v += len;
            if (*v == ',') v++;
        }
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

void changes_get(lda_req *r)
{
    json_t *errors = JCHECK(json_array());
    char *types = types_literal(r, errors);
    if (resource_invalid(r, errors, "Some query parameters are not valid.")) {
        free(types);
        return;
    }
    feed *f = xcalloc(1, sizeof *f);
    f->types = types;
    f->who = *r->who;
    f->limit = resource_limit(r);
    const char *after = query_get(&r->query, "after");
    if (after) {
        char *k = NULL, *id = NULL;
        cursor_decode(after, &k, &id); /* checked by the route's query rules */
        f->pos = k ? strtoll(k, NULL, 10) : 0;
        f->id = id ? strtoll(id, NULL, 10) : 0;
        f->has_cursor = true;
        free(k);
        free(id);
    }
    long wait = 0;
    const char *w = query_get(&r->query, "wait");
    if (w) parse_long(w, 0, 60, &wait);

    long long h = change_horizon();
    change_page_t page = {0};
    lda_err e = read_page(f, h, &page);
    if (e) {
        feed_free(f);
        problem_send_err(r, e, NULL);
        return;
    }
    if (page.expired) {
        char detail[200];
        snprintf(detail, sizeof detail,
                 "This cursor is older than the events kept (%ld days): read the resources "
                 "again, then follow the feed from a cursor it returns now.",
                 r->cfg->changes_retention_days);
        feed_free(f);
        problem_send(r, 410, detail, NULL);
        return;
    }
    f->seen_horizon = h;
    if (page.count > 0 || page.has_more || wait == 0 || longpoll_stopping()) {
        size_t len;
        char *body = render(page.items, page.next_pos, page.next_id, page.has_more, &len);
        http_send_json_text(r, 200, body, len);
        free(body);
        free(page.items);
        feed_free(f);
        return;
    }
    f->pos = page.next_pos;
    f->id = page.next_id;
    f->has_cursor = true;
    free(page.items);
    e = longpoll_answer(r, "application/json", clock_mono_ms() + wait * 1000, feed_poll, feed_free,
                        f);
    if (e) {
        feed_free(f);
        problem_send(r, 503, "Too many clients are waiting for changes right now; retry shortly.",
                     NULL);
    }
}
