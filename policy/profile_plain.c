/* Plaintext of a sealed profile: parsed in locked memory, validated, never quoted in errors. */
#include "policy/profile.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/egress_rules.h"
#include "policy/jsonx.h"
#include "policy/scope.h"

/* Like jx_object, but an unknown key is not named: in a plaintext profile a
 * mistyped structure could put a secret where a key name goes. */
static int plain_object(struct jx *x, json_t *v, const char *path, const char *const *allowed) {
        const char *k;
        json_t *val;
        if (!json_is_object(v))
                return jx_fail(x, path, "expected an object");
        json_object_foreach(v, k, val) {
                bool ok = false;
                for (size_t i = 0; allowed[i]; i++)
                        if (strcmp(allowed[i], k) == 0)
                                ok = true;
                if (!ok) {
                        char list[128] = "";
                        for (size_t i = 0; allowed[i]; i++)
                                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                                         allowed[i]);
                        return jx_fail(x, path, "unknown key (allowed: %s)", list);
                }
        }
        return 0;
}


/* ---- "bind": where a brokered credential may go (policy/binding.h) ------ */

static char *arena_str(struct secmem *m, const char *s) {
        return secmem_strndup(m, s, strlen(s));
}

/* RFC 9110 token characters. */
static bool http_token(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!(isalnum((unsigned char)*s) || strchr("!#$%&'*+-.^_`|~", *s)))
                        return false;
        return true;
}

/* Headers the broker itself frames or routes by: injecting into one of them
 * would let a credential change where or how a request goes. */
static bool header_reserved(const char *h) {
        static const char *const bad[] = {
                "host",       "content-length", "transfer-encoding",   "connection",       "upgrade", "te", "trailer",
                "keep-alive", "expect",         "proxy-authorization", "proxy-connection", NULL
        };
        for (size_t i = 0; bad[i]; i++)
                if (strcasecmp(bad[i], h) == 0)
                        return true;
        return false;
}

/* One "hosts" entry: an exact name or "*.suffix", canonicalised the way the
 * egress rules are, so a binding and a rule never see two spellings of one
 * name. Addresses are refused: a binding names the host whose certificate
 * the broker verifies. The host is not quoted: the input is the plaintext. */
static int bind_host(struct jx *x, struct secmem *m, json_t *v, const char *path, const char **ret) {
        struct egress_host h;
        const char *s;
        bool wild;
        char buf[EGRESS_HOST_MAX + 3];
        if (!json_is_string(v))
                return jx_fail(x, path, "expected a string");
        s = json_string_value(v);
        wild = strncmp(s, "*.", 2) == 0;
        if (strchr(wild ? s + 2 : s, '*'))
                return jx_fail(x, path, "a wildcard is allowed only as a leading \"*.\" label");
        if (strlen(s) > EGRESS_HOST_MAX || egress_host_canon(wild ? s + 2 : s, &h) < 0)
                return jx_fail(x, path, "not a host name");
        if (h.kind != EH_NAME)
                return jx_fail(x, path, "an address, not a host name (bind names, pin addresses under \"resolve\")");
        if (wild && !strchr(h.name, '.'))
                return jx_fail(x, path, "\"*.\" needs a suffix of at least two labels");
        snprintf(buf, sizeof buf, "%s%s", wild ? "*." : "", h.name);
        return (*ret = arena_str(m, buf)) ? 0 : -ENOMEM;
}

static bool bind_covers(const struct cred_binding *b, const char *name) {
        for (size_t i = 0; i < b->n_hosts; i++) {
                const char *h = b->hosts[i];
                if (h[0] == '*') {
                        size_t nl = strlen(name), sl = strlen(h + 1); /* ".suffix" */
                        if (nl > sl && strcmp(name + nl - sl, h + 1) == 0)
                                return true;
                } else if (strcmp(h, name) == 0)
                        return true;
        }
        return false;
}

static int bind_resolve(struct jx *x, struct secmem *m, json_t *o, const char *path, struct cred_binding *b) {
        const char *k;
        json_t *arr;
        char p[512], ip[512];
        size_t n = 0;
        if (!json_is_object(o))
                return jx_fail(x, path, "expected an object of host names to address lists");
        if (json_object_size(o) > BINDING_MAX_PINS)
                return jx_fail(x, path, "too many names (%zu > %d)", json_object_size(o), BINDING_MAX_PINS);
        json_object_foreach(o, k, arr) {
                struct binding_pin *pin = &b->pins[n];
                struct egress_host h;
                /* the key is named by position only: it is plaintext */
                snprintf(p, sizeof p, "%s{%zu}", path, n);
                if (strlen(k) > EGRESS_HOST_MAX || egress_host_canon(k, &h) < 0 || h.kind != EH_NAME)
                        return jx_fail(x, p, "not a host name");
                if (!bind_covers(b, h.name))
                        return jx_fail(x, p, "a name that is not among the binding's hosts");
                for (size_t j = 0; j < n; j++)
                        if (strcmp(b->pins[j].host, h.name) == 0)
                                return jx_fail(x, p, "the same name twice");
                if (!(pin->host = arena_str(m, h.name)))
                        return -ENOMEM;
                if (!json_is_array(arr) || json_array_size(arr) == 0)
                        return jx_fail(x, p, "expected a non-empty array of IP addresses");
                if (json_array_size(arr) > BINDING_MAX_PIN_ADDRS)
                        return jx_fail(x, p, "too many addresses (%zu > %d)", json_array_size(arr),
                                       BINDING_MAX_PIN_ADDRS);
                for (size_t i = 0; i < json_array_size(arr); i++) {
                        json_t *a = json_array_get(arr, i);
                        struct egress_host ah;
                        jx_index(ip, sizeof ip, p, i);
                        if (!json_is_string(a) || strlen(json_string_value(a)) > EGRESS_HOST_MAX ||
                            egress_host_canon(json_string_value(a), &ah) < 0 || ah.kind == EH_NAME)
                                return jx_fail(x, ip, "not an IP address literal");
                        if (!(pin->addrs[i] = arena_str(m, ah.name)))
                                return -ENOMEM;
                        pin->n_addrs = i + 1;
                }
                b->n_pins = ++n;
        }
        return 0;
}

/* Structure only (the markers, printable text); sealctl seal parses every
 * certificate with OpenSSL, and the broker does again when it loads them. */
static int bind_ca(struct jx *x, struct secmem *m, json_t *v, const char *path, struct cred_binding *b) {
        static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
        const char *s;
        size_t n;
        if (!json_is_string(v))
                return jx_fail(x, path, "expected a string of PEM certificates");
        s = json_string_value(v);
        n = json_string_length(v);
        if (n > BINDING_CA_MAX)
                return jx_fail(x, path, "larger than %d bytes", BINDING_CA_MAX);
        for (size_t i = 0; i < n; i++)
                if ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') || s[i] == 0x7f)
                        return jx_fail(x, path, "not PEM text (control characters)");
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
                s++;
        if (strncmp(s, begin, sizeof begin - 1) != 0 || !strstr(s, end))
                return jx_fail(x, path, "expected PEM certificates (\"%s\" ... \"%s\")", begin, end);
        return (b->ca_pem = arena_str(m, json_string_value(v))) ? 0 : -ENOMEM;
}

/* A value that goes into a header as is (bearer, header) must be one field
 * value: no control characters (CR/LF would split the request), no leading
 * or trailing whitespace. Basic's value is base64-encoded by the broker. */
static int bind_value(struct jx *x, const char *path, const struct profile_cred *c) {
        const uint8_t *v = c->value;
        size_t n = c->value_len;
        if (n == 0)
                return jx_fail(x, path, "a bound credential's value is empty");
        if (c->bind->inject == BIND_BASIC)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (v[i] < 0x20 || v[i] == 0x7f)
                        return jx_fail(x, path, "a bound value must fit one header field (no control characters)");
        if (v[0] == ' ' || v[n - 1] == ' ')
                return jx_fail(x, path, "a bound value must not start or end with a space");
        return 0;
}

static int parse_bind(struct jx *x, struct secmem *m, json_t *o, const char *path, struct cred_binding **ret) {
        static const char *const keys[] = { "hosts", "port", "inject", "header", "user", "resolve", "ca_pem", NULL };
        const char *inject, *header = NULL, *user = NULL;
        struct cred_binding *b;
        json_t *hosts, *v;
        long long port = 443;
        char p[512], ip[512];
        int r;
        if ((r = plain_object(x, o, path, keys)) < 0 || (r = jx_array(x, o, path, "hosts", true, &hosts)) < 0 ||
            (r = jx_int(x, o, path, "port", false, 1, 65535, &port)) < 0 ||
            (r = jx_string(x, o, path, "inject", true, &inject)) < 0 ||
            (r = jx_string(x, o, path, "header", false, &header)) < 0 ||
            (r = jx_string(x, o, path, "user", false, &user)) < 0)
                return r;
        if (!(b = secmem_alloc(m, sizeof *b)))
                return -ENOMEM;
        memset(b, 0, sizeof *b);
        b->port = (uint16_t)port;
        jx_path(p, sizeof p, path, "hosts");
        if (json_array_size(hosts) == 0 || json_array_size(hosts) > BINDING_MAX_HOSTS)
                return jx_fail(x, p, "expected 1 to %d host names", BINDING_MAX_HOSTS);
        for (size_t i = 0; i < json_array_size(hosts); i++) {
                jx_index(ip, sizeof ip, p, i);
                if ((r = bind_host(x, m, json_array_get(hosts, i), ip, &b->hosts[i])) < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(b->hosts[j], b->hosts[i]) == 0)
                                return jx_fail(x, ip, "the same host twice");
                b->n_hosts = i + 1;
        }
        if (strcmp(inject, "bearer") == 0)
                b->inject = BIND_BEARER;
        else if (strcmp(inject, "basic") == 0)
                b->inject = BIND_BASIC;
        else if (strcmp(inject, "header") == 0)
                b->inject = BIND_HEADER;
        else
                return jx_fail(x, jx_path(p, sizeof p, path, "inject"), "must be \"bearer\", \"basic\" or \"header\"");
        jx_path(p, sizeof p, path, "header");
        if (b->inject != BIND_HEADER && header)
                return jx_fail(x, p, "only with \"inject\": \"header\"");
        if (b->inject == BIND_HEADER) {
                if (!header)
                        return jx_fail(x, p, "missing (\"inject\": \"header\" names the header)");
                if (strlen(header) > BINDING_HEADER_MAX || !http_token(header))
                        return jx_fail(x, p, "not an HTTP header name (a token of at most %d characters)",
                                       BINDING_HEADER_MAX);
                if (header_reserved(header))
                        return jx_fail(x, p, "a header the broker frames or routes by cannot carry a credential");
                if (!(b->header = arena_str(m, header)))
                        return -ENOMEM;
                for (char *h = (char *)b->header; *h; h++)
                        *h = (char)tolower((unsigned char)*h);
        }
        jx_path(p, sizeof p, path, "user");
        if (b->inject != BIND_BASIC && user)
                return jx_fail(x, p, "only with \"inject\": \"basic\"");
        if (b->inject == BIND_BASIC) {
                if (!user)
                        return jx_fail(x, p, "missing (\"inject\": \"basic\" needs the user name)");
                if (strlen(user) > 255 || strchr(user, ':'))
                        return jx_fail(x, p, "must be at most 255 characters without ':'");
                for (const char *u = user; *u; u++)
                        if ((unsigned char)*u < 0x20 || *u == 0x7f)
                                return jx_fail(x, p, "must not contain control characters");
                if (!(b->user = arena_str(m, user)))
                        return -ENOMEM;
        }
        if ((v = json_object_get(o, "resolve")) &&
            (r = bind_resolve(x, m, v, jx_path(p, sizeof p, path, "resolve"), b)) < 0)
                return r;
        if ((v = json_object_get(o, "ca_pem")) && (r = bind_ca(x, m, v, jx_path(p, sizeof p, path, "ca_pem"), b)) < 0)
                return r;
        *ret = b;
        return 0;
}

static int parse_value(struct jx *x, struct secmem *m, json_t *o, const char *path, struct profile_cred *c) {
        json_t *v = json_object_get(o, "value"), *b = json_object_get(o, "value_base64");
        char p[512];
        if (!!v == !!b)
                return jx_fail(x, path, "exactly one of \"value\" and \"value_base64\" is required");
        if (v) {
                uint8_t *d;
                /* never jx_string: its messages are fine, but be explicit that
                 * nothing about the value's content is reported */
                if (!json_is_string(v))
                        return jx_fail(x, jx_path(p, sizeof p, path, "value"), "expected a string");
                c->value_len = json_string_length(v);
                if (memchr(json_string_value(v), 0, c->value_len))
                        return jx_fail(x, jx_path(p, sizeof p, path, "value"),
                                       "contains a NUL byte (use value_base64)");
                if (!(d = secmem_alloc(m, c->value_len + 1)))
                        return -ENOMEM;
                memcpy(d, json_string_value(v), c->value_len);
                d[c->value_len] = 0;
                c->value = d;
                return 0;
        }
        if (!json_is_string(b))
                return jx_fail(x, jx_path(p, sizeof p, path, "value_base64"), "expected a string");
        const char *s = json_string_value(b), *end = NULL;
        size_t n = json_string_length(b), cap = n / 4 * 3 + 3, len = 0;
        uint8_t *d = secmem_alloc(m, cap + 1);
        if (!d)
                return -ENOMEM;
        if (sodium_base642bin(d, cap, s, n, NULL, &len, &end, sodium_base64_VARIANT_ORIGINAL) < 0 || *end ||
            n % 4 != 0) {
                secmem_release(m, d);
                return jx_fail(x, jx_path(p, sizeof p, path, "value_base64"),
                               "not valid base64 (standard alphabet, padded)");
        }
        d[len] = 0;
        c->value = d;
        c->value_len = len;
        return 0;
}

static int parse_cred(struct jx *x, struct secmem *m, json_t *o, const char *path, struct profile_cred *c) {
        static const char *const keys[] = { "name", "value", "value_base64", "as", "scope", "bind", NULL };
        const char *name, *as = "file", *scope = NULL;
        char p[512];
        int r;
        if ((r = plain_object(x, o, path, keys)) < 0 || (r = jx_string(x, o, path, "name", true, &name)) < 0 ||
            (r = jx_string(x, o, path, "as", false, &as)) < 0 ||
            (r = jx_string(x, o, path, "scope", false, &scope)) < 0)
                return r;
        if (!cred_name_valid(name))
                return jx_fail(x, jx_path(p, sizeof p, path, "name"),
                               "must be 1-255 printable ASCII characters without '/' and not \".\" or \"..\"");
        if (strcmp(as, "file") == 0)
                c->as = CRED_FILE;
        else if (strcmp(as, "env") == 0)
                c->as = CRED_ENV;
        else if (strcmp(as, "both") == 0)
                c->as = CRED_BOTH;
        else
                return jx_fail(x, jx_path(p, sizeof p, path, "as"), "must be \"file\", \"env\" or \"both\"");
        if ((c->as & CRED_ENV) && !env_name_valid(name))
                return jx_fail(x, jx_path(p, sizeof p, path, "name"),
                               "\"%s\" is not an environment variable name, but \"as\" asks for env delivery", name);
        if (scope && !scope_valid(scope))
                return jx_fail(x, jx_path(p, sizeof p, path, "scope"),
                               "not a scope \"action:resource:identifier\" ('*' only as the whole identifier)");
        if ((r = parse_value(x, m, o, path, c)) < 0)
                return r;
        if ((c->as & CRED_ENV) && memchr(c->value, 0, c->value_len))
                return jx_fail(x, path, "an env credential's value cannot contain a NUL byte");
        if (json_object_get(o, "bind")) {
                struct cred_binding *b = NULL;
                if ((r = parse_bind(x, m, json_object_get(o, "bind"), jx_path(p, sizeof p, path, "bind"), &b)) < 0)
                        return r;
                c->bind = b;
                if ((r = bind_value(x, jx_path(p, sizeof p, path, "value"), c)) < 0)
                        return r;
        }
        if (!(c->name = secmem_strndup(m, name, strlen(name))) ||
            (scope && !(c->scope = secmem_strndup(m, scope, strlen(scope)))))
                return -ENOMEM;
        return 0;
}

static int parse_doc(struct jx *x, struct secmem *m, json_t *root, struct profile_plain *p) {
        static const char *const keys[] = { "tenant", "credentials", NULL };
        const char *tenant;
        json_t *creds;
        char ip[512];
        size_t n;
        int r;
        if ((r = plain_object(x, root, "$", keys)) < 0 || (r = jx_string(x, root, "$", "tenant", true, &tenant)) < 0 ||
            (r = jx_array(x, root, "$", "credentials", true, &creds)) < 0)
                return r;
        if (!slug_valid(tenant))
                return jx_fail(x, "$.tenant", "not a valid tenant slug");
        n = json_array_size(creds);
        if (n > PROFILE_MAX_CREDS)
                return jx_fail(x, "$.credentials", "too many credentials (%zu > %d)", n, PROFILE_MAX_CREDS);
        if (!(p->tenant = secmem_strndup(m, tenant, strlen(tenant))) ||
            !(p->creds = secmem_alloc(m, (n ? n : 1) * sizeof *p->creds)))
                return -ENOMEM;
        memset(p->creds, 0, (n ? n : 1) * sizeof *p->creds);
        for (size_t i = 0; i < n; i++) {
                jx_index(ip, sizeof ip, "$.credentials", i);
                if ((r = parse_cred(x, m, json_array_get(creds, i), ip, &p->creds[i])) < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(p->creds[j].name, p->creds[i].name) == 0)
                                return jx_fail(x, ip, "duplicate credential name \"%s\"", p->creds[i].name);
                p->n_creds = i + 1;
        }
        return 0;
}

/* jx_load, minus its stack copy of the error: jansson's error text quotes
 * the input near the error, and this input is secret. The depth limit is
 * jx_load's, applied by parsing a copy of the structure only. */
static int plain_load(struct jx *x, const uint8_t *buf, size_t len, json_t **ret) {
        json_error_t je;
        json_t *v;
        int depth = 0, max_depth = 0;
        bool in_str = false;
        for (size_t i = 0; i < len; i++) {
                uint8_t c = buf[i];
                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = false;
                } else if (c == '"')
                        in_str = true;
                else if (c == '{' || c == '[') {
                        if (++depth > max_depth)
                                max_depth = depth;
                } else if (c == '}' || c == ']')
                        depth--;
        }
        if (max_depth > 32)
                return jx_fail(x, "$", "document nested deeper than 32 levels");
        v = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!v) {
                char p[64];
                snprintf(p, sizeof p, "line %d column %d", je.line, je.column);
                sodium_memzero(&je, sizeof je);
                return jx_fail(x, p, "invalid JSON");
        }
        sodium_memzero(&je, sizeof je);
        *ret = v;
        return 0;
}

int profile_plain_parse(const char *name, struct secmem *m, const uint8_t *buf, size_t len, int exit_code,
                        struct profile_plain *ret, struct sr_error *e) {
        struct jx x = { .file = name, .e = e, .exit_code = exit_code, .secret = true };
        struct profile_plain p = { .arena = m };
        json_t *root = NULL;
        int r;

        secmem_json_push(m);
        r = plain_load(&x, buf, len, &root);
        if (r == 0)
                r = parse_doc(&x, m, root, &p);
        json_decref(root);
        secmem_json_pop();
        /* jansson's frames below this one may hold pieces of the plaintext,
         * and so may the register save area of a lazily bound call */
        secmem_wipe_stack();
        if (r == -ENOMEM)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem",
                               "%s: cannot allocate locked memory for the plaintext (RLIMIT_MEMLOCK?)", name);
        if (r < 0) {
                if (e)
                        snprintf(e->reason, sizeof e->reason, "bad-plaintext");
                return r;
        }
        *ret = p;
        return 0;
}
