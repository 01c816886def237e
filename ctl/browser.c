/* browser.c — `stintctl browser install [--firefox] [--chromium]` and `stintctl browser status`.
 *
 * A browser starts a native messaging host only if a manifest naming it sits where that browser
 * looks, and only for the extensions the manifest lists. install writes those manifests for
 * the current user (the folders are created 0755, the files 0644, written to a temporary name
 * and renamed, so a browser never reads half a file); the packaged system-wide copies live in
 * /usr/lib/mozilla/native-messaging-hosts and /etc/chromium/native-messaging-hosts. The
 * Chromium id of an unpacked extension depends on its folder, so it is given with
 * --chromium-id (chrome://extensions shows it). status reads the manifests back and asks stintd
 * which browsers have reported.
 */
#define _GNU_SOURCE
#include "browser.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/clock.h"

enum which { FIREFOX = 0, CHROMIUM = 1 };
static const char *const names[] = {"firefox", "chromium"};

/* The manifest's path for browser w under $HOME. */
static bool manifest_path(enum which w, char *out, size_t cap)
{
    const char *home = getenv("HOME");
    const char *cfg = getenv("XDG_CONFIG_HOME");
    int n;

    if (!home || !home[0])
        return false;
    if (w == FIREFOX)
        n = snprintf(out, cap, "%s/.mozilla/native-messaging-hosts/%s.json", home,
                     STINT_BROWSER_HOST_NAME);
    else if (cfg && cfg[0])
        n = snprintf(out, cap, "%s/chromium/NativeMessagingHosts/%s.json", cfg,
                     STINT_BROWSER_HOST_NAME);
    else
        n = snprintf(out, cap, "%s/.config/chromium/NativeMessagingHosts/%s.json", home,
                     STINT_BROWSER_HOST_NAME);
    return n > 0 && (size_t)n < cap;
}

/* mkdir -p for the folder of path. */
static bool make_parents(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return true;
}

/* stint-browser-host beside this stintctl, else the installed one. */
static void default_host(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            int k = snprintf(out, cap, "%s/stint-browser-host", self);
            if (k > 0 && (size_t)k < cap && access(out, X_OK) == 0)
                return;
            /* a build folder: ctl/ beside browser/ */
            k = snprintf(out, cap, "%s/../browser/stint-browser-host", self);
            if (k > 0 && (size_t)k < cap && access(out, X_OK) == 0) {
                char real[PATH_MAX];
                if (realpath(out, real))
                    snprintf(out, cap, "%s", real);
                return;
            }
        }
    }
    snprintf(out, cap, "/usr/bin/stint-browser-host");
}

static int install_one(enum which w, const char *host, const char *chromium_id)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8], origin[256];
    json_t *m = NULL;
    int rc = 1;

    if (!manifest_path(w, path, sizeof(path))) {
        fprintf(stderr, "stintctl: browser install: HOME is not set\n");
        return 1;
    }
    m = json_pack("{s:s, s:s, s:s, s:s}", "name", STINT_BROWSER_HOST_NAME, "description",
                  "Stint: tells stintd which site is in the focused tab", "path", host, "type",
                  "stdio");
    if (!m)
        goto cleanup;
    if (w == FIREFOX) {
        json_object_set_new(m, "allowed_extensions", json_pack("[s]", STINT_BROWSER_FIREFOX_ID));
    } else {
        snprintf(origin, sizeof(origin), "chrome-extension://%s/", chromium_id);
        json_object_set_new(m, "allowed_origins", json_pack("[s]", origin));
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (!make_parents(path) || json_dump_file(m, tmp, JSON_INDENT(2)) != 0 ||
        chmod(tmp, 0644) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "stintctl: browser install: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        goto cleanup;
    }
    printf("%s: wrote %s (host %s)\n", names[w], path, host);
    rc = 0;
cleanup:
    json_decref(m);
    return rc;
}

static bool valid_chromium_id(const char *id)
{
    if (strlen(id) != 32)
        return false;
    for (const char *p = id; *p; p++) {
        if (*p < 'a' || *p > 'p')
            return false;
    }
    return true;
}

static int status(json_t *(*status_fn)(const char *socket), const char *socket)
{
    json_t *st = status_fn(socket), *br, *list, *b;
    size_t i;

    for (int w = FIREFOX; w <= CHROMIUM; w++) {
        char path[PATH_MAX];
        json_t *m = NULL;
        const char *host = NULL;
        if (manifest_path((enum which)w, path, sizeof(path)))
            m = json_load_file(path, 0, NULL);
        host = m ? json_string_value(json_object_get(m, "path")) : NULL;
        if (!m)
            printf("%-9s host manifest: not installed (stintctl browser install --%s)\n", names[w],
                   names[w]);
        else
            printf("%-9s host manifest: %s -> %s%s\n", names[w], path, host ? host : "?",
                   host && access(host, X_OK) == 0 ? "" : " (missing or not executable)");
        json_decref(m);
    }
    if (!st) {
        printf("stintd: not reachable: browsers cannot report now\n");
        return 0;
    }
    br = json_object_get(st, "browser");
    if (!br) {
        printf("stintd: browser reports are off (set source = WINDOW, browser)\n");
    } else {
        list = json_object_get(br, "browsers");
        printf("stintd: %lld reports, %zu browser(s) heard from\n",
               (long long)json_integer_value(json_object_get(br, "events")), json_array_size(list));
        json_array_foreach (list, i, b) {
            long long now = (long long)stint_clock_wall_ms();
            long long last = (long long)json_integer_value(json_object_get(b, "last_event_ms"));
            printf("  browser pid %lld: last report %llds ago\n",
                   (long long)json_integer_value(json_object_get(b, "pid")), (now - last) / 1000);
        }
    }
    json_decref(st);
    return 0;
}

int stintctl_browser(int argc, char **argv, json_t *(*status_fn)(const char *socket),
                     const char *socket)
{
    bool ff = false, cr = false;
    const char *host = NULL, *chromium_id = NULL;
    char host_buf[PATH_MAX];
    int rc = 0;

    if (argc < 1) {
        fprintf(stderr, "stintctl: browser needs install or status\nTry 'stintctl --help'.\n");
        return 2;
    }
    if (strcmp(argv[0], "status") == 0) {
        if (argc > 1) {
            fprintf(stderr, "stintctl: browser status takes no arguments\n");
            return 2;
        }
        return status(status_fn, socket);
    }
    if (strcmp(argv[0], "install") != 0) {
        fprintf(stderr, "stintctl: browser takes install or status, not \"%s\"\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--firefox") == 0) {
            ff = true;
        } else if (strcmp(argv[i], "--chromium") == 0) {
            cr = true;
        } else if (strcmp(argv[i], "--chromium-id") == 0 && i + 1 < argc) {
            chromium_id = argv[++i];
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else {
            fprintf(stderr, "stintctl: browser install: unknown argument \"%s\"\n", argv[i]);
            return 2;
        }
    }
    if (!ff && !cr)
        ff = cr = true;
    if (cr && !chromium_id) {
        if (ff && !(argc > 1)) {
            cr = false; /* no id: the Firefox one only, and say how to add Chromium */
            fprintf(stderr, "stintctl: chromium skipped: give --chromium-id ID (the id "
                            "chrome://extensions shows for the Stint extension)\n");
        } else {
            fprintf(stderr, "stintctl: browser install --chromium needs --chromium-id ID (the "
                            "id chrome://extensions shows for the Stint extension)\n");
            return 2;
        }
    }
    if (cr && !valid_chromium_id(chromium_id)) {
        fprintf(stderr, "stintctl: \"%s\" is not a Chromium extension id (32 letters a-p)\n",
                chromium_id);
        return 2;
    }
    if (!host) {
        default_host(host_buf, sizeof(host_buf));
        host = host_buf;
    }
    if (host[0] != '/') {
        fprintf(stderr, "stintctl: --host must be an absolute path: browsers need one\n");
        return 2;
    }
    if (ff)
        rc |= install_one(FIREFOX, host, NULL);
    if (cr)
        rc |= install_one(CHROMIUM, host, chromium_id);
    return rc ? 1 : 0;
}
