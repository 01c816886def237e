/* fuzz_legacy_json.c — the legacy reader of json_encode() text (the legacy-json shape).
 *
 * Checked (legacy_check.h): a refusal is well-formed; an accepted payload is a model within every
 * limit and valid UTF-8, seq by position, kind ACTIVE, an open record only last and without end;
 * that model written in every shape reads back to its projection, and writing the projection
 * again gives the same bytes. Memory and nesting are bounded (STINT_LEGACY_MAX_DEPTH,
 * STINT_LEGACY_MAX_VALUES): libFuzzer's -malloc_limit_mb and -rss_limit_mb hold the reader to it.
 *
 * STINT_FUZZ_DICT: legacy_json.dict
 */
#include "legacy_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stint_fuzz_legacy_reader(STINT_LEGACY_JSON, data, size);
    return 0;
}
