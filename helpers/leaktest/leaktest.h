/* sealrun-leaktest: types shared by the leak smoke test's modules (canaries, scanner, places, report). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "policy/util.h"

/* ---- canaries and their encodings (canary.c, pure) ---- */

#define CANARY_TEXT_LEN 32 /* printable canaries: 32 chars, ~165 bits */
#define CANARY_BIN_LEN 24  /* binary canaries (value_base64): 24 random bytes */
#define CANARY_MAX_LEN 64
#define CANARY_LABEL_MAX 80
/* Longest rendering of a canary of n bytes (URL-encoding: 3 bytes per byte). */
#define ENC_OUT_MAX(n) (3 * (n) + 8)

/* Every form a credential's bytes are looked for in. A base64 copy depends on
 * where the canary sits in the encoded blob (offset mod 3): one pattern per
 * alignment, cut to the characters that only the canary's bits decide. */
enum lt_enc {
        ENC_RAW,
        ENC_RAW_HEAD, /* first half: a truncated or half-wiped copy */
        ENC_RAW_TAIL, /* second half */
        ENC_B64_0,
        ENC_B64_1,
        ENC_B64_2,
        ENC_B64URL_0,
        ENC_B64URL_1,
        ENC_B64URL_2,
        ENC_HEX_LC,
        ENC_HEX_UC,
        ENC_URL_UC, /* percent-encoding, %2F */
        ENC_URL_LC, /* percent-encoding, %2f */
        ENC_UTF16LE,
        ENC__MAX,
};

const char *enc_name(enum lt_enc enc);
/* Render the canary v[0..n) in encoding enc into out (at least ENC_OUT_MAX(n)
 * bytes). Returns the length, 0 when the encoding yields nothing usable. */
size_t enc_render(enum lt_enc enc, const uint8_t *v, size_t n, uint8_t *out);
/* Fill out[0..n) with a random printable canary: alphanumerics with a
 * character that URL-encoding escapes (":@$,;=+") at every 4th position, so
 * that raw and URL-encoded forms differ, and none that JSON escapes. */
void canary_text(uint8_t *out, size_t n);
/* Fill out[0..n) with random bytes (binary credentials, value_base64). */
void canary_binary(uint8_t *out, size_t n);
/* Standard base64 with padding of v[0..n) into out (4*((n+2)/3)+1 bytes), NUL-terminated. */
size_t b64_encode(const uint8_t *v, size_t n, char *out);

/* A canary: the secret bytes live in the secure arena, the label is what
 * reports show ("a/github_token"): an owner slug and a credential name. */
struct canary {
        char label[CANARY_LABEL_MAX];
        int owner;    /* index of the profile it was sealed in */
        uint8_t *val; /* sodium_malloc'd */
        size_t len;
};

/* ---- the scanner (scan.c, pure) ---- */

struct pattern;

struct scanner {
        struct pattern *pats;
        size_t n_pats;
        uint32_t *heads; /* bucket heads by hash of the first 4 bytes */
        uint64_t *bits;  /* bitmap of non-empty buckets */
        uint8_t *bytes;  /* every rendered pattern, sodium_malloc'd */
        size_t bytes_size;
        size_t n_canaries;
        size_t minlen, maxlen;
};

/* Called for each hit: canary index, encoding and offset of its first byte
 * in the stream. Return non-zero to stop the scan. */
typedef int (*scan_hit_fn)(void *ud, size_t canary, enum lt_enc enc, uint64_t offset);

int scanner_init(struct scanner *s, const struct canary *c, size_t n);
void scanner_free(struct scanner *s);

/* A stream of chunks scanned as one byte sequence: hits across chunk
 * boundaries are found, and a hit that lies inside an already reported one
 * of the same canary (the half-canary patterns) is not reported again. */
struct scan_stream {
        const struct scanner *s;
        scan_hit_fn cb;
        void *ud;
        uint8_t *carry; /* last maxlen-1 bytes seen */
        size_t n_carry;
        uint64_t pos;       /* stream offset of the next byte fed */
        uint64_t *last_end; /* per canary: end of the last reported hit */
        size_t hits;
        bool stopped;
};

int scan_stream_init(struct scan_stream *st, const struct scanner *s, scan_hit_fn cb, void *ud);
/* Start a new independent stream (offsets from base) reusing the buffers. */
void scan_stream_reset(struct scan_stream *st, uint64_t base);
void scan_stream_feed(struct scan_stream *st, const uint8_t *buf, size_t len);
/* The stream ended: try the last positions with what is left. */
void scan_stream_finish(struct scan_stream *st);
void scan_stream_free(struct scan_stream *st);
/* One buffer, offsets from base. Returns the number of hits reported. */
size_t scan_buffer(const struct scanner *s, const uint8_t *buf, size_t len, uint64_t base, scan_hit_fn cb, void *ud);

/* ---- /proc/PID/maps and smaps (maps.c, pure parser) ---- */

struct map_entry {
        uint64_t start, end, offset, inode;
        char perms[5];
        char path[256];
        int64_t rss_kb;  /* -1 when the source had no Rss line (maps) */
        int64_t swap_kb; /* -1 when the source had no Swap line */
        char flags[160]; /* smaps VmFlags, "" when absent */
};

/* Parse the text of /proc/PID/maps or /proc/PID/smaps. *ret is malloc'd. */
int maps_parse(const char *text, size_t len, struct map_entry **ret, size_t *ret_n);
/* Whether a two-letter VmFlags flag ("dd", "lo") is set. */
bool map_has_flag(const struct map_entry *m, const char *flag);
/* The mapping holding addr, or NULL. */
const struct map_entry *maps_find(const struct map_entry *m, size_t n, uint64_t addr);

/* ---- places and the report (report.c) ---- */

enum verdict { V_PASS, V_FAIL, V_NA };

/* Where something was found: never the canary itself, only where and how. */
struct place {
        pid_t pid;                   /* 0 when not a process */
        char what[160];              /* "supervisor environ", "file", "mem [heap]" ... */
        char file[300];              /* path, or "" */
        int64_t offset;              /* byte offset (mem: address), -1 when none */
        char enc[16];                /* encoding, or "" */
        char cred[CANARY_LABEL_MAX]; /* label of the canary, or "" */
};

struct row {
        int vector;  /* 0 = setup / delivery controls, 1..12 as in the issue, 13 = self-test, 14 = tripwire */
        char id[64]; /* stable across runs and versions: "environ.other-uid" */
        char check[200];
        enum verdict v;
        char detail[2048]; /* never cut mid-word: see lt_append */
        struct place *places;
        size_t n_places;
};

#define REPORT_MAX_ROWS 256

/* What a CI log needs to tell two runs apart (meta.c). */
struct report_meta {
        char started[32], finished[32]; /* RFC 3339, UTC */
        char kernel[200];               /* uname: sysname release version machine */
        char sealrun_version[96];       /* first line of `sealrun --version`, "" when unknown */
        char policy[200];               /* the policy the fleet ran under */
        char policy_hash[65];           /* BLAKE2b-256 of its bytes (hex), "" when none */
};

struct report {
        struct row *rows;
        size_t n;
        const char *mode;    /* "run" or "self-test" */
        const char *sealrun; /* what was tested */
        size_t canaries, patterns;
        struct report_meta meta;
};

struct row *report_add(struct report *r, int vector, enum verdict v, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void row_detail(struct row *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Give row a stable id; a second row asking for the same id gets "-2", "-3"... */
void row_id(struct report *r, struct row *row, const char *id);
/* Append sep + text to dst[size]; when it does not fit, cut at the last
 * word boundary that does and end with " [...]", never mid-word. */
void lt_append(char *dst, size_t size, const char *sep, const char *text);
void row_place(struct row *row, const struct place *p);
/* A row fails when a place is added with fail = true. */
void row_fail_place(struct row *row, const struct place *p);
size_t report_failed(const struct report *r);
void report_print_table(FILE *f, const struct report *r);
/* One place as one line of text ("pid 12 mem [heap] @0x7f.. as hex (a/tok)"). */
void report_place_text(const struct place *p, char *buf, size_t size);
void report_print_json(FILE *f, const struct report *r);
/* JUnit XML (report_junit.c): one testcase per row, named by its id. */
void report_print_junit(FILE *f, const struct report *r);
/* Fill the metadata (meta.c); `when` 0 = started, 1 = finished. */
void meta_time(struct report_meta *m, int when);
void meta_host(struct report_meta *m, const char *sealrun);
void meta_policy(struct report_meta *m, const char *what, const char *path);
void report_free(struct report *r);
const char *vector_name(int vector);

/* ---- the run's state and where hits go (lt.c) ---- */

#define LT_MAX_OWNERS 16
#define LT_MAX_CANARIES 96
#define LT_PLACES_PER_ROW 40

/* A profile's canaries belong to an owner: a tenant's working profile ("a"),
 * or a profile that must be refused ("tampered"), whose canaries must then
 * appear nowhere at all. */
struct owner {
        char name[24];
        char tenant[64];
        size_t hits; /* places where any of its canaries was found */
        struct place first;
};

struct lt {
        struct canary canaries[LT_MAX_CANARIES];
        size_t n_canaries;
        bool nowhere[LT_MAX_CANARIES];     /* must not reach even its own sandbox (ungranted scope) */
        bool broker_only[LT_MAX_CANARIES]; /* brokered: only the egress broker (sealrun-proxy) may hold it */
        size_t forbidden[LT_MAX_CANARIES]; /* places where it was found and must not be */
        struct place first_forbidden[LT_MAX_CANARIES];
        struct owner owners[LT_MAX_OWNERS];
        size_t n_owners;
        struct scanner scanner;
        bool scanner_ready;
        struct report report;
        /* options */
        bool json, keep, verbose;
        const char *sealrun, *sealctl, *auditd;
        char self_exe[4096];
        char dir[4096]; /* the run's private directory */
        time_t started;
};

int lt_owner_new(struct lt *lt, const char *name, const char *tenant);
/* A new canary of `owner` for credential `name`; text or binary. Index, or -errno. */
int lt_canary_new(struct lt *lt, int owner, const char *name, bool binary);
int lt_scanner_build(struct lt *lt);
/* Cut every canary (in any encoding) out of a string: "[label as enc]" instead. */
void lt_redact(const struct lt *lt, char *s, size_t size);
void lt_redact_report(const struct lt *lt, struct report *rep);
void lt_free(struct lt *lt);

/* Where the hits of one scan go: a forbidden hit becomes a FAIL place on
 * `row`; canaries of `allowed_owner` are tolerated (a payload's own
 * credentials in the payload) unless marked nowhere. */
struct sink {
        struct lt *lt;
        struct row *row;
        struct place base;  /* pid, what, file: filled by the caller */
        int allowed_owner;  /* -1: nothing is allowed here */
        bool allow_nowhere; /* the decrypting process: even the ungranted ones */
        bool allow_broker;  /* the egress broker: brokered canaries too */
        /* memory scans: the mappings, so a hit names its mapping */
        const struct map_entry *maps;
        size_t n_maps;
        /* the decrypting process: allowed hits must sit in dd (and lo) pages */
        struct row *row_dd, *row_lo;
        size_t forbidden, allowed;
};

void sink_init(struct sink *k, struct lt *lt, struct row *row, pid_t pid, const char *what, const char *file,
               int allowed_owner);
int sink_hit(void *ud, size_t canary, enum lt_enc enc, uint64_t off);
/* Scan one buffer into a sink. */
void sink_scan(struct sink *k, const void *buf, size_t len);

/* ---- processes (proc.c) ---- */

struct proc_info {
        pid_t pid, ppid;
        char comm[20];
};

/* Read /proc/PID/<name> whole (up to max bytes). -ENOENT/-ESRCH: gone; -EACCES/-EPERM: not readable. */
int proc_read(pid_t pid, const char *name, size_t max, char **ret, size_t *ret_len);
/* Scan /proc/PID/<name> (environ, cmdline). 0, or -errno as proc_read. */
int proc_scan_file(struct sink *k, pid_t pid, const char *name);

struct mem_stats {
        uint64_t scanned, skipped_big_rss_kb;
        size_t maps, skipped_big;
};
/* Scan every readable, resident mapping of pid through /proc/PID/mem. */
int proc_scan_mem(struct sink *k, pid_t pid, struct mem_stats *st);
/* Scan the contents of the regular files (memfds included) open in pid;
 * names every fd in *ret_list (malloc'd text, "fd -> target" lines) when non-NULL. */
int proc_scan_fds(struct sink *k, pid_t pid, char **ret_list);
/* 1 when a process with the target's own uid/gid and no capabilities can
 * read its /proc/PID/environ (the target is dumpable), 0 when not, -errno
 * when that cannot be told (gone; not root and not the same uid). */
int proc_dumpable_probe(pid_t pid);
/* RLIMIT_CORE of pid from /proc/PID/limits (UINT64_MAX = unlimited). */
int proc_rlimit_core(pid_t pid, uint64_t *soft, uint64_t *hard);
/* uid line of /proc/PID/status: real, effective. */
int proc_uids(pid_t pid, uid_t *ruid, uid_t *euid, gid_t *egid);
/* Snapshot of every process. */
int proc_table(struct proc_info **ret, size_t *ret_n);
bool proc_is_descendant(const struct proc_info *t, size_t n, pid_t pid, pid_t ancestor);
pid_t proc_first_child(const struct proc_info *t, size_t n, pid_t parent);
/* Memory cgroup limits of pid: 1 when swap is limited to 0 (v2 memory.swap.max
 * = 0, or v1 memsw limit equal to the memory limit), 0 otherwise. */
int proc_swap_limited(pid_t pid);
bool host_has_swap(void);

/* ---- files (files.c) ---- */

struct walk_stats {
        size_t dirs, names, scanned, unreadable, skipped_big;
        uint64_t bytes;
};

/* Walk root: every entry's name is scanned, and the contents of regular
 * files whose ctime or mtime is at or after `since`: a canary made for this
 * run can only be in a file written during it. */
int files_walk(struct sink *k, const char *root, time_t since, struct walk_stats *st);
/* Scan one regular file's contents. */
int files_scan_one(struct sink *k, const char *path);

/* ---- internal modes of the same binary ---- */

/* Inside the sandbox: report what the payload sees and dump everything it can read. */
int payload_main(int argc, char **argv);
/* The fleet worker stand-in: runs sealrun once, reports, waits to be released. */
int worker_main(int argc, char **argv);
/* A planted leak for --self-test: holds the canary bytes it reads on stdin. */
int hold_main(int argc, char **argv);
