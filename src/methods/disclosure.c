/*
 * Disclosure control of counts (see include/kiez/disclosure.h for the
 * contract and the sources: Hundepool et al., "Statistical Disclosure
 * Control", 2012, ch. 4; Destatis Fallzahlregel).
 */
#include "kiez/disclosure.h"

#include "ctx_internal.h"

#include <math.h>
#include <stdlib.h>

size_t kz_disclosure_primary(unsigned char *status, const double *value, size_t n, double min_count)
{
    size_t i, k = 0;
    for (i = 0; i < n; i++)
        if (status[i] == KZ_SDC_PUBLISH && value[i] > 0 && value[i] < min_count) {
            status[i] = KZ_SDC_PRIMARY;
            k++;
        }
    return k;
}

static int unknown(const unsigned char *status, const double *value, size_t i)
{
    return status[i] != KZ_SDC_PUBLISH || isnan(value[i]);
}

/* Children sorted by (parent, group, index): each parent's relations are
 * runs of one group. */
typedef struct kid {
    long parent;
    int group;
    size_t i;
} kid;

static int by_relation(const void *a, const void *b)
{
    const kid *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* One relation p = Σ kids[a..b): 1 if it had to suppress one more cell. */
static int check_relation(unsigned char *status, const double *value, size_t p, const kid *kids,
                          size_t a, size_t b)
{
    size_t k, n_unknown, who = 0, pick = (size_t)-1, with_value = 0;
    for (k = a; k < b; k++)
        with_value += !isnan(value[kids[k].i]);
    if (with_value == 0)
        return 0; /* no data of this level for the period: no relation */
    n_unknown = unknown(status, value, p);
    if (n_unknown)
        who = p;
    for (k = a; k < b && n_unknown < 2; k++)
        if (unknown(status, value, kids[k].i)) {
            n_unknown++;
            who = kids[k].i;
        }
    if (n_unknown != 1 || status[who] == KZ_SDC_PUBLISH)
        return 0; /* fine, or the only unknown is a missing value */
    /* The smallest child other than `who`: all others are published with a
     * value, since `who` is the only unknown. */
    for (k = a; k < b; k++) {
        size_t c = kids[k].i;
        if (c != who && (pick == (size_t)-1 || value[c] < value[pick]))
            pick = c; /* ties: the first, i.e. the lowest index */
    }
    if (pick == (size_t)-1)
        pick = p; /* an only child: the parent equals it */
    status[pick] = KZ_SDC_SECONDARY;
    return 1;
}

int kz_disclosure_secondary(size_t *n_added, kz_ctx *ctx, unsigned char *status,
                            const double *value, const long *parent, const int *group, size_t n)
{
    kid *kids = NULL;
    size_t i, m = 0, added = 0;
    int changed = 1;

    if (n_added != NULL)
        *n_added = 0;
    for (i = 0; i < n; i++)
        if (parent[i] < -1 || parent[i] >= (long)n || parent[i] == (long)i)
            return kz_ctx__error(ctx, KZ_E_USAGE,
                                 "disclosure control: area %zu has an invalid parent %ld", i,
                                 parent[i]);
    if ((kids = malloc((n ? n : 1) * sizeof(*kids))) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    for (i = 0; i < n; i++)
        if (parent[i] >= 0) {
            kids[m].parent = parent[i];
            kids[m].group = group ? group[i] : 0;
            kids[m++].i = i;
        }
    qsort(kids, m, sizeof(*kids), by_relation);

    /* Repeat until every relation has either no suppressed cell or at least
     * two unknown cells. Each pass that changes something suppresses one
     * more cell, so at most n passes. */
    while (changed) {
        size_t a = 0, b;
        changed = 0;
        for (; a < m; a = b) {
            for (b = a + 1;
                 b < m && kids[b].parent == kids[a].parent && kids[b].group == kids[a].group; b++)
                ;
            if (check_relation(status, value, (size_t)kids[a].parent, kids, a, b)) {
                added++;
                changed = 1;
            }
        }
    }
    free(kids);
    if (n_added != NULL)
        *n_added = added;
    return KZ_OK;
}
