/* fuzz_pb_nanopb.c — the v1 protobuf decoders on nanopb (stint_pb_*), the agent's path and what
 * the collector runs on every POST /v1/batches body.
 *
 * The same bytes go to the three decoders (Batch, Record, Ack): the wire format is loose enough
 * that one input often means something to each. Checked beyond "no crash" (invariants.h):
 * limits and UTF-8 of every string handed over, the error record of every refusal, the record
 * count reported equal to the records delivered, and no heap allocation while decoding a record
 * or a batch (pb.h: "No heap allocation per record"; scratch memory is on the stack).
 *
 * STINT_FUZZ_DICT: pb.dict
 */
#include <string.h>

#include "invariants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stint_batch head;
    static struct stint_record rec;
    struct stint_decode_info info = {0, 0};
    struct stint_error err;
    struct stint_ack ack;
    enum stint_err ret;
    uint64_t delivered = 0;
    long allocs;

    stint_fuzz_alloc_begin();
    ret = stint_pb_decode_batch(data, size, &head, stint_fuzz_record_fn, &delivered, &info, &err);
    allocs = stint_fuzz_alloc_end();
    STINT_FUZZ_CHECK(allocs <= 0, "nanopb batch decode allocated %ld times", allocs);
    stint_fuzz_check_result(ret, &err, size, "stint_pb_decode_batch");
    if (ret == STINT_OK) {
        stint_fuzz_check_batch(&head);
        STINT_FUZZ_CHECK(info.records == delivered, "batch: info.records %llu, delivered %llu",
                         (unsigned long long)info.records, (unsigned long long)delivered);
    }

    stint_fuzz_alloc_begin();
    ret = stint_pb_decode_record(data, size, &rec, &info, &err);
    allocs = stint_fuzz_alloc_end();
    STINT_FUZZ_CHECK(allocs <= 0, "nanopb record decode allocated %ld times", allocs);
    stint_fuzz_check_result(ret, &err, size, "stint_pb_decode_record");
    if (ret == STINT_OK)
        stint_fuzz_check_record(&rec, "record");

    ret = stint_pb_decode_ack(data, size, &ack, &info, &err);
    stint_fuzz_check_result(ret, &err, size, "stint_pb_decode_ack");
    if (ret == STINT_OK) {
        stint_fuzz_check_ack(&ack);
        stint_ack_free(&ack);
    } else {
        STINT_FUZZ_CHECK(ack.rejected == NULL && ack.n_rejected == 0,
                         "ack refused but rejections left to free");
    }
    return 0;
}
