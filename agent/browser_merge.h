/* browser_merge.h — several sources at once: the window source's samples, with the URL the
 * browser extension reports (spec/AGENT.md, "Browsers").
 *
 * The merger sits between the window source and the tracker: it is the source's sink and calls
 * the tracker's. A window sample passes through unchanged unless the window belongs to a
 * browser that has reported its focused tab: then the sample carries that tab's URL (the tracker
 * cuts it by url_mode, as for any sample), or, for a private/incognito window, becomes a
 * private sample (times only). A browser's window the extension cannot see (an incognito
 * window it is not allowed in) becomes a private sample too. A window belongs to a browser when its
 * pid (_NET_WM_PID) is the browser's pid (stint-browser-host's parent); without a pid, when the
 * window title contains the tab's title. When the browser reports another tab while its window is
 * in focus, the last window sample is handed on again with the new URL, so the tracker splits the
 * record there.
 *
 * Conventions: stint_browser_merge_create / _destroy (NULL is fine); inputs are borrowed for
 * the call; one thread (stintd's loop).
 */
#ifndef STINT_AGENT_BROWSER_MERGE_H
#define STINT_AGENT_BROWSER_MERGE_H

#include <stdbool.h>
#include <stdint.h>

#include "source.h"
#include "error.h" /* the agent's error convention */

/* Browsers followed at once (each running browser has one host). */
#define STINT_BROWSER_MERGE_MAX 8

/* One message from the extension, as stint-browser-host forwards it (control "browser"). */
struct stint_browser_event {
    long pid;        /* the browser's process */
    bool focus;      /* true: focus (this tab is in front); false: blur (no window of it is) */
    int64_t time_ms; /* Unix ms from the browser; the merger uses it only for event-timed sources */
    bool is_private;
    const char *url, *title; /* borrowed; "" for a private window */
};

struct stint_browser_merge_stats {
    uint64_t events;  /* browser events taken */
    uint64_t matched; /* window samples that got a browser's URL (or went private) */
    uint64_t resent;  /* samples handed on again because the tab changed */
    uint64_t held;    /* browser windows that waited for their browser's report */
    uint64_t unseen;  /* browser windows the extension could not see: recorded private */
    int browsers;     /* browsers known */
    int64_t last_event_ms[STINT_BROWSER_MERGE_MAX]; /* wall ms of each browser's last event */
    long pids[STINT_BROWSER_MERGE_MAX];
};

struct stint_browser_merge;

/* A merger calling `to` (copied; the tracker's sink). event_time: samples carry their own times
 * (a JSONL source), so a re-sent sample takes the browser event's time; otherwise 0 (now). */
enum stint_err stint_browser_merge_create(const struct stint_sink *to, bool event_time,
                                          struct stint_browser_merge **out, struct stint_error *e);

/* The sink to give the window source (valid as long as the merger). */
const struct stint_sink *stint_browser_merge_sink(struct stint_browser_merge *m);

/* Takes one browser event; may hand a sample on (errors from the tracker). STINT_ELIMIT when
 * more than STINT_BROWSER_MERGE_MAX browsers report (the oldest is forgotten first, so this
 * only happens with a zero pid). */
enum stint_err stint_browser_merge_event(struct stint_browser_merge *m,
                                         const struct stint_browser_event *ev);

/* Live sources: ms until a held browser window must be decided (stint_browser_merge_tick), 0
 * now, -1 nothing waits (always -1 for event-timed sources, decided by their next item). */
int64_t stint_browser_merge_timeout(const struct stint_browser_merge *m);

/* Decides a held window whose deadline has passed (errors from the tracker). */
enum stint_err stint_browser_merge_tick(struct stint_browser_merge *m);

/* True when a window's app (WM_CLASS class) and title mark a private browser window that the
 * title alone gives away: Firefox's "… Private Browsing" (in an English locale), a Chrome or
 * Chromium build's "… (Incognito)". Window sources mark such samples private_view. */
bool stint_browser_private_title(const char *app, size_t app_len, const char *title,
                                 size_t title_len);

void stint_browser_merge_stats(const struct stint_browser_merge *m,
                               struct stint_browser_merge_stats *out);

void stint_browser_merge_destroy(struct stint_browser_merge *m);

#endif
