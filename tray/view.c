/* view.c — a watch state line as icon, tooltip and menu (view.h).
 *
 * Design. The words follow what the user can do about each state: private says how to resume,
 * offline how much waits and since when (so a laptop that has been offline for a day says so),
 * blocked quotes the sender's own status line (the token was refused, TLS failed: the fix is in
 * the configuration, not in waiting), stopped says how to start stintd. Every text is cut to its
 * buffer by snprintf; a state line with members missing or of the wrong type still gives a
 * sensible view (jansson returns NULL and 0 for those), so nothing stintd sends can crash the
 * tray.
 */
#define _GNU_SOURCE
#include "view.h"

#include <stdio.h>
#include <string.h>

static const char *str_of(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static void fmt_time(int64_t ms, time_t now, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm, tn;

    localtime_r(&t, &tm);
    localtime_r(&now, &tn);
    if (tm.tm_year == tn.tm_year && tm.tm_yday == tn.tm_yday)
        strftime(out, cap, "%H:%M", &tm);
    else
        strftime(out, cap, "%Y-%m-%d %H:%M", &tm);
}

static void link_view(struct stint_tray_view_text *out)
{
    out->view.icon = out->icon;
    out->view.tip_title = out->title;
    out->view.tip_text = out->text;
    out->view.label = out->label;
}

void stint_tray_view_of_state(const json_t *st, time_t now, struct stint_tray_view_text *out)
{
    const char *mode = str_of(st, "mode"), *app = str_of(st, "app");
    const char *detail = str_of(st, "detail"), *sender = str_of(st, "sender");
    long long n = (long long)json_integer_value(json_object_get(st, "backlog"));
    const char *s = n == 1 ? "" : "s";
    json_t *oldest = json_object_get(st, "oldest_ms");
    char since[32] = "";

    memset(out, 0, sizeof(*out));
    out->view.status = "Active";
    out->view.running = true;
    out->view.private_mode = json_is_true(json_object_get(st, "private"));
    out->view.can_flush = *sender && strncmp(sender, "off", 3) != 0;
    if (json_is_integer(oldest))
        fmt_time(json_integer_value(oldest), now, since, sizeof(since));
    if (strcmp(mode, "private") == 0) {
        snprintf(out->title, sizeof(out->title), "Stint: private mode");
        snprintf(out->text, sizeof(out->text), "Nothing is recorded. Click the icon to resume.");
        snprintf(out->label, sizeof(out->label), "Private mode: nothing is recorded");
    } else if (strcmp(mode, "blocked") == 0) {
        out->view.status = "NeedsAttention";
        snprintf(out->title, sizeof(out->title), "Stint: sending blocked");
        snprintf(out->text, sizeof(out->text), "%.300s\n%lld record%s kept until this is fixed.",
                 *detail ? detail : sender, n, s);
        snprintf(out->label, sizeof(out->label), "Sending blocked: %.120s",
                 *detail ? detail : sender);
    } else if (strcmp(mode, "offline") == 0) {
        snprintf(out->title, sizeof(out->title), "Stint: offline");
        snprintf(out->text, sizeof(out->text), "%lld record%s waiting%s%s%s%.300s", n, s,
                 *since ? " since " : "", since, *detail ? "\n" : "", detail);
        snprintf(out->label, sizeof(out->label), "Offline: %lld waiting%s%s", n,
                 *since ? " since " : "", since);
    } else if (strcmp(mode, "sending") == 0) {
        snprintf(out->title, sizeof(out->title), "Stint: sending");
        snprintf(out->text, sizeof(out->text), "%lld record%s to send", n, s);
        snprintf(out->label, sizeof(out->label), "Sending %lld record%s", n, s);
    } else if (strcmp(mode, "idle") == 0) {
        snprintf(out->title, sizeof(out->title), "Stint: idle");
        snprintf(out->text, sizeof(out->text),
                 "You are away; recording resumes with your next input.");
        snprintf(out->label, sizeof(out->label), "Idle");
    } else {
        mode = "recording"; /* also a mode a later stintd adds: the neutral icon */
        snprintf(out->title, sizeof(out->title), "Stint: recording");
        snprintf(out->text, sizeof(out->text), "%s%.200s", *app ? "Now: " : "Recording", app);
        snprintf(out->label, sizeof(out->label), "Recording%s%.120s", *app ? ": " : "", app);
    }
    snprintf(out->icon, sizeof(out->icon), "stint-%s", mode);
    link_view(out);
}

void stint_tray_view_stopped(const char *why, struct stint_tray_view_text *out)
{
    memset(out, 0, sizeof(*out));
    out->view.status = "Active"; /* not Passive: hosts may hide a passive item */
    snprintf(out->icon, sizeof(out->icon), "stint-stopped");
    snprintf(out->title, sizeof(out->title), "Stint: agent not running");
    snprintf(out->text, sizeof(out->text), "%.400s. Start it with: systemctl --user start stintd",
             why && *why ? why : "stintd is not running");
    snprintf(out->label, sizeof(out->label), "Stint agent is not running");
    link_view(out);
}
