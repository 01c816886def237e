/* ctl_filters.c — `stintctl filters test` (ctl_filters.h).
 *
 * Design: the answer must be what stintd would do, so nothing is re-implemented here: the config
 * is read by stintd's own loader (agent/config.c, the same file:line errors), the record is built
 * as the tracker builds it (the URL cut by url_mode, strings through stint_record_set) and the
 * rules are applied by the tracker's call, stint_filters_apply.
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_filters.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "filters.h"
#include "url.h"

static int usage(const char *prog, const char *msg)
{
    fprintf(stderr,
            "%s: %s\nusage: %s filters test [--config FILE] [--app APP] [--path PATH] "
            "[--title TITLE] [--url URL] [--json]\n",
            prog, msg, prog);
    return 2;
}

static const char *kind_word(int32_t k)
{
    return k == STINT_KIND_PRIVATE ? "private (times only)" : "active";
}

int stint_ctl_filters(const char *prog, int argc, char **argv)
{
    const char *config = NULL, *app = "", *path = "", *title = "", *url = "";
    char def[4096];
    bool as_json = false, default_file = false;
    struct stint_config *c = NULL;
    struct stint_filters *f = NULL;
    struct stint_record *r = NULL;
    char *cut = NULL;
    struct stint_error e;
    int rc = 0, i;

    if (argc < 1 || strcmp(argv[0], "test") != 0) {
        return usage(prog, "filters takes test");
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--json") == 0) {
            as_json = true;
            continue;
        }
        if (strcmp(a, "--config") == 0) {
            dst = &config;
        } else if (strcmp(a, "--app") == 0) {
            dst = &app;
        } else if (strcmp(a, "--path") == 0) {
            dst = &path;
        } else if (strcmp(a, "--title") == 0) {
            dst = &title;
        } else if (strcmp(a, "--url") == 0) {
            dst = &url;
        } else {
            char msg[160];
            snprintf(msg, sizeof(msg), "filters test: unknown argument \"%.100s\"", a);
            return usage(prog, msg);
        }
        if (++i >= argc) {
            char msg[160];
            snprintf(msg, sizeof(msg), "filters test: %s needs a value", a);
            return usage(prog, msg);
        }
        *dst = argv[i];
    }
    c = malloc(sizeof(*c));
    r = malloc(sizeof(*r));
    cut = malloc(STINT_URL_MAX + 1);
    if (!c || !r || !cut) {
        fprintf(stderr, "%s: out of memory\n", prog);
        rc = 1;
        goto cleanup;
    }
    if (stint_config_defaults(c, &e) != STINT_OK) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        rc = 1;
        goto cleanup;
    }
    if (!config && stint_config_default_path(def, sizeof(def))) {
        config = def;
        default_file = true;
    }
    if (config && !(default_file && access(config, F_OK) != 0)) {
        if (stint_config_load(c, config, &e) != STINT_OK) {
            fprintf(stderr, "%s: %s\n", prog, e.msg);
            rc = 1;
            goto cleanup;
        }
    } else {
        config = NULL; /* no file: the defaults, no rules */
    }
    if (stint_config_filters(c, &f, &e) != STINT_OK) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        rc = 1;
        goto cleanup;
    }
    /* the record as the tracker builds it */
    stint_record_clear(r);
    r->kind = STINT_KIND_ACTIVE;
    stint_record_set(r, STINT_FIELD_APP, app, strlen(app));
    stint_record_set(r, STINT_FIELD_PATH, path, strlen(path));
    stint_record_set(r, STINT_FIELD_TITLE, title, strlen(title));
    {
        size_t n = stint_url_cut(url, strlen(url), c->url_mode, cut, STINT_URL_MAX + 1);
        stint_record_set(r, STINT_FIELD_URL, cut, n);
    }
    int hit = stint_filters_apply(f, r, url, strlen(url));
    if (as_json) {
        json_t *o = json_pack("{s:s?,s:i,s:i}", "config", config, "rules",
                              (json_int_t)stint_filters_count(f), "match", (json_int_t)(hit + 1));
        if (o && hit >= 0) {
            json_object_set_new(o, "rule", json_string(stint_filters_rule(f, (size_t)hit)));
            json_object_set_new(o, "where", json_string(c->filter_where[hit]));
        }
        json_t *rec = json_pack("{s:s,s:s%,s:s%,s:s%,s:s%}", "kind",
                                r->kind == STINT_KIND_PRIVATE ? "private" : "active", "app", r->app,
                                (size_t)r->app_len, "path", r->path, (size_t)r->path_len, "title",
                                r->title, (size_t)r->title_len, "url", r->url, (size_t)r->url_len);
        if (!o || !rec) {
            json_decref(o);
            json_decref(rec);
            fprintf(stderr, "%s: out of memory\n", prog);
            rc = 1;
            goto cleanup;
        }
        json_object_set_new(o, "recorded", rec);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (s) {
            printf("%s\n", s);
            free(s);
        }
        goto cleanup;
    }
    if (hit >= 0) {
        printf("rule %d matches (%s): %s\n", hit + 1, c->filter_where[hit],
               stint_filters_rule(f, (size_t)hit));
    } else if (stint_filters_count(f) == 0) {
        printf("no rules (%s)\n", config ? config : "no config file");
    } else {
        printf("no rule matches (%zu rules in %s)\n", stint_filters_count(f), config);
    }
    printf("recorded: %s\n", kind_word(r->kind));
    if (r->kind != STINT_KIND_PRIVATE) {
        printf("  app:   %s\n  path:  %s\n  title: %s\n  url:   %s\n", r->app, r->path, r->title,
               r->url);
    }
cleanup:
    stint_filters_destroy(f);
    free(cut);
    free(r);
    free(c);
    return rc;
}
