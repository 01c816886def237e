/* browser.c — `stintctl browser install [--firefox] [--chromium]` and `stintctl browser status`.
 *
 * A browser starts a native messaging host only if a manifest naming it sits where that browser
 * looks, and only for the extensions the manifest lists. install writes those manifests for
 * the current user (the folders are created 0755, the files 0644, written to a temporary name
 * and renamed, so a browser never reads half a file), or with --system where every user's
 * browser reads them: /usr/lib/mozilla/native-messaging-hosts and
 * /etc/chromium/native-messaging-hosts (root only; --destdir DIR writes under DIR instead, as
 * a package build does). Firefox knows the extension by its gecko id; Chromium names an
 * unpacked extension after its folder, so install computes that id (chromium_id.c) from
 * --chromium-extension-dir, by default the installed extension folder; --chromium-id overrides
 * it (a packed or store copy has another id). status reads the manifests back and asks stintd
 * which browsers have reported.
 */
#define _GNU_SOURCE
#include "browser.h"
#include "chromium_id.h"

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

/* Where the system-wide manifests go (Debian's firefox-esr and chromium read these). */
#define FIREFOX_SYSTEM_DIR "/usr/lib/mozilla/native-messaging-hosts"
#define CHROMIUM_SYSTEM_DIR "/etc/chromium/native-messaging-hosts"

/* What install was asked to do. */
struct install {
    bool ff, cr, system;
    const char *host, *chromium_id, *ext_dir, *destdir;
};

/* The manifest's path for browser w: under $HOME, or system-wide (under destdir if given). */
static bool manifest_path(enum which w, const struct install *in, char *out, size_t cap)
{
    const char *home = getenv("HOME");
    const char *cfg = getenv("XDG_CONFIG_HOME");
    int n;

    if (in && in->system) {
        n = snprintf(out, cap, "%s%s/%s.json", in->destdir ? in->destdir : "",
                     w == FIREFOX ? FIREFOX_SYSTEM_DIR : CHROMIUM_SYSTEM_DIR,
                     STINT_BROWSER_HOST_NAME);
        return n > 0 && (size_t)n < cap;
    }
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

/* The folder this stintctl runs from, or false. */
static bool self_dir(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    char *slash;

    if (n <= 0)
        return false;
    out[n] = '\0';
    slash = strrchr(out, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return true;
}

/* An existing path made from dir and rel, resolved (symlinks, ".."), into out. */
static bool resolve_beside(const char *dir, const char *rel, char *out, size_t cap)
{
    char joined[PATH_MAX], real[PATH_MAX];
    int k = snprintf(joined, sizeof(joined), "%s/%s", dir, rel);

    if (k <= 0 || (size_t)k >= sizeof(joined) || !realpath(joined, real))
        return false;
    k = snprintf(out, cap, "%s", real);
    return k > 0 && (size_t)k < cap;
}

/* stint-browser-host beside this stintctl (installed, or the build tree's browser/), else
 * the installed one. */
static void default_host(char *out, size_t cap)
{
    char self[PATH_MAX];

    if (self_dir(self, sizeof(self))) {
        if (resolve_beside(self, "stint-browser-host", out, cap) && access(out, X_OK) == 0)
            return;
        if (resolve_beside(self, "../browser/stint-browser-host", out, cap) &&
            access(out, X_OK) == 0)
            return;
    }
    snprintf(out, cap, "%s", STINT_HOST_PATH);
}

/* The extension folder: PREFIX/share/stint/browser-extension beside this stintctl, else the
 * folder this build installs it to. False when neither exists (out names the installed one). */
static bool default_ext_dir(char *out, size_t cap)
{
    char self[PATH_MAX];

    if (self_dir(self, sizeof(self)) &&
        resolve_beside(self, "../share/stint/browser-extension", out, cap))
        return true;
    snprintf(out, cap, "%s", STINT_EXTENSION_DIR);
    return access(out, R_OK) == 0;
}

static int install_one(enum which w, const struct install *in)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8], origin[256];
    json_t *m = NULL;
    int rc = 1;

    if (!manifest_path(w, in, path, sizeof(path))) {
        fprintf(stderr, "stintctl: browser install: HOME is not set\n");
        return 1;
    }
    m = json_pack("{s:s, s:s, s:s, s:s}", "name", STINT_BROWSER_HOST_NAME, "description",
                  "Stint: tells stintd which site is in the focused tab", "path", in->host, "type",
                  "stdio");
    if (!m)
        goto cleanup;
    if (w == FIREFOX) {
        json_object_set_new(m, "allowed_extensions", json_pack("[s]", STINT_BROWSER_FIREFOX_ID));
    } else {
        snprintf(origin, sizeof(origin), "chrome-extension://%s/", in->chromium_id);
        json_object_set_new(m, "allowed_origins", json_pack("[s]", origin));
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (!make_parents(path) || json_dump_file(m, tmp, JSON_INDENT(2)) != 0 ||
        chmod(tmp, 0644) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "stintctl: browser install: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        goto cleanup;
    }
    if (w == FIREFOX)
        printf("%s: wrote %s (host %s)\n", names[w], path, in->host);
    else
        printf("%s: wrote %s (host %s, extension id %s)\n", names[w], path, in->host,
               in->chromium_id);
    rc = 0;
cleanup:
    json_decref(m);
    return rc;
}

static int status(json_t *(*status_fn)(const char *socket), const char *socket)
{
    json_t *st = status_fn(socket), *br, *list, *b;
    size_t i;

    for (int w = FIREFOX; w <= CHROMIUM; w++) {
        char path[PATH_MAX];
        json_t *m = NULL;
        const char *host = NULL;
        struct install sys = {.system = true};
        if (manifest_path((enum which)w, NULL, path, sizeof(path)))
            m = json_load_file(path, 0, NULL);
        if (!m && manifest_path((enum which)w, &sys, path, sizeof(path)))
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

/* Reads install's arguments into in. Returns 0, or 2 (usage) having said why. */
static int parse_install(int argc, char **argv, struct install *in)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--firefox") == 0) {
            in->ff = true;
        } else if (strcmp(a, "--chromium") == 0) {
            in->cr = true;
        } else if (strcmp(a, "--system") == 0) {
            in->system = true;
        } else if (strcmp(a, "--chromium-id") == 0 && has_value) {
            in->chromium_id = argv[++i];
        } else if (strcmp(a, "--chromium-extension-dir") == 0 && has_value) {
            in->ext_dir = argv[++i];
        } else if (strcmp(a, "--destdir") == 0 && has_value) {
            in->destdir = argv[++i];
        } else if (strcmp(a, "--host") == 0 && has_value) {
            in->host = argv[++i];
        } else {
            fprintf(stderr, "stintctl: browser install: unknown argument \"%s\"%s\n", a,
                    a[0] == '-' && a[1] == '-' && !has_value ? " (or its value is missing)" : "");
            return 2;
        }
    }
    if (in->destdir && !in->system) {
        fprintf(stderr, "stintctl: browser install: --destdir goes with --system\n");
        return 2;
    }
    if (in->chromium_id && in->ext_dir) {
        fprintf(stderr, "stintctl: browser install: give --chromium-id or "
                        "--chromium-extension-dir, not both\n");
        return 2;
    }
    if (in->chromium_id && !stint_chromium_id_valid(in->chromium_id)) {
        fprintf(stderr, "stintctl: \"%s\" is not a Chromium extension id (32 letters a-p)\n",
                in->chromium_id);
        return 2;
    }
    if (in->host && in->host[0] != '/') {
        fprintf(stderr, "stintctl: --host must be an absolute path: browsers need one\n");
        return 2;
    }
    return 0;
}

/* Fills id with the Chromium id of the extension folder install names (or its default).
 * Returns 0, or 1 having said why (no such folder). */
static int chromium_id_for(const struct install *in, char *id, size_t cap)
{
    char dir[PATH_MAX], real[PATH_MAX], staged[PATH_MAX];

    if (in->ext_dir)
        snprintf(dir, sizeof(dir), "%s", in->ext_dir);
    else if (in->system)
        snprintf(dir, sizeof(dir), "%s", STINT_EXTENSION_DIR);
    else if (!default_ext_dir(dir, sizeof(dir)))
        goto missing;
    if (in->destdir) {
        /* a package build: the folder is where it will be installed, staged under destdir */
        snprintf(staged, sizeof(staged), "%s%s", in->destdir, dir);
        if (dir[0] != '/' || access(staged, R_OK) != 0)
            goto missing;
    } else {
        if (!realpath(dir, real))
            goto missing;
        snprintf(dir, sizeof(dir), "%s", real); /* Chromium resolves symlinks too */
    }
    if (!stint_chromium_id(dir, id, cap))
        goto missing;
    return 0;
missing:
    fprintf(stderr,
            "stintctl: browser install --chromium: no extension folder %s%s (give "
            "--chromium-extension-dir DIR, the folder Chromium loads, or --chromium-id ID)\n",
            in->destdir ? in->destdir : "", dir);
    return 1;
}

static int install(int argc, char **argv)
{
    struct install in = {0};
    char host_buf[PATH_MAX], id[STINT_CHROMIUM_ID_LEN + 1];
    bool named;
    int rc = parse_install(argc, argv, &in);

    if (rc != 0)
        return rc;
    named = in.ff || in.cr;
    if (!named)
        in.ff = in.cr = true;
    if (in.system && !in.destdir && geteuid() != 0) {
        fprintf(stderr,
                "stintctl: browser install --system writes %s and %s for every user: "
                "run it as root (without --system it installs for you alone)\n",
                FIREFOX_SYSTEM_DIR, CHROMIUM_SYSTEM_DIR);
        return 1;
    }
    if (in.cr && !in.chromium_id) {
        if (chromium_id_for(&in, id, sizeof(id)) != 0) {
            if (named)
                return 1;
            in.cr = false; /* both by default: Firefox alone, having said why */
            fprintf(stderr, "stintctl: chromium skipped\n");
        }
        in.chromium_id = id;
    }
    if (!in.host) {
        if (in.system)
            snprintf(host_buf, sizeof(host_buf), "%s", STINT_HOST_PATH);
        else
            default_host(host_buf, sizeof(host_buf));
        in.host = host_buf;
    }
    if (in.ff)
        rc |= install_one(FIREFOX, &in);
    if (in.cr)
        rc |= install_one(CHROMIUM, &in);
    return rc ? 1 : 0;
}

int stintctl_browser(int argc, char **argv, json_t *(*status_fn)(const char *socket),
                     const char *socket)
{
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
    return install(argc, argv);
}
