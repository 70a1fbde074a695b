/* Scopes "action:resource:identifier": syntax, coverage and the ceiling (subset) check. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SCOPE_MAX 255

/* action and resource: [a-z0-9][a-z0-9._-]*; identifier: one or more of
 * [A-Za-z0-9._/@+=-], or exactly "*" (the wildcard is only ever the whole
 * identifier: "repo-*" and "*:x:y" are invalid). At most SCOPE_MAX bytes. */
bool scope_valid(const char *s);

/* outer covers inner: same action, same resource, and outer's identifier is
 * "*" or equal to inner's. Invalid scopes never cover and are never covered.
 * A specific identifier does not cover a wildcard one. */
bool scope_covers(const char *outer, const char *inner);

/* Is any scope in `set` covering `s`? */
bool scope_covered_by(const char *s, const char *const *set, size_t n);

/* Every scope of `want` is covered by some scope of `ceiling`. On false,
 * *ret_bad (when non-NULL) is the index of the first scope that is not. */
bool scope_subset(const char *const *want, size_t n_want, const char *const *ceiling, size_t n_ceiling,
                  size_t *ret_bad);
