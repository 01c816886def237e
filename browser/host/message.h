/* message.h — the messages the Stint WebExtension sends stint-browser-host, and the line the
 * host forwards to stintd (spec/AGENT.md, "Browser messages").
 *
 * The extension speaks JSON objects with a "type":
 *     {"type":"hello","browser":"firefox","version":"1.0.0"}
 *     {"type":"focus","time":1314172181000,"window":3,"tab":7,"url":"https://…","title":"…",
 *      "private":false}
 *     {"type":"blur","time":1314172182000}      no window of this browser has the focus
 * Unknown members are ignored (a newer extension may add some); an unknown type is refused.
 * The host forwards each accepted message to stintd's control socket as one request line,
 * {"cmd":"browser","pid":PID,...the message's members...}, where PID is the browser's process
 * (the host's parent), which the tracker matches with the window's _NET_WM_PID.
 *
 * Conventions: functions return enum stint_err and fill a struct stint_error (may be NULL) with a
 * message naming the member at fault; inputs are borrowed; nothing is allocated that outlives a
 * call.
 */
#ifndef STINT_BROWSER_MESSAGE_H
#define STINT_BROWSER_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stint/error.h"

/* Longest message a browser may send the host (Chromium and Firefox cap host-bound and
 * extension-bound messages at 1 MiB in practice; the host refuses more). */
#define STINT_BROWSER_MSG_MAX ((uint32_t)1 << 20)
/* URL and title are cut (at a UTF-8 character boundary) to these many bytes before forwarding,
 * so a forwarded line always fits the control socket's 4096-byte line. */
#define STINT_BROWSER_URL_MAX 2048
#define STINT_BROWSER_TITLE_MAX 1024
#define STINT_BROWSER_NAME_MAX 32
/* Longest forwarded line (JSON escaping can grow the strings up to 6 times; the cut above is
 * applied to the escaped form's source, so the line is bounded by this). */
#define STINT_BROWSER_LINE_MAX 4096

enum stint_browser_type {
    STINT_BROWSER_HELLO = 0,
    STINT_BROWSER_FOCUS = 1,
    STINT_BROWSER_BLUR = 2,
};

struct stint_browser_msg {
    enum stint_browser_type type;
    int64_t time_ms; /* focus, blur: Unix ms, >= 0 */
    int64_t window;  /* focus: the browser's window id, >= 0 */
    int64_t tab;     /* focus: the tab id, -1 when absent */
    bool is_private; /* focus: a private (Firefox) or incognito (Chromium) window */
    char url[STINT_BROWSER_URL_MAX + 1];
    char title[STINT_BROWSER_TITLE_MAX + 1];
    char browser[STINT_BROWSER_NAME_MAX + 1]; /* hello: "firefox", "chromium", … */
    char version[STINT_BROWSER_NAME_MAX + 1]; /* hello: the extension's version */
    bool url_cut, title_cut;                  /* focus: cut to the maxima above */
};

/* Parses one message (len bytes of JSON, no NUL needed) into *out. Errors: STINT_EJSON (not
 * JSON), STINT_ETYPE (not an object, a member of the wrong type or out of range, a missing
 * member), STINT_EUNSUPPORTED (an unknown "type"), STINT_ELIMIT (over STINT_BROWSER_MSG_MAX).
 * Private windows: url and title are parsed but blanked, so nothing of a private page leaves
 * this function. */
enum stint_err stint_browser_msg_parse(const char *json, size_t len, struct stint_browser_msg *out,
                                       struct stint_error *e);

/* Writes the control request line for m (with the browser's pid, and no newline) into buf (cap
 * bytes, NUL-terminated) and stores its length in *len. STINT_ELIMIT when cap is too small
 * (STINT_BROWSER_LINE_MAX always suffices). */
enum stint_err stint_browser_msg_line(const struct stint_browser_msg *m, long pid, char *buf,
                                      size_t cap, size_t *len, struct stint_error *e);

/* "hello", "focus", "blur". */
const char *stint_browser_type_name(enum stint_browser_type t);

#endif
