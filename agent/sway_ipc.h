/* sway_ipc.h — the one question the Wayland source asks sway's own IPC: the pid of the focused
 * window (wlroots' toplevel protocol carries no pid). The message format is sway's (i3's):
 * "i3-ipc", a 32-bit payload length and a 32-bit type in the host's byte order, then the
 * payload; GET_TREE (type 4) answers the whole window tree as JSON.
 *
 * Conventions: strings are borrowed; nothing is kept between calls; no function blocks longer
 * than STINT_SWAY_TIMEOUT_MS.
 */
#ifndef STINT_AGENT_SWAY_IPC_H
#define STINT_AGENT_SWAY_IPC_H

#include <stddef.h>

/* The largest GET_TREE reply read, and the longest wait for it. */
#define STINT_SWAY_REPLY_MAX (16u << 20)
#define STINT_SWAY_TIMEOUT_MS 500
/* Deepest node nesting walked (sway's trees are a handful of levels deep). */
#define STINT_SWAY_DEPTH_MAX 64

/* The pid of the focused node of a GET_TREE reply (json, len bytes, not NUL-terminated), when
 * that node's app_id (or, for an Xwayland window, its X11 class) is `app`; 0 otherwise: not
 * JSON, no focused node, another app (the focus moved on meanwhile), no pid or one outside
 * 1..INT32_MAX, or the node deeper than STINT_SWAY_DEPTH_MAX. */
long stint_sway_tree_focused_pid(const char *json, size_t len, const char *app);

/* Asks sway at its IPC socket `path` for GET_TREE and returns stint_sway_tree_focused_pid of
 * the answer; 0 when it cannot connect, does not answer within STINT_SWAY_TIMEOUT_MS, or answers
 * something else. */
long stint_sway_focused_pid(const char *path, const char *app);

#endif
