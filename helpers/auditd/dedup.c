/* sealrun-auditd: recently written events by tenant, task, pid and seq, so a resent event gets one line.
 *
 * A direct-mapped table of 64-bit keys: a lookup is one slot, an insert
 * overwrites whatever sat there. Recent events are what resends hit (a lost
 * ack, a spool drained twice), and a collision can only make a duplicate
 * look new (one extra line), never drop an event. The table is refilled
 * from the tail of each tenant file when the file is opened, so a collector
 * restarted between writing a line and acknowledging it still knows it. */
#include "helpers/auditd/dedup.h"

#include <jansson.h>
#include <string.h>

#define DEDUP_SLOTS (1u << 17)
#define SEED_BYTES (256 * 1024)

struct slot {
        uint64_t key;
        uint64_t line;
};
static struct slot table[DEDUP_SLOTS];

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
        const unsigned char *b = p;
        for (size_t i = 0; i < n; i++)
                h = (h ^ b[i]) * 1099511628211ULL;
        return h;
}

uint64_t auditd_dedup_key(const char *file, const char *task, long long pid, uint64_t seq) {
        uint64_t h = 14695981039346656037ULL;
        h = fnv(h, file, strlen(file) + 1);
        h = fnv(h, task ? task : "", (task ? strlen(task) : 0) + 1);
        h = fnv(h, &pid, sizeof pid);
        h = fnv(h, &seq, sizeof seq);
        return h ? h : 1;
}

bool auditd_dedup_find(uint64_t key, uint64_t *ret_line) {
        struct slot *s = &table[key % DEDUP_SLOTS];
        if (s->key != key)
                return false;
        *ret_line = s->line;
        return true;
}

void auditd_dedup_add(uint64_t key, uint64_t line) {
        table[key % DEDUP_SLOTS] = (struct slot){ key, line };
}

/* Record one stored line: its (task, pid, seq) and, for exit/abandoned, the end key. */
static void seed_line(const char *name, const char *line, size_t len) {
        json_t *doc = json_loadb(line, len, 0, NULL), *ev;
        const char *task, *kind;
        json_int_t pid, seq, lseq;
        if (!doc)
                return;
        ev = json_object_get(doc, "event");
        task = json_string_value(json_object_get(ev, "task"));
        kind = json_string_value(json_object_get(ev, "event"));
        pid = json_integer_value(json_object_get(ev, "pid"));
        seq = json_integer_value(json_object_get(ev, "seq"));
        lseq = json_integer_value(json_object_get(doc, "seq"));
        if (task && kind && pid > 0) {
                if (strcmp(kind, "abandoned") != 0)
                        auditd_dedup_add(auditd_dedup_key(name, task, pid, (uint64_t)seq), (uint64_t)lseq);
                if (strcmp(kind, "exit") == 0 || strcmp(kind, "abandoned") == 0)
                        auditd_dedup_add(auditd_dedup_key(name, task, pid, AUDITD_END_SEQ), (uint64_t)lseq);
        }
        json_decref(doc);
}

void auditd_dedup_seed(int fd, const char *name) {
        struct stat st;
        off_t off;
        char *buf, *p, *nl;
        ssize_t n;
        if (fstat(fd, &st) < 0 || st.st_size == 0)
                return;
        off = st.st_size > SEED_BYTES ? st.st_size - SEED_BYTES : 0;
        if (!(buf = malloc(SEED_BYTES + 1)))
                return;
        n = pread(fd, buf, (size_t)(st.st_size - off), off);
        if (n > 0) {
                buf[n] = 0;
                p = buf;
                if (off > 0 && (p = strchr(buf, '\n')))
                        p++; /* the first line may be cut */
                for (; p && (nl = strchr(p, '\n')); p = nl + 1)
                        seed_line(name, p, (size_t)(nl - p));
        }
        free(buf);
}
