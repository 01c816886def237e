/* fuzz_tray_state.c — what stint-tray makes of the control socket's watch stream.
 *
 * Two steps of one path, each fed arbitrary JSON: stintd's summary of a status answer
 * (stint_control_watch_state, agent/control.c), and stint-tray's view of a state line
 * (stint_tray_view_of_state, tray/view.c). Invariants: the summary's mode is one of the six
 * words of spec/CONTROL.md §4.7 and the view of that summary shows the icon of that mode; any
 * object, however odd its members, gives one of the seven known icons, a status of "Active" or
 * "NeedsAttention" (the latter exactly for blocked), and texts that end inside their buffers.
 *
 * STINT_FUZZ_LIBS: stint_agent_core stint_tray_core
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "control.h"
#include "invariants.h"
#include "view.h"

static const char *const modes[] = {"recording", "private", "idle",
                                    "offline",   "sending", "blocked"};

static void check_view(const struct stint_tray_view_text *vt)
{
    bool known = false;
    size_t i;

    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strncmp(vt->icon, "stint-", 6) == 0 && strcmp(vt->icon + 6, modes[i]) == 0)
            known = true;
    STINT_FUZZ_CHECK(known, "unknown icon %s", vt->icon);
    STINT_FUZZ_CHECK(strcmp(vt->view.status, "Active") == 0 ||
                         strcmp(vt->view.status, "NeedsAttention") == 0,
                     "status %s", vt->view.status);
    STINT_FUZZ_CHECK((strcmp(vt->view.status, "NeedsAttention") == 0) ==
                         (strcmp(vt->icon, "stint-blocked") == 0),
                     "NeedsAttention with icon %s", vt->icon);
    STINT_FUZZ_CHECK(memchr(vt->title, '\0', sizeof(vt->title)) &&
                         memchr(vt->text, '\0', sizeof(vt->text)) &&
                         memchr(vt->label, '\0', sizeof(vt->label)),
                     "a text runs off its buffer");
    STINT_FUZZ_CHECK(vt->view.icon == vt->icon && vt->view.tip_text == vt->text,
                     "the view does not point at its texts");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stint_tray_view_text vt;
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL), *sum = NULL;
    const char *mode;
    char want[64];

    if (!in)
        return 0;
    /* the input as a state line */
    stint_tray_view_of_state(in, 1700000000, &vt);
    check_view(&vt);
    /* the input as a status answer: stintd's summary, then the tray's view of it */
    sum = stint_control_watch_state(in);
    STINT_FUZZ_CHECK(sum != NULL, "no summary");
    mode = json_string_value(json_object_get(sum, "mode"));
    STINT_FUZZ_CHECK(mode != NULL, "a summary without mode");
    stint_tray_view_of_state(sum, 1700000000, &vt);
    check_view(&vt);
    snprintf(want, sizeof(want), "stint-%s", mode);
    STINT_FUZZ_CHECK(strcmp(vt.icon, want) == 0, "mode %s shown as %s", mode, vt.icon);
    json_decref(sum);
    json_decref(in);
    return 0;
}
