/* fuzz_roundtrip_legacy.c — model -> each legacy shape -> read back -> the same model (its
 * projection), for the shapes that have a reader.
 *
 * The input is a v1 protobuf Batch (so the corpus is that of the pb harnesses): whatever nanopb
 * accepts is a valid model, which stint_fuzz_legacy_roundtrip() writes as var_export, serialize,
 * json_encode and http_build_query text, reads back (php, legacy-json, form) and compares with
 * the projection of spec/PROTOCOL.md, "Legacy payload" computed independently in legacy_check.c;
 * writing the projection must give the same bytes as writing the model.
 *
 * STINT_FUZZ_DICT: pb.dict
 */
#include <string.h>

#include "legacy_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stint_batch head;
    struct stint_spool spool;
    struct stint_error err;

    memset(&spool, 0, sizeof(spool));
    if (stint_pb_decode_batch(data, size, &head, stint_spool_fn, &spool, NULL, &err) == STINT_OK)
        stint_fuzz_legacy_roundtrip(&head, &spool);
    stint_spool_free(&spool);
    return 0;
}
