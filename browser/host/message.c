/* message.c — parsing the extension's messages and writing the line stintd is sent.
 *
 * The browser is trusted to frame messages but not to send sane ones: an extension of another
 * version, or a bug, may send anything. jansson (strict: it refuses invalid UTF-8 and bare
 * values are not objects) parses; every member is checked for its type and range, and the
 * strings are cut to fixed buffers so that the forwarded line has a known bound. Private
 * windows are blanked here, the first place the host holds the data, so no later code can leak a
 * private URL or title.
 */
#include "message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

const char *stint_browser_type_name(enum stint_browser_type t)
{
    switch (t) {
    case STINT_BROWSER_HELLO:
        return "hello";
    case STINT_BROWSER_FOCUS:
        return "focus";
    case STINT_BROWSER_BLUR:
        return "blur";
    }
    return "?";
}

/* Copies s into out (cap >= 1 bytes), cut at a UTF-8 character boundary; true when cut. */
static bool copy_cut(const char *s, size_t len, char *out, size_t cap)
{
    bool cut = false;

    if (len > cap - 1) {
        len = cap - 1;
        /* back off continuation bytes so a character is never split */
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
        cut = true;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return cut;
}

static enum stint_err get_string(json_t *o, const char *key, bool required, char *out, size_t cap,
                                 bool *cut, struct stint_error *e)
{
    json_t *v = json_object_get(o, key);
    bool c;

    out[0] = '\0';
    if (!v) {
        if (required)
            return stint_error_set(e, STINT_ETYPE, 0, "browser message: \"%s\" is missing", key);
        return STINT_OK;
    }
    if (!json_is_string(v))
        return stint_error_set(e, STINT_ETYPE, 0, "browser message: \"%s\" is not a string", key);
    c = copy_cut(json_string_value(v), json_string_length(v), out, cap);
    if (cut)
        *cut = c;
    return STINT_OK;
}

static enum stint_err get_int(json_t *o, const char *key, bool required, int64_t *out,
                              struct stint_error *e)
{
    json_t *v = json_object_get(o, key);

    if (!v) {
        if (required)
            return stint_error_set(e, STINT_ETYPE, 0, "browser message: \"%s\" is missing", key);
        return STINT_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return stint_error_set(e, STINT_ETYPE, 0,
                               "browser message: \"%s\" is not a non-negative integer", key);
    *out = (int64_t)json_integer_value(v);
    return STINT_OK;
}

enum stint_err stint_browser_msg_parse(const char *json, size_t len, struct stint_browser_msg *out,
                                       struct stint_error *e)
{
    enum stint_err err = STINT_OK;
    json_error_t jerr;
    json_t *root = NULL, *v;
    const char *type;

    stint_error_clear(e);
    memset(out, 0, sizeof(*out));
    out->tab = -1;
    if (len > STINT_BROWSER_MSG_MAX) {
        err = stint_error_set(e, STINT_ELIMIT, 0, "browser message: %zu bytes, over the %u limit",
                              len, (unsigned)STINT_BROWSER_MSG_MAX);
        goto cleanup;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        err = stint_error_set(e, STINT_EJSON, (size_t)(jerr.position > 0 ? jerr.position : 0),
                              "browser message: not JSON: %s", jerr.text);
        goto cleanup;
    }
    if (!json_is_object(root)) {
        err = stint_error_set(e, STINT_ETYPE, 0, "browser message: not a JSON object");
        goto cleanup;
    }
    v = json_object_get(root, "type");
    if (!json_is_string(v)) {
        err = stint_error_set(e, STINT_ETYPE, 0, "browser message: \"type\" is missing");
        goto cleanup;
    }
    type = json_string_value(v);
    if (strcmp(type, "hello") == 0) {
        out->type = STINT_BROWSER_HELLO;
        err = get_string(root, "browser", true, out->browser, sizeof(out->browser), NULL, e);
        if (err == STINT_OK)
            err = get_string(root, "version", false, out->version, sizeof(out->version), NULL, e);
    } else if (strcmp(type, "focus") == 0) {
        out->type = STINT_BROWSER_FOCUS;
        err = get_int(root, "time", true, &out->time_ms, e);
        if (err == STINT_OK)
            err = get_int(root, "window", true, &out->window, e);
        if (err == STINT_OK)
            err = get_int(root, "tab", false, &out->tab, e);
        if (err == STINT_OK)
            err = get_string(root, "url", true, out->url, sizeof(out->url), &out->url_cut, e);
        if (err == STINT_OK)
            err =
                get_string(root, "title", true, out->title, sizeof(out->title), &out->title_cut, e);
        if (err == STINT_OK) {
            v = json_object_get(root, "private");
            if (!json_is_boolean(v))
                err = stint_error_set(e, STINT_ETYPE, 0,
                                      "browser message: \"private\" is not true or false");
            else
                out->is_private = json_is_true(v);
        }
        if (err == STINT_OK && out->is_private) {
            /* nothing of a private window goes further than this */
            out->url[0] = out->title[0] = '\0';
            out->url_cut = out->title_cut = false;
        }
    } else if (strcmp(type, "blur") == 0) {
        out->type = STINT_BROWSER_BLUR;
        err = get_int(root, "time", true, &out->time_ms, e);
    } else {
        err = stint_error_set(e, STINT_EUNSUPPORTED, 0,
                              "browser message: unknown type \"%.64s\" (hello, focus, blur)", type);
    }
cleanup:
    json_decref(root);
    return err;
}

/* The line for m as it is, or STINT_ELIMIT when it is longer than cap - 1. */
static enum stint_err try_line(const struct stint_browser_msg *m, long pid, char *buf, size_t cap,
                               size_t *len, struct stint_error *e)
{
    enum stint_err err = STINT_OK;
    json_t *o = NULL;
    char *text = NULL;
    size_t n;

    o = json_pack("{s:s, s:I, s:s}", "cmd", "browser", "pid", (json_int_t)pid, "type",
                  stint_browser_type_name(m->type));
    if (!o) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "browser line: out of memory");
        goto cleanup;
    }
    switch (m->type) {
    case STINT_BROWSER_HELLO:
        json_object_set_new(o, "browser", json_string(m->browser));
        json_object_set_new(o, "version", json_string(m->version));
        break;
    case STINT_BROWSER_FOCUS:
        json_object_set_new(o, "time", json_integer((json_int_t)m->time_ms));
        json_object_set_new(o, "window", json_integer((json_int_t)m->window));
        if (m->tab >= 0)
            json_object_set_new(o, "tab", json_integer((json_int_t)m->tab));
        json_object_set_new(o, "private", json_boolean(m->is_private));
        json_object_set_new(o, "url", json_string(m->url));
        json_object_set_new(o, "title", json_string(m->title));
        break;
    case STINT_BROWSER_BLUR:
        json_object_set_new(o, "time", json_integer((json_int_t)m->time_ms));
        break;
    }
    /* the strings passed jansson's UTF-8 check and were cut at character boundaries, so
     * json_string cannot fail on them */
    text = json_dumps(o, JSON_COMPACT);
    if (!text) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "browser line: out of memory");
        goto cleanup;
    }
    n = strlen(text);
    if (n + 1 > cap) {
        err = stint_error_set(e, STINT_ELIMIT, 0, "browser line: %zu bytes, over %zu", n, cap - 1);
        goto cleanup;
    }
    memcpy(buf, text, n + 1);
    *len = n;
cleanup:
    free(text);
    json_decref(o);
    return err;
}

enum stint_err stint_browser_msg_line(const struct stint_browser_msg *m, long pid, char *buf,
                                      size_t cap, size_t *len, struct stint_error *e)
{
    struct stint_browser_msg c;
    enum stint_err err;
    char tmp[STINT_BROWSER_URL_MAX + 1];

    stint_error_clear(e);
    if (cap == 0)
        return stint_error_set(e, STINT_ELIMIT, 0, "browser line: no room");
    err = try_line(m, pid, buf, cap, len, e);
    if (err != STINT_ELIMIT || m->type != STINT_BROWSER_FOCUS)
        return err;
    /* escaping (control characters become \u00XX) can grow the strings up to six times: halve
     * them until the line fits; both are flagged as cut */
    c = *m;
    while (err == STINT_ELIMIT && (c.url[0] || c.title[0])) {
        memcpy(tmp, c.url, sizeof(tmp));
        copy_cut(tmp, strlen(tmp), c.url, strlen(tmp) / 2 + 1);
        memcpy(tmp, c.title, STINT_BROWSER_TITLE_MAX + 1);
        copy_cut(tmp, strlen(tmp), c.title, strlen(tmp) / 2 + 1);
        c.url_cut = c.title_cut = true;
        err = try_line(&c, pid, buf, cap, len, e);
    }
    return err;
}
