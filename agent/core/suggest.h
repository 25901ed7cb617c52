/* suggest.h — "did you mean": the known name closest to a word that is not
 * known (config settings and names, expression metrics, command-line names).
 *
 * Distance is Levenshtein's, case-insensitive (one edit per inserted, deleted
 * or replaced character). A candidate is suggested only when it is at most
 * max_edits away and fewer edits away than the word has characters (so "x"
 * never suggests "y"). Ties go to the first candidate offered.
 *
 * Cost: a candidate whose length differs by more than the bound is skipped
 * without work, and the distance of the others is computed in a band around
 * the diagonal that stops as soon as the bound is passed, so one lookup over
 * 100,000 names is a few milliseconds. Call it only for a word that is not
 * known (it never is for a valid config). */
#ifndef PHAROS_SUGGEST_H
#define PHAROS_SUGGEST_H

#include <stddef.h>

#define SUGGEST_WORD_MAX 64     /* longer words and candidates are never compared */

/* A lookup in progress, for candidates that are not in one array: init,
 * offer each candidate, then read best (NULL: none is close enough). */
struct suggest {
	char word[SUGGEST_WORD_MAX + 1];    /* lower-cased */
	size_t len;                         /* 0: the word is too long, suggest nothing */
	size_t max_edits;
	const char *best;                   /* borrowed from the caller's candidates */
	size_t best_d;
};

/* Starts a lookup for the first len bytes of word (need not be terminated). */
void suggest_init(struct suggest *s, const char *word, size_t len, size_t max_edits);
/* Considers cand (NULL is ignored); cand must outlive the lookup. */
void suggest_offer(struct suggest *s, const char *cand);

/* The closest of the n candidates to word (NUL-terminated), or NULL. */
const char *suggest_closest(const char *word, const char *const *cands, size_t n, size_t max_edits);

#endif
