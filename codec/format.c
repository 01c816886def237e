/* format.c — the table of Batch encodings (see format.h). */
#include "stint/format.h"

#include <string.h>

#include "stint/json.h"
#include "stint/legacy.h"

static enum stint_err json_decode(const uint8_t *buf, size_t len, struct stint_batch *head,
                                  stint_record_fn fn, void *ctx, struct stint_decode_info *info,
                                  struct stint_error *err)
{
    return stint_json_decode_batch((const char *)buf, len, head, fn, ctx, info, err);
}

/* The legacy shapes (legacy.h) behind the table's signatures. */
#define LEGACY_CODEC(fname, shape)                                                                 \
    static enum stint_err fname##_decode(const uint8_t *buf, size_t len, struct stint_batch *head, \
                                         stint_record_fn fn, void *ctx,                            \
                                         struct stint_decode_info *info, struct stint_error *err)  \
    {                                                                                              \
        return stint_legacy_decode(shape, (const char *)buf, len, head, fn, ctx, info, err);       \
    }                                                                                              \
    static enum stint_err fname##_encode(const struct stint_batch *head,                           \
                                         struct stint_record_iter *it, struct stint_buf *out)      \
    {                                                                                              \
        return stint_legacy_encode(shape, head, it, out);                                          \
    }

LEGACY_CODEC(php, STINT_LEGACY_PHP)
LEGACY_CODEC(legacy_json, STINT_LEGACY_JSON)
LEGACY_CODEC(form, STINT_LEGACY_FORM)

/* emit only: no decoder */
static enum stint_err php_serialize_encode(const struct stint_batch *head,
                                           struct stint_record_iter *it, struct stint_buf *out)
{
    return stint_legacy_encode(STINT_LEGACY_SERIALIZE, head, it, out);
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
    {"php", "legacy DeskTime array, PHP var_export() text (spec/PROTOCOL.md, legacy payload)",
     "array ( 'now' => '1314172183', 'version' => '1.0.4289', 'log' => array ( 0 => array ( "
     "'app' => 'firefox', ..., 'start' => '1314172181', ), ), ) (one line here; PHP writes "
     "one element a line)",
     false, php_decode, php_encode},
    {"php-serialize", "legacy DeskTime array, PHP serialize() bytes",
     "a:3:{s:3:\"now\";s:10:\"1314172183\";s:7:\"version\";s:8:\"1.0.4289\";s:3:\"log\";"
     "a:1:{i:0;a:5:{s:3:\"app\";s:7:\"firefox\";...}}}",
     false, NULL, php_serialize_encode},
    {"legacy-json", "legacy DeskTime array, PHP json_encode() text",
     "{\"now\":\"1314172183\",\"version\":\"1.0.4289\",\"log\":[{\"app\":\"firefox\","
     "\"path\":\"\\\\Mozilla Firefox\\\\firefox.exe\",...,\"start\":\"1314172181\"}]}",
     false, legacy_json_decode, legacy_json_encode},
    {"form", "legacy DeskTime array, PHP http_build_query() (a form POST body)",
     "now=1314172183&version=1.0.4289&log%5B0%5D%5Bapp%5D=firefox&...&log%5B0%5D%5Bstart%5D="
     "1314172181",
     false, form_decode, form_encode},
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
