/* The egress proxy's HTTP/1.1 request-head parser: CONNECT and absolute-URI
 * forward requests only, strict enough that the proxy and the server can never
 * disagree on where a request ends or which host it is for. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "policy/egress_rules.h"

#define EGRESS_HTTP_MAX_HEAD 16384
#define EGRESS_HTTP_MAX_HEADERS 100

enum egress_http_kind { EHTTP_CONNECT, EHTTP_FORWARD };

struct egress_http_req {
        enum egress_http_kind kind;
        char host[EGRESS_HOST_MAX + 3]; /* as sent in the target ("[v6]" kept) */
        uint16_t port;
        size_t head_len; /* bytes of the head, final CRLFCRLF included */
        char *upstream;  /* FORWARD: the head to send (origin-form,
                          * proxy headers dropped, Connection: close) */
        size_t upstream_len;
        const char *why; /* on -EINVAL: what was wrong (static text) */
};

/* Parse the head at the start of buf[0..len). 0: complete (ret filled, the
 * caller frees with egress_http_req_free); -EAGAIN: need more bytes; -EINVAL:
 * refused (bad syntax or ambiguous framing: duplicate Host, Host that is not
 * the target's authority, obs-fold, bare CR or LF, CL with TE, duplicate CL);
 * -E2BIG: no complete head within EGRESS_HTTP_MAX_HEAD bytes. */
int egress_http_parse(const char *buf, size_t len, struct egress_http_req *ret);
void egress_http_req_free(struct egress_http_req *r);

/* An HTTP token character (RFC 9110 tchar). */
bool egress_http_tchar(char c);
/* Where a request head in buf[0..len) ends: its length through the blank
 * line, 0 when the blank line is not there yet, -EBADMSG (with *ret_why)
 * when a bare CR or LF or a NUL comes first: every CR must start CRLF and
 * every LF end one, checked on what is there so far, so a bad byte is
 * refused without waiting for more. Looks at the first max bytes only. */
long egress_http_head_end(const char *buf, size_t len, size_t max, const char **ret_why);
/* One header line [p, line_end) (no CRLF): the name's length and the value
 * without surrounding blanks, or the refusal (a name missing or not a token,
 * a control character in the value). Shared with the broker's parser. */
const char *egress_http_field(const char *p, const char *line_end, size_t *ret_name_len, const char **ret_value,
                              const char **ret_value_end);
