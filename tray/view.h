/* view.h — what stint-tray shows for a state line of the control socket's watch request.
 *
 * A pure mapping, kept apart from the loop and the bus so that it is tested as a table
 * (tests/unit/test_tray_view.c): one state line (spec/CONTROL.md, "watch") in, one icon name,
 * tray status, tooltip and menu line out. The texts live in the caller's struct; nothing is
 * allocated.
 */
#ifndef STINT_TRAY_VIEW_H
#define STINT_TRAY_VIEW_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "item.h"

struct stint_tray_view_text {
    char icon[64], title[128], text[512], label[160];
    struct stint_tray_view view; /* points into the arrays above */
};

/* Fills out from a "state" object: mode -> icon stint-MODE (an unknown mode shows as
 * recording), "NeedsAttention" for blocked, the tooltip and the menu's first line; "since" is
 * oldest_ms in local time, as HH:MM when it is the same day as now, else YYYY-MM-DD HH:MM. */
void stint_tray_view_of_state(const json_t *state, time_t now, struct stint_tray_view_text *out);

/* Fills out for stintd not running; why says what was found (no socket, permission denied). */
void stint_tray_view_stopped(const char *why, struct stint_tray_view_text *out);

#endif
