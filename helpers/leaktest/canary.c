/* Canaries: random credential values and every encoding a copy of one could take. */
#include "helpers/leaktest/leaktest.h"

#include <sodium.h>
#include <string.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char HEXL[] = "0123456789abcdef";
static const char HEXU[] = "0123456789ABCDEF";

const char *enc_name(enum lt_enc enc) {
        static const char *const names[ENC__MAX] = {
                [ENC_RAW] = "raw",
                [ENC_RAW_HEAD] = "raw-head",
                [ENC_RAW_TAIL] = "raw-tail",
                [ENC_B64_0] = "base64",
                [ENC_B64_1] = "base64+1",
                [ENC_B64_2] = "base64+2",
                [ENC_B64URL_0] = "base64url",
                [ENC_B64URL_1] = "base64url+1",
                [ENC_B64URL_2] = "base64url+2",
                [ENC_HEX_LC] = "hex",
                [ENC_HEX_UC] = "HEX",
                [ENC_URL_UC] = "url",
                [ENC_URL_LC] = "url-lc",
                [ENC_UTF16LE] = "utf16le",
        };
        return enc >= 0 && enc < ENC__MAX && names[enc] ? names[enc] : "?";
}

/* The characters of base64(s filler bytes ‖ v) that depend on v alone: the
 * first ones mix in filler bits (2 chars for s=1, 3 for s=2), the last
 * partial one mixes in whatever follows. */
static size_t b64_aligned(const char *alpha, unsigned s, const uint8_t *v, size_t n, uint8_t *out) {
        static const unsigned skip[3] = { 0, 2, 3 };
        size_t total = s + n, nchars = (8 * total) / 6, o = 0;
        uint32_t acc = 0;
        unsigned nbits = 0;
        size_t ci = 0;

        for (size_t i = 0; i < total; i++) {
                acc = (acc << 8) | (i < s ? 0 : v[i - s]);
                nbits += 8;
                while (nbits >= 6) {
                        nbits -= 6;
                        if (ci >= skip[s] && ci < nchars)
                                out[o++] = (uint8_t)alpha[(acc >> nbits) & 63];
                        ci++;
                }
                acc &= (1u << nbits) - 1;
        }
        return o;
}

size_t b64_encode(const uint8_t *v, size_t n, char *out) {
        size_t o = 0;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t x = (uint32_t)v[i] << 16;
                if (i + 1 < n)
                        x |= (uint32_t)v[i + 1] << 8;
                if (i + 2 < n)
                        x |= v[i + 2];
                out[o++] = B64[(x >> 18) & 63];
                out[o++] = B64[(x >> 12) & 63];
                out[o++] = i + 1 < n ? B64[(x >> 6) & 63] : '=';
                out[o++] = i + 2 < n ? B64[x & 63] : '=';
        }
        out[o] = '\0';
        return o;
}

static bool url_unreserved(uint8_t c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~';
}

size_t enc_render(enum lt_enc enc, const uint8_t *v, size_t n, uint8_t *out) {
        size_t o = 0;
        bool changed = false;

        switch (enc) {
        case ENC_RAW: memcpy(out, v, n); return n;
        case ENC_RAW_HEAD: memcpy(out, v, n / 2); return n / 2;
        case ENC_RAW_TAIL: memcpy(out, v + n / 2, n - n / 2); return n - n / 2;
        case ENC_B64_0:
        case ENC_B64_1:
        case ENC_B64_2: return b64_aligned(B64, (unsigned)(enc - ENC_B64_0), v, n, out);
        case ENC_B64URL_0:
        case ENC_B64URL_1:
        case ENC_B64URL_2: return b64_aligned(B64URL, (unsigned)(enc - ENC_B64URL_0), v, n, out);
        case ENC_HEX_LC:
        case ENC_HEX_UC: {
                const char *h = enc == ENC_HEX_LC ? HEXL : HEXU;
                for (size_t i = 0; i < n; i++) {
                        out[o++] = (uint8_t)h[v[i] >> 4];
                        out[o++] = (uint8_t)h[v[i] & 15];
                }
                return o;
        }
        case ENC_URL_UC:
        case ENC_URL_LC: {
                const char *h = enc == ENC_URL_UC ? HEXU : HEXL;
                for (size_t i = 0; i < n; i++) {
                        if (url_unreserved(v[i])) {
                                out[o++] = v[i];
                                continue;
                        }
                        out[o++] = '%';
                        out[o++] = (uint8_t)h[v[i] >> 4];
                        out[o++] = (uint8_t)h[v[i] & 15];
                        changed = true;
                }
                return changed ? o : 0; /* identical to raw: nothing new to look for */
        }
        case ENC_UTF16LE:
                for (size_t i = 0; i < n; i++) {
                        out[o++] = v[i];
                        out[o++] = 0;
                }
                return o;
        default: return 0;
        }
}

void canary_text(uint8_t *out, size_t n) {
        static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        static const char reserved[] = ":@$,;=+";
        for (size_t i = 0; i < n; i++) {
                if (i % 4 == 3)
                        out[i] = (uint8_t)reserved[randombytes_uniform(sizeof reserved - 1)];
                else
                        out[i] = (uint8_t)alnum[randombytes_uniform(sizeof alnum - 1)];
        }
}

void canary_binary(uint8_t *out, size_t n) {
        randombytes_buf(out, n);
}
