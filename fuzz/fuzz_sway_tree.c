/* fuzz_sway_tree.c — sway's GET_TREE reply as the Wayland source reads it (agent/sway_ipc.c):
 * JSON from another process, walked for the focused node's pid.
 *
 * Input: the app_id looked for, a newline, then the reply. Invariants: the answer is 0 or a pid
 * in 1..INT32_MAX; the same input gives the same answer; a pid found is written in the reply in
 * decimal (it came from a JSON integer, whose digits are the text); an app_id longer than the
 * reply can match no node; deep nesting ends at the depth bound without exhausting the stack.
 *
 * STINT_FUZZ_LIBS: stint_agent_core
 * STINT_FUZZ_DICT: json.dict
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invariants.h"
#include "sway_ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t alen = nl ? (size_t)(nl - data) : 0;
    size_t jlen = nl ? size - alen - 1 : size;
    char *app = malloc(alen + 1), *json = malloc(jlen ? jlen : 1), *longer = malloc(size + 2);
    char digits[24];
    long p1, p2;

    if (!app || !json || !longer) {
        goto cleanup;
    }
    memcpy(app, data, alen);
    app[alen] = '\0';
    if (jlen) {
        memcpy(json, nl ? nl + 1 : data, jlen);
    }
    p1 = stint_sway_tree_focused_pid(json, jlen, app);
    p2 = stint_sway_tree_focused_pid(json, jlen, app);
    STINT_FUZZ_CHECK(p1 >= 0 && p1 <= INT32_MAX, "pid out of range");
    STINT_FUZZ_CHECK(p1 == p2, "not deterministic");
    if (p1) {
        snprintf(digits, sizeof(digits), "%ld", p1);
        STINT_FUZZ_CHECK(memmem(json, jlen, digits, strlen(digits)) != NULL,
                         "a pid that is not in the reply");
    }
    memset(longer, 'a', size + 1);
    longer[size + 1] = '\0';
    STINT_FUZZ_CHECK(stint_sway_tree_focused_pid(json, jlen, longer) == 0,
                     "an app_id longer than the reply matched");
cleanup:
    free(app);
    free(json);
    free(longer);
    return 0;
}
