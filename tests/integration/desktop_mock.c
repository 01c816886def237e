/* desktop_mock.c — the desktop helpers' side of the D-Bus contract (spec/AGENT.md, "Desktop
 * helpers"), for gnome_test.sh where no GNOME Shell or KWin runs. It does on the session bus
 * exactly what desktop/gnome/extension.js and desktop/kwin/contents/code/main.js do:
 *   - owns org.stint.Desktop and serves /org/stint/Desktop, org.stint.Desktop1: GetFocus,
 *     GetIdletime, and the FocusChanged signal (the GNOME Shell extension);
 *   - calls org.stint.Agent's Update (the KWin script's callDBus).
 * Commands, one a line on standard input:
 *     focus APP<TAB>TITLE<TAB>PID   the focus changes: remembered, FocusChanged sent
 *     input                         input now (GetIdletime counts from here)
 *     push APP<TAB>TITLE<TAB>PID    call org.stint.Agent Update with these, the pid as text
 *                                   (as the KWin script does)
 * Prints "ready" once it owns the name, "pushed" or "push failed: ..." after a push.
 * Usage: desktop_mock [--no-name]   (--no-name: own nothing; only push, as a KWin script) */
#define _GNU_SOURCE
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

static char app[512], title[8192];
static uint32_t pid;
static int64_t last_input;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int get_focus(sd_bus_message *m, void *data, sd_bus_error *err)
{
    (void)data;
    (void)err;
    return sd_bus_reply_method_return(m, "ssu", app, title, pid);
}

static int get_idletime(sd_bus_message *m, void *data, sd_bus_error *err)
{
    (void)data;
    (void)err;
    return sd_bus_reply_method_return(m, "t", (uint64_t)(mono_ms() - last_input));
}

static const sd_bus_vtable vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("GetFocus", "", "ssu", get_focus, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetIdletime", "", "t", get_idletime, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("FocusChanged", "ssu", 0),
    SD_BUS_VTABLE_END,
};

/* "APP\tTITLE\tPID" into a, t, p */
static int split(char *s, char **a, char **t, uint32_t *p)
{
    char *t1 = strchr(s, '\t'), *t2;
    if (!t1 || !(t2 = strchr(t1 + 1, '\t'))) {
        return -1;
    }
    *t1 = *t2 = '\0';
    *a = s;
    *t = t1 + 1;
    *p = (uint32_t)strtoul(t2 + 1, NULL, 10);
    return 0;
}

int main(int argc, char **argv)
{
    sd_bus *bus = NULL;
    sd_bus_slot *slot = NULL;
    char line[9000];
    bool own = !(argc > 1 && strcmp(argv[1], "--no-name") == 0);
    int r;

    last_input = mono_ms();
    r = sd_bus_open_user(&bus);
    if (r >= 0 && own) {
        r = sd_bus_add_object_vtable(bus, &slot, "/org/stint/Desktop", "org.stint.Desktop1", vtable,
                                     NULL);
    }
    if (r >= 0 && own) {
        r = sd_bus_request_name(bus, "org.stint.Desktop", 0);
    }
    if (r < 0) {
        fprintf(stderr, "desktop_mock: %s\n", strerror(-r));
        return 1;
    }
    /* unbuffered: poll() on fd 0 must see every line that stdio has not taken yet (two
     * commands written at once would otherwise sit in stdio's buffer, unseen by poll) */
    setvbuf(stdin, NULL, _IONBF, 0);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        struct pollfd p[2] = {{.fd = 0, .events = POLLIN},
                              {.fd = sd_bus_get_fd(bus), .events = (short)sd_bus_get_events(bus)}};
        while (sd_bus_process(bus, NULL) > 0) {
        }
        sd_bus_flush(bus);
        if (poll(p, 2, -1) < 0) {
            continue;
        }
        if (!(p[0].revents & (POLLIN | POLLHUP))) {
            continue;
        }
        if (!fgets(line, sizeof(line), stdin)) {
            break;
        }
        line[strcspn(line, "\n")] = '\0';
        char *a, *t;
        uint32_t n;
        if (strncmp(line, "focus ", 6) == 0 && split(line + 6, &a, &t, &n) == 0) {
            snprintf(app, sizeof(app), "%s", a);
            snprintf(title, sizeof(title), "%s", t);
            pid = n;
            sd_bus_emit_signal(bus, "/org/stint/Desktop", "org.stint.Desktop1", "FocusChanged",
                               "ssu", app, title, pid);
        } else if (strcmp(line, "input") == 0) {
            last_input = mono_ms();
        } else if (strncmp(line, "push ", 5) == 0 && split(line + 5, &a, &t, &n) == 0) {
            /* the pid as text, as the KWin script sends it */
            sd_bus_error err = SD_BUS_ERROR_NULL;
            const char *t2 = t + strlen(t) + 1;
            r = sd_bus_call_method(bus, "org.stint.Agent", "/org/stint/Desktop",
                                   "org.stint.Desktop1", "Update", &err, NULL, "sss", a, t,
                                   t2 ? t2 : "");
            if (r < 0) {
                printf("push failed: %s\n", err.message ? err.message : strerror(-r));
            } else {
                printf("pushed\n");
            }
            sd_bus_error_free(&err);
            fflush(stdout);
        }
        sd_bus_flush(bus);
    }
    sd_bus_slot_unref(slot);
    sd_bus_flush_close_unref(bus);
    return 0;
}
