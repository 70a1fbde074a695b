/* sealrun-auditd's allow map (uid → tenants), strict JSON. */
#include "policy/audit_allow.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/audit_chain.h"
#include "policy/jsonx.h"
#include "policy/trusted_file.h"

#define ALLOW_MAX_BYTES (1u << 20)

void audit_allow_free(struct audit_allow *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n; i++) {
                for (size_t j = 0; j < a->entries[i].n_tenants; j++)
                        free(a->entries[i].tenants[j]);
                free(a->entries[i].tenants);
        }
        free(a->entries);
        free(a);
}

static int parse_entry(struct jx *x, json_t *v, const char *path, struct audit_allow *a) {
        static const char *const keys[] = { "uid", "tenants", NULL };
        struct audit_allow_entry *en = &a->entries[a->n];
        long long uid;
        json_t *arr = NULL;
        char p[512];
        int r;
        if ((r = jx_object(x, v, path, keys)) < 0 || (r = jx_int(x, v, path, "uid", true, 0, 0xfffffffeLL, &uid)) < 0 ||
            (r = jx_array(x, v, path, "tenants", true, &arr)) < 0)
                return r;
        for (size_t i = 0; i < a->n; i++)
                if (a->entries[i].uid == (uid_t)uid)
                        return jx_fail(x, jx_path(p, sizeof p, path, "uid"), "uid %lld listed twice", uid);
        en->uid = (uid_t)uid;
        en->tenants = calloc(json_array_size(arr) + 1, sizeof *en->tenants);
        if (!en->tenants)
                return sr_fail(x->e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", x->file);
        a->n++;
        for (size_t i = 0; i < json_array_size(arr); i++) {
                json_t *t = json_array_get(arr, i);
                const char *s = json_string_value(t);
                jx_index(p, sizeof p, path, i);
                if (!s || strlen(s) != json_string_length(t))
                        return jx_fail(x, p, "expected a string");
                if (strcmp(s, "*") == 0)
                        en->any = true;
                else if (!slug_valid(s) && strcmp(s, AUDIT_GLOBAL_NAME) != 0)
                        return jx_fail(x, p, "not a tenant slug, \"*\" or \"%s\"", AUDIT_GLOBAL_NAME);
                if ((r = jx_strdup(x, p, s, &en->tenants[en->n_tenants])) < 0)
                        return r;
                en->n_tenants++;
        }
        return 0;
}

int audit_allow_parse(const char *name, const char *buf, size_t len, struct audit_allow **ret, struct sr_error *e) {
        static const char *const keys[] = { "version", "allow", NULL };
        struct jx x = { .file = name, .e = e, .exit_code = SR_EXIT_LAUNCHER };
        struct audit_allow *a = calloc(1, sizeof *a);
        json_t *doc = NULL, *arr = NULL;
        long long version;
        char p[512];
        int r;
        if (!a)
                return sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
        if ((r = jx_load(&x, buf, len, &doc)) < 0 || (r = jx_object(&x, doc, "$", keys)) < 0 ||
            (r = jx_int(&x, doc, "$", "version", true, 1, 1, &version)) < 0 ||
            (r = jx_array(&x, doc, "$", "allow", true, &arr)) < 0)
                goto fail;
        a->entries = calloc(json_array_size(arr) + 1, sizeof *a->entries);
        if (!a->entries) {
                r = sr_fail(e, SR_EXIT_LAUNCHER, ENOMEM, "nomem", "%s: out of memory", name);
                goto fail;
        }
        for (size_t i = 0; i < json_array_size(arr); i++)
                if ((r = parse_entry(&x, json_array_get(arr, i), jx_index(p, sizeof p, "$.allow", i), a)) < 0)
                        goto fail;
        json_decref(doc);
        *ret = a;
        return 0;
fail:
        json_decref(doc);
        audit_allow_free(a);
        return r;
}

int audit_allow_load(const char *path, struct audit_allow **ret, struct sr_error *e) {
        /* whoever can write the map can write any tenant's audit trail */
        static const struct trusted_read how = { .what = "the allow map",
                                                 .reason = "allow-map",
                                                 .perm_reason = "allow-map",
                                                 .perm_exit_code = SR_EXIT_LAUNCHER,
                                                 .max = ALLOW_MAX_BYTES };
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = trusted_file_read(path, &how, &buf, &len, e);
        return r < 0 ? r : audit_allow_parse(path, buf, len, ret, e);
}

bool audit_allow_check(const struct audit_allow *a, uid_t uid, const char *tenant) {
        const char *t = tenant ? tenant : AUDIT_GLOBAL_NAME;
        if (uid == 0)
                return true;
        for (size_t i = 0; a && i < a->n; i++) {
                if (a->entries[i].uid != uid)
                        continue;
                if (a->entries[i].any)
                        return true;
                for (size_t j = 0; j < a->entries[i].n_tenants; j++)
                        if (strcmp(a->entries[i].tenants[j], t) == 0)
                                return true;
        }
        return false;
}
