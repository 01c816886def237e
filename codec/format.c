/* format.c — the table of Batch encodings (see format.h). */
#include "stint/format.h"

#include <string.h>

#include "stint/json.h"

static enum stint_err json_decode(const uint8_t *buf, size_t len, struct stint_batch *head,
                                  stint_record_fn fn, void *ctx, struct stint_decode_info *info,
                                  struct stint_error *err)
{
    return stint_json_decode_batch((const char *)buf, len, head, fn, ctx, info, err);
}

static const struct stint_format formats[] = {
    {"pb", "stint.v1.Batch, protobuf binary (the wire format; spec/PROTOCOL.md)",
     "(binary) 0a 10 <agent_id> 12 08 \"1.0.4289\" 18 <now_ms> 22 <record> ...", true,
     stint_pb_decode_batch, stint_pb_encode_batch},
    {"json", "stint.v1.Batch, canonical proto3 JSON mapping",
     "{\"clientVersion\":\"1.0.4289\",\"nowMs\":\"1314172183000\",\"records\":[{\"seq\":\"1\","
     "\"startMs\":\"1314172181000\",\"endMs\":\"1314172183000\",\"kind\":\"KIND_ACTIVE\","
     "\"app\":\"firefox\"}]}",
     false, json_decode, stint_json_encode_batch},
};

const struct stint_format *stint_format_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}

const struct stint_format *stint_format_at(size_t i)
{
    return i < sizeof(formats) / sizeof(formats[0]) ? &formats[i] : NULL;
}
