/* suggest.c — "did you mean" (suggest.h): a bounded, banded edit distance. */
#include <stdint.h>
#include <string.h>

#include "core/suggest.h"

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The case-insensitive edit distance of a (lower-cased, na bytes) and b (nb
 * bytes), or limit + 1 as soon as it is known to be above limit. Only cells
 * within limit of the diagonal can hold a distance <= limit, so only those
 * are computed; cells outside the band count as limit + 1. The smallest
 * value of a row never decreases from one row to the next, so a row whose
 * every cell is past limit ends the computation. */
static size_t distance_within(const char *a, size_t na, const char *b, size_t nb, size_t limit)
{
	size_t row[SUGGEST_WORD_MAX + 1];
	const size_t out = limit + 1;

	for (size_t j = 0; j <= nb; j++)
		row[j] = j <= limit ? j : out;
	for (size_t i = 1; i <= na; i++) {
		size_t lo = i > limit ? i - limit : 1;
		size_t hi = i + limit < nb ? i + limit : nb;
		size_t diag = row[lo - 1];
		size_t row_min;

		row[lo - 1] = i <= limit && lo == 1 ? i : out;    /* column 0 is i */
		row_min = row[lo - 1];
		for (size_t j = lo; j <= hi; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != lower(b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (best > out)
				best = out;
			row[j] = best;
			diag = up;
			if (best < row_min)
				row_min = best;
		}
		if (hi < nb)
			row[hi + 1] = out;          /* the cell right of the band */
		if (row_min > limit)
			return out;
	}
	return row[nb];
}

void suggest_init(struct suggest *s, const char *word, size_t len, size_t max_edits)
{
	s->len = len <= SUGGEST_WORD_MAX ? len : 0;
	for (size_t i = 0; i < s->len; i++)
		s->word[i] = lower(word[i]);
	s->word[s->len] = '\0';
	s->max_edits = max_edits;
	s->best = NULL;
	s->best_d = SIZE_MAX;
}

void suggest_offer(struct suggest *s, const char *cand)
{
	size_t limit, nc, d;

	if (cand == NULL || s->len == 0 || s->best_d == 0)
		return;
	/* Only a strictly better candidate counts (ties go to the first); the
	 * word's own length bounds it too. */
	limit = s->max_edits < s->len - 1 ? s->max_edits : s->len - 1;
	if (s->best != NULL && s->best_d - 1 < limit)
		limit = s->best_d - 1;
	nc = strnlen(cand, SUGGEST_WORD_MAX + 1);
	if (nc > SUGGEST_WORD_MAX || (nc > s->len ? nc - s->len : s->len - nc) > limit)
		return;
	d = distance_within(s->word, s->len, cand, nc, limit);
	if (d <= limit) {
		s->best = cand;
		s->best_d = d;
	}
}

const char *suggest_closest(const char *word, const char *const *cands, size_t n, size_t max_edits)
{
	struct suggest s;

	suggest_init(&s, word, strlen(word), max_edits);
	for (size_t i = 0; i < n && s.best_d != 0; i++)
		suggest_offer(&s, cands[i]);
	return s.best;
}
