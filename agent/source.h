/* source.h — a source of what is in focus: a callback table the tracker's poll loop drives.
 *
 * A source (agent/source_*.c, one file each) watches something — the X server, a JSONL stream —
 * and hands the tracker what it sees through a sink (struct stint_sink), which the tracker
 * provides (stint_tracker_sink). In the style of Fluent Bit's inputs, a source is an opaque
 * object behind a table of functions:
 *
 *     stintd's loop                       the source
 *     -------------                       ----------
 *     n = stint_source_fds(src, pfd, cap) the fds it waits on (X connection, inotify, a FIFO)
 *     t = stint_source_timeout(src)       ms until it wants to run without an fd (-1: never)
 *     poll(pfd, n, min(t, tracker's))
 *     stint_source_dispatch(src, pfd, n)  reads what is ready and calls the sink: samples, idle,
 *                                         private mode, bad input
 *
 * Two kinds of source exist (flags):
 *   - live (x11): samples carry time 0 and the tracker stamps them with its clock; the tracker
 *     asks the source how long the user has been idle (idle_ms) and, when private mode ends, for
 *     the current focus again (resample); in private mode it tells the source to capture nothing
 *     (set_capture false): no title, class or pid is even read;
 *   - event-timed (jsonl, stdin): every item carries its own time; the tracker uses no clock, so
 *     the same input always gives the same records. A resumable one (a regular file) hands a
 *     position with every item; the tracker stores it in the journal in the same atomic write as
 *     the records that item produced, under the source's meta key, and when it is created again
 *     hands the stored position back (seek) before the first dispatch.
 *
 * Strings handed to the sink are borrowed for the call, in any encoding the source got them in
 * as long as it is UTF-8 or meant to be: the tracker stores them through stint_record_set, which
 * repairs and cuts. Sources never block: dispatch reads what is there and returns.
 */
#ifndef STINT_AGENT_SOURCE_H
#define STINT_AGENT_SOURCE_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h" /* the agent's error convention */

/* Largest position a resumable source hands over. */
#define STINT_SOURCE_POS_MAX 128

/* What is in focus. time_ms: Unix ms from the event; 0 from a live source (the tracker stamps).
 * url is as the source had it: the tracker cuts it by url_mode. */
struct stint_sample {
    int64_t time_ms;
    const char *app, *path, *title, *url;
    size_t app_len, path_len, title_len, url_len;
    long pid;          /* the window's process (_NET_WM_PID), 0 unknown: matches a browser */
    bool private_view; /* a private/incognito browser window: a private record, times only */
};

/* Where a resumable source stands: resuming at `data` re-reads the item it came with. */
struct stint_source_pos {
    const void *data;
    size_t len; /* <= STINT_SOURCE_POS_MAX */
};

/* The tracker's side. pos is NULL from a source that cannot resume. A non-OK return (a journal
 * error) is handed back out of stint_source_dispatch. */
struct stint_sink {
    void *ctx;
    /* this is in focus from s->time_ms (or now) */
    enum stint_err (*sample)(void *ctx, const struct stint_sample *s,
                             const struct stint_source_pos *pos);
    /* no input since since_ms (event-timed sources: an "idle": true event at that time) */
    enum stint_err (*idle)(void *ctx, int64_t since_ms, const struct stint_source_pos *pos);
    /* private mode turned on or off at time_ms (0: now) */
    enum stint_err (*private_mode)(void *ctx, bool on, int64_t time_ms,
                                   const struct stint_source_pos *pos);
    /* an input item was refused and skipped: `line` (1-based, 0 if none), a message */
    void (*bad_input)(void *ctx, uint64_t line, const char *msg);
};

#define STINT_SOURCE_LIVE 1u       /* samples at time 0; idle_ms/resample/set_capture work */
#define STINT_SOURCE_EVENT_TIME 2u /* items carry their own times */
#define STINT_SOURCE_RESUMABLE 4u  /* hands positions and resumes from the stored one */

struct stint_source_stats {
    uint64_t items; /* items delivered to the sink */
    uint64_t bad;   /* items refused (bad lines) */
    uint64_t last_bad_line;
    uint64_t lines; /* lines read and handled so far (of the current file) */
    bool ended;     /* the input is over for good (stdin closed); stintd may shut down */
    char last_error[256];
    char detail[256]; /* what the source uses, for status ("wayland wayland-1: ...; idle: ..."); ""
                       */
};

struct stint_source;

struct stint_source_ops {
    const char *name; /* "x11", "jsonl", "stdin" */
    unsigned flags;   /* STINT_SOURCE_* */
    /* fills at most cap pollfds; returns how many */
    int (*fds)(struct stint_source *s, struct pollfd *fds, int cap);
    /* ms until dispatch should run even without a ready fd; -1: only when an fd is ready */
    int64_t (*timeout)(struct stint_source *s);
    /* reads what is ready (fds as returned by poll, in the order fds gave them) */
    enum stint_err (*dispatch)(struct stint_source *s, const struct pollfd *fds, int n);
    /* live: ms since the last input, STINT_EUNSUPPORTED when the source cannot tell */
    enum stint_err (*idle_ms)(struct stint_source *s, int64_t *ms);
    /* live: deliver what is in focus now through the sink */
    enum stint_err (*resample)(struct stint_source *s);
    /* live: false = private mode, read nothing about windows until true again */
    void (*set_capture)(struct stint_source *s, bool on);
    /* live: the tracker's idle_after, for sources told of idle by the compositor at a timeout
     * they set (wayland); others ignore it */
    void (*set_idle_after)(struct stint_source *s, int64_t ms);
    /* resumable: continue at a position it handed out earlier (called before the first
     * dispatch); a position that no longer fits the input (another file) starts it over */
    enum stint_err (*seek)(struct stint_source *s, const void *pos, size_t len);
    void (*stats)(struct stint_source *s, struct stint_source_stats *out);
    void (*destroy)(struct stint_source *s);
};

/* Every source starts with this header (the implementation's struct embeds it first). */
struct stint_source {
    const struct stint_source_ops *ops;
    struct stint_sink sink; /* set by stint_source_set_sink before the first dispatch */
    char meta_key[64];      /* resumable: the journal meta key for its position */
};

/* Opens the source a config names: "auto", "wayland" (display from $WAYLAND_DISPLAY), "gnome"
 * (the session D-Bus), "x11" (display from $DISPLAY), "stdin", "jsonl:PATH". "auto" tries, in
 * order, wayland when WAYLAND_DISPLAY is set, gnome when the desktop helper's D-Bus name
 * (org.stint.Desktop) has an owner, x11 when DISPLAY is set; it fails naming what each said.
 * On success *out belongs to the caller: stint_source_destroy(). Errors:
 * STINT_EINVAL (unknown spec), STINT_EIO (cannot open, no X server, no compositor),
 * STINT_EUNSUPPORTED (a source this build lacks, a compositor without the protocol); e->msg says
 * what and where. */
enum stint_err stint_source_open(const char *spec, struct stint_source **out,
                                 struct stint_error *e);

/* The JSONL source on a path ("-" or NULL: standard input). */
enum stint_err stint_source_jsonl_open(const char *path, struct stint_source **out,
                                       struct stint_error *e);

/* The JSONL source on an fd the caller keeps open (tests, pipes): not resumable. */
enum stint_err stint_source_jsonl_open_fd(int fd, struct stint_source **out, struct stint_error *e);

/* The X11 source; display NULL: $DISPLAY. */
enum stint_err stint_source_x11_open(const char *display, struct stint_source **out,
                                     struct stint_error *e);

/* The Wayland source (wlroots' foreign toplevel protocol); display NULL: $WAYLAND_DISPLAY. */
enum stint_err stint_source_wayland_open(const char *display, struct stint_source **out,
                                         struct stint_error *e);

/* The D-Bus source (GNOME Shell extension, KWin script: desktop/); on the session bus. */
enum stint_err stint_source_gnome_open(struct stint_source **out, struct stint_error *e);

/* True when the session bus is reachable and org.stint.Desktop has an owner ("auto" asks). */
bool stint_source_gnome_present(void);

/* Thin wrappers over the table; the optional ones answer STINT_EUNSUPPORTED / -1 / nothing. */
void stint_source_set_sink(struct stint_source *s, const struct stint_sink *sink);
unsigned stint_source_flags(const struct stint_source *s);
const char *stint_source_name(const struct stint_source *s);
int stint_source_fds(struct stint_source *s, struct pollfd *fds, int cap);
int64_t stint_source_timeout(struct stint_source *s);
enum stint_err stint_source_dispatch(struct stint_source *s, const struct pollfd *fds, int n);
enum stint_err stint_source_idle_ms(struct stint_source *s, int64_t *ms);
enum stint_err stint_source_resample(struct stint_source *s);
void stint_source_set_capture(struct stint_source *s, bool on);
void stint_source_set_idle_after(struct stint_source *s, int64_t ms);
enum stint_err stint_source_seek(struct stint_source *s, const void *pos, size_t len);
void stint_source_stats(struct stint_source *s, struct stint_source_stats *out);
/* NULL is fine. */
void stint_source_destroy(struct stint_source *s);

#endif
