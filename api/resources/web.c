/*
 * The pages served for people: GET /docs (the API reference, rendered in the browser from
 * /openapi.yaml by Swagger UI), GET /observatory (the youth observatory dashboard), GET
 * /prevention and GET /housing (the dashboards of eviction prevention and of the housing
 * offer), GET /outcomes (the outcome cohorts' dashboard), with their assets. Files come from
 * LDA_WEB_DIR (default: web/ next to the build folder of the binary): the pages and our scripts
 * from web/static/, third-party bundles from web/vendor/ (filled from npm packages by
 * scripts/web-deps.sh, never committed). Only flat file names of a known type are served: no path
 * ever reaches the file system from the request beyond one checked segment.
 */
#include "core/log.h"
#include "core/mem.h"
#include "resources/resource.h"

#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ASSET (16 * 1024 * 1024)

static char *web_root;
static pthread_once_t root_once = PTHREAD_ONCE_INIT;
static const lda_config *root_cfg;

static void find_root(void)
{
    if (root_cfg && root_cfg->web_dir) {
        web_root = xstrdup(root_cfg->web_dir);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        web_root = xstrdup("web");
        return;
    }
    exe[n] = '\0';
    char *dir = dirname(exe); /* .../build */
    web_root = xasprintf("%s/../web", dir);
    if (access(web_root, R_OK) != 0) {
        free(web_root);
        web_root = xasprintf("%s/web", dir); /* installed layout: web/ beside the binary */
    }
}

static const struct {
    const char *ext, *type;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".map", "application/json"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".woff2", "font/woff2"},
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (!strcmp(dot, TYPES[i].ext)) return TYPES[i].type;
    return NULL;
}

static bool safe_name(const char *name)
{
    if (!name || !*name || name[0] == '.' || strlen(name) > 100) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-", *p)) return false;
    return strstr(name, "..") == NULL;
}

/* Answers the file web_root/sub/name, or 404. */
static void send_file(lda_req *r, const char *sub, const char *name)
{
    root_cfg = r->cfg;
    pthread_once(&root_once, find_root);
    const char *type = type_of(name);
    if (!safe_name(name) || !type) {
        problem_send(r, 404, NULL, NULL);
        return;
    }
    char *path = xasprintf("%s/%s/%s", web_root, sub, name);
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f) {
        problem_send(r, 404,
                     "This page or asset is not installed (run ./dev run or scripts/web-deps.sh).",
                     NULL);
        return;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 0 || size > MAX_ASSET) {
        fclose(f);
        problem_send(r, 500, NULL, NULL);
        return;
    }
    char *buf = xmalloc((size_t)size + 1);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    http_set_header(r, "Cache-Control",
                    !strcmp(sub, "vendor") ? "public, max-age=86400" : "no-cache");
    if (!strcmp(type, TYPES[0].type)) {
        /* the pages load only their own scripts and styles, talk only to this service, and
         * may not be framed by another site (clickjacking); the bundles set element styles
         * and embed small images as data: URLs */
        http_set_header(r, "Content-Security-Policy",
                        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
                        "object-src 'none'; base-uri 'none'; form-action 'self'; "
                        "frame-ancestors 'none'");
        http_set_header(r, "X-Frame-Options", "DENY");
        http_set_header(r, "Referrer-Policy", "no-referrer");
    }
    http_send_body(r, 200, type, buf, got);
    free(buf);
}

void docs_get(lda_req *r) { send_file(r, "static", "docs.html"); }

void observatory_page_get(lda_req *r) { send_file(r, "static", "observatory.html"); }

void prevention_page_get(lda_req *r) { send_file(r, "static", "prevention.html"); }

void housing_page_get(lda_req *r) { send_file(r, "static", "housing.html"); }

void outcomes_page_get(lda_req *r) { send_file(r, "static", "outcomes.html"); }

void assets_get(lda_req *r) { send_file(r, "static", r->params[0]); }

void vendor_get(lda_req *r) { send_file(r, "vendor", r->params[0]); }
