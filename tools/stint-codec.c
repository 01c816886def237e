/* stint-codec — convert and validate Stint's encodings from the command line.
 *
 *   stint-codec convert --from FMT --to FMT [--type batch|record|ack] [IN [OUT]]
 *   stint-codec validate --format FMT [--type batch|record|ack] FILE
 *   stint-codec formats
 *
 * Exit status: 0 success, 1 invalid input (the codec's message on stderr), 2 usage error,
 * 3 I/O error. Records stream from decoder to encoder through a spool of their v1 encodings,
 * so memory stays near the size of the input.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stint/stint.h"

#define EXIT_INVALID 1
#define EXIT_USAGE 2
#define EXIT_IO 3

#ifndef STINT_VERSION
#define STINT_VERSION "0"
#endif

static void usage(FILE *f)
{
    size_t i;
    const struct stint_format *fmt;

    fprintf(f, "Usage:\n"
               "  stint-codec convert --from FMT --to FMT [--type TYPE] [IN [OUT]]\n"
               "  stint-codec validate --format FMT [--type TYPE] FILE\n"
               "  stint-codec formats\n"
               "\n"
               "Converts or checks Stint batches, records and acks between encodings.\n"
               "IN and OUT default to standard input and output; '-' names them too.\n"
               "\n"
               "Options:\n"
               "  --from FMT     encoding of the input\n"
               "  --to FMT       encoding of the output\n"
               "  --format FMT   encoding of the file to validate\n"
               "  --type TYPE    message: batch (default), record or ack; record and ack\n"
               "                 exist in pb and json only\n"
               "  -h, --help     this text\n"
               "  --version      the version\n"
               "\n"
               "Formats (a batch in each):\n");
    for (i = 0; (fmt = stint_format_at(i)) != NULL; i++) {
        fprintf(f, "  %-14s %s%s\n", fmt->name, fmt->summary,
                fmt->decode_batch ? "" : " (output only)");
        fprintf(f, "  %-14s   e.g. %s\n", "", fmt->example);
    }
    fprintf(f, "\n"
               "Examples:\n"
               "  stint-codec convert --from pb --to json batch.pb\n"
               "  stint-codec convert --from json --to pb batch.json batch.pb\n"
               "  stint-codec validate --format pb batch.pb\n"
               "\n"
               "Exit status: 0 ok; 1 invalid input (the message names the field and byte\n"
               "offset); 2 usage error; 3 file could not be read or written.\n");
}

enum msg_type { T_BATCH, T_RECORD, T_ACK };

static int read_all(const char *path, struct stint_buf *out)
{
    FILE *f = (!path || strcmp(path, "-") == 0) ? stdin : fopen(path, "rb");
    const char *name = f == stdin ? "standard input" : path;
    int rc = 0;

    if (!f) {
        fprintf(stderr, "stint-codec: cannot open %s: %s\n", name, strerror(errno));
        return EXIT_IO;
    }
    for (;;) {
        size_t n;
        if (stint_buf_reserve(out, 65536) != STINT_OK) {
            fprintf(stderr, "stint-codec: %s: out of memory\n", name);
            rc = EXIT_IO;
            break;
        }
        n = fread(out->data + out->len, 1, 65536, f);
        out->len += n;
        if (out->len > STINT_DECODE_MAX_INPUT) {
            fprintf(stderr, "stint-codec: %s: larger than the %zu-byte input limit\n", name,
                    STINT_DECODE_MAX_INPUT);
            rc = EXIT_INVALID;
            break;
        }
        if (n < 65536) {
            if (ferror(f)) {
                fprintf(stderr, "stint-codec: cannot read %s: %s\n", name, strerror(errno));
                rc = EXIT_IO;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    return rc;
}

static int write_all(const char *path, const struct stint_buf *b)
{
    FILE *f = (!path || strcmp(path, "-") == 0) ? stdout : fopen(path, "wb");
    const char *name = f == stdout ? "standard output" : path;
    int bad;

    if (!f) {
        fprintf(stderr, "stint-codec: cannot create %s: %s\n", name, strerror(errno));
        return EXIT_IO;
    }
    bad = b->len && fwrite(b->data, 1, b->len, f) != b->len;
    bad |= (f == stdout ? fflush(f) : fclose(f)) != 0;
    if (bad) {
        fprintf(stderr, "stint-codec: cannot write %s: %s\n", name, strerror(errno));
        return EXIT_IO;
    }
    return 0;
}

static int parse_type(const char *s, enum msg_type *t)
{
    if (strcmp(s, "batch") == 0)
        *t = T_BATCH;
    else if (strcmp(s, "record") == 0)
        *t = T_RECORD;
    else if (strcmp(s, "ack") == 0)
        *t = T_ACK;
    else
        return -1;
    return 0;
}

static bool is_pb(const struct stint_format *f)
{
    return strcmp(f->name, "pb") == 0;
}

static bool is_json(const struct stint_format *f)
{
    return strcmp(f->name, "json") == 0;
}

/* Decodes `in` as type t in format `from`; when `to` is not NULL, encodes it into *out. */
static enum stint_err run(const struct stint_buf *in, enum msg_type t,
                          const struct stint_format *from, const struct stint_format *to,
                          struct stint_buf *out, struct stint_decode_info *info,
                          struct stint_error *err)
{
    enum stint_err e = STINT_OK;
    const char *text = (const char *)in->data;
    const uint8_t *bytes = in->data;
    static const uint8_t empty[1];

    if (!bytes)
        bytes = empty, text = (const char *)empty;
    if (t == T_BATCH) {
        struct stint_spool spool = {{0}, 0, 0};
        struct stint_batch *head = malloc(sizeof(*head));
        struct stint_record_iter it;

        if (!head)
            return STINT_ENOMEM;
        e = from->decode_batch(bytes, in->len, head, to ? stint_spool_fn : NULL, &spool, info, err);
        if (e == STINT_OK && to) {
            it = stint_spool_iter(&spool);
            e = to->encode_batch(head, &it, out);
            if (e != STINT_OK)
                stint_error_set(err, e, 0, "encoding %s: %s", to->name, stint_strerror(e));
        }
        stint_spool_free(&spool);
        free(head);
    } else if (t == T_RECORD) {
        struct stint_record *r = malloc(sizeof(*r));

        if (!r)
            return STINT_ENOMEM;
        e = is_pb(from) ? stint_pb_decode_record(bytes, in->len, r, info, err)
                        : stint_json_decode_record(text, in->len, r, info, err);
        if (e == STINT_OK && to)
            e = is_pb(to) ? stint_pb_encode_record(r, out) : stint_json_encode_record(r, out);
        free(r);
    } else {
        struct stint_ack a;

        e = is_pb(from) ? stint_pb_decode_ack(bytes, in->len, &a, info, err)
                        : stint_json_decode_ack(text, in->len, &a, info, err);
        if (e == STINT_OK && to)
            e = is_pb(to) ? stint_pb_encode_ack(&a, out) : stint_json_encode_ack(&a, out);
        stint_ack_free(&a);
    }
    return e;
}

static const struct stint_format *need_format(const char *name, const char *opt)
{
    const struct stint_format *f;

    if (!name) {
        fprintf(stderr, "stint-codec: %s FMT is required (see --help)\n", opt);
        return NULL;
    }
    f = stint_format_find(name);
    if (!f)
        fprintf(stderr,
                "stint-codec: unknown format '%s' for %s; 'stint-codec formats' lists them\n", name,
                opt);
    return f;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
                                         {"to", required_argument, NULL, 't'},
                                         {"format", required_argument, NULL, 'F'},
                                         {"type", required_argument, NULL, 'T'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    const char *from_name = NULL, *to_name = NULL, *fmt_name = NULL, *cmd;
    const struct stint_format *from, *to = NULL;
    struct stint_buf in = {0}, out = {0};
    struct stint_decode_info info = {0, 0};
    struct stint_error err;
    enum msg_type type = T_BATCH;
    enum stint_err e;
    bool validate;
    int c, rc = 0;
    const char *inpath = NULL, *outpath = NULL;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            from_name = optarg;
            break;
        case 't':
            to_name = optarg;
            break;
        case 'F':
            fmt_name = optarg;
            break;
        case 'T':
            if (parse_type(optarg, &type) != 0) {
                fprintf(stderr, "stint-codec: --type must be batch, record or ack, not '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("stint-codec %s\n", STINT_VERSION);
            return 0;
        default:
            fprintf(stderr, "Try 'stint-codec --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    cmd = argv[optind++];
    if (strcmp(cmd, "formats") == 0) {
        const struct stint_format *f;
        size_t i;
        for (i = 0; (f = stint_format_at(i)) != NULL; i++)
            printf("%-14s %s%s\n", f->name, f->summary, f->decode_batch ? "" : " (output only)");
        return 0;
    }
    if (strcmp(cmd, "convert") == 0) {
        validate = false;
        if (fmt_name) {
            fprintf(stderr, "stint-codec: convert takes --from and --to, not --format\n");
            return EXIT_USAGE;
        }
        if (!(from = need_format(from_name, "--from")) || !(to = need_format(to_name, "--to")))
            return EXIT_USAGE;
        if (argc - optind > 2) {
            fprintf(stderr, "stint-codec: convert takes at most IN and OUT\n");
            return EXIT_USAGE;
        }
        inpath = optind < argc ? argv[optind] : NULL;
        outpath = optind + 1 < argc ? argv[optind + 1] : NULL;
    } else if (strcmp(cmd, "validate") == 0) {
        validate = true;
        if (from_name || to_name) {
            fprintf(stderr, "stint-codec: validate takes --format, not --from/--to\n");
            return EXIT_USAGE;
        }
        if (!(from = need_format(fmt_name, "--format")))
            return EXIT_USAGE;
        if (argc - optind != 1) {
            fprintf(stderr, "stint-codec: validate takes exactly one FILE ('-' for stdin)\n");
            return EXIT_USAGE;
        }
        inpath = argv[optind];
    } else {
        fprintf(stderr, "stint-codec: unknown command '%s' (convert, validate, formats)\n", cmd);
        return EXIT_USAGE;
    }
    if (!from->decode_batch) {
        fprintf(stderr, "stint-codec: format '%s' is output only: it cannot be read\n", from->name);
        return EXIT_USAGE;
    }
    if (type != T_BATCH &&
        (!(is_pb(from) || is_json(from)) || (to && !(is_pb(to) || is_json(to))))) {
        fprintf(stderr, "stint-codec: --type record and ack exist in pb and json only\n");
        return EXIT_USAGE;
    }
    rc = read_all(inpath, &in);
    if (rc)
        goto cleanup;
    stint_error_clear(&err);
    e = run(&in, type, from, validate ? NULL : to, &out, &info, &err);
    if (e != STINT_OK) {
        fprintf(stderr, "stint-codec: %s: %s: %s\n",
                inpath && strcmp(inpath, "-") ? inpath : "stdin", stint_strerror(e),
                err.msg[0] ? err.msg : "-");
        rc = e == STINT_ENOMEM ? EXIT_IO : EXIT_INVALID;
        goto cleanup;
    }
    if (validate) {
        printf("%s: valid %s %s", inpath, from->name,
               type == T_BATCH    ? "batch"
               : type == T_RECORD ? "record"
                                  : "ack");
        if (type == T_BATCH)
            printf(", %" PRIu64 " records", info.records);
        printf(", %" PRIu64 " unknown fields skipped\n", info.unknown_fields);
    } else {
        if (!to->binary && out.len && out.data[out.len - 1] != '\n' && is_json(to))
            stint_buf_append(&out, "\n", 1);
        rc = write_all(outpath, &out);
    }
cleanup:
    stint_buf_free(&in);
    stint_buf_free(&out);
    return rc;
}
