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

int kz_disclosure_secondary(size_t *n_added, kz_ctx *ctx, unsigned char *status,
                            const double *value, const long *parent, size_t n)
{
    size_t *start = NULL, *kids = NULL, *fill = NULL, i, added = 0;
    int changed = 1, rc = KZ_OK;

    if (n_added != NULL)
        *n_added = 0;
    for (i = 0; i < n; i++)
        if (parent[i] < -1 || parent[i] >= (long)n || parent[i] == (long)i)
            return kz_ctx__error(ctx, KZ_E_USAGE,
                                 "disclosure control: area %zu has an invalid parent %ld", i,
                                 parent[i]);
    /* Children of each area as one compact list (CSR): kids[start[p]..start[p+1]). */
    start = calloc(n + 1, sizeof(*start));
    kids = malloc((n ? n : 1) * sizeof(*kids));
    fill = calloc(n + 1, sizeof(*fill));
    if (start == NULL || kids == NULL || fill == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++)
        if (parent[i] >= 0)
            start[parent[i] + 1]++;
    for (i = 0; i < n; i++)
        start[i + 1] += start[i];
    for (i = 0; i < n; i++)
        if (parent[i] >= 0) {
            size_t p = (size_t)parent[i];
            kids[start[p] + fill[p]++] = i;
        }

    /* Repeat until every relation parent = Σ children has either no
     * suppressed cell or at least two unknown cells. Each pass that
     * changes something suppresses one more cell, so at most n passes. */
    while (changed) {
        size_t p;
        changed = 0;
        for (p = 0; p < n; p++) {
            size_t a = start[p], b = start[p + 1], k, n_unknown, who = 0, pick = n;
            if (a == b)
                continue;
            n_unknown = unknown(status, value, p);
            if (n_unknown)
                who = p;
            for (k = a; k < b && n_unknown < 2; k++)
                if (unknown(status, value, kids[k])) {
                    n_unknown++;
                    who = kids[k];
                }
            if (n_unknown != 1 || status[who] == KZ_SDC_PUBLISH)
                continue; /* fine, or the only unknown is a missing value */
            /* The smallest published child other than `who` (all others
             * are published with a value: `who` is the only unknown). */
            for (k = a; k < b; k++) {
                size_t c = kids[k];
                if (c != who &&
                    (pick == n || value[c] < value[pick] || (value[c] == value[pick] && c < pick)))
                    pick = c;
            }
            if (pick == n)
                pick = p; /* an only child: the parent equals it */
            status[pick] = KZ_SDC_SECONDARY;
            added++;
            changed = 1;
        }
    }
done:
    free(start);
    free(kids);
    free(fill);
    if (n_added != NULL)
        *n_added = added;
    return rc;
}
