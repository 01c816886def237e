/* jsonl_event.h — one line of the JSONL event format (spec/AGENT.md section 1), parsed.
 *
 * Conventions: a parser is made once per source and reused for every line (it keeps its
 * scratch buffers, so a line costs no allocation of ours once they have grown to the longest
 * line). What a parse hands back (the strings of struct stint_jsonl_event) is borrowed from the
 * parser and valid until its next parse or its destruction. Not thread-safe: one parser per
 * thread. The caller caps the line (the JSONL source refuses lines over 64 KiB before parsing).
 */
#ifndef STINT_AGENT_JSONL_EVENT_H
#define STINT_AGENT_JSONL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stint/error.h"

enum stint_jsonl_kind {
    STINT_JSONL_FOCUS = 0,  /* a sample: app, path, title, url */
    STINT_JSONL_IDLE = 1,   /* "idle": true */
    STINT_JSONL_PRIVATE = 2 /* "private": true or false (private_on) */
};

struct stint_jsonl_event {
    enum stint_jsonl_kind kind;
    int64_t time_ms; /* 1 ..= 253402300799999 */
    bool private_on;
    const char *app, *path, *title, *url; /* valid UTF-8, no NUL; "" when absent or null */
    size_t app_len, path_len, title_len, url_len;
};

struct stint_jsonl_parser;

/* Makes a parser. On success *out belongs to the caller: release it with
 * stint_jsonl_parser_destroy(). Errors: STINT_ENOMEM. */
enum stint_err stint_jsonl_parser_create(struct stint_jsonl_parser **out);

/* NULL is fine. */
void stint_jsonl_parser_destroy(struct stint_jsonl_parser *p);

/* Parses one line (n bytes, no newline; surrounding blanks are allowed). STINT_OK fills *ev.
 * A line that is not a valid event gives STINT_EJSON (not JSON: a syntax error, a duplicate
 * member at any depth, invalid UTF-8, a NUL or a lone surrogate in a string) or STINT_ETYPE
 * (JSON, but not an object or a member of the wrong type or range), with the message of
 * spec/AGENT.md in msg ("not JSON (column C): ...", "no \"time\"", ...; msgcap bytes at most,
 * NUL-terminated); STINT_ENOMEM when an allocation failed. */
enum stint_err stint_jsonl_parse(struct stint_jsonl_parser *p, const char *line, size_t n,
                                 struct stint_jsonl_event *ev, char *msg, size_t msgcap);

#endif
