/*
 * Statistical disclosure control of counts in a hierarchy of areas:
 * primary suppression by a minimum count and secondary (complementary)
 * suppression so that no published total reveals a suppressed cell. Pure
 * computation on arrays.
 *
 * One call works on the cells of one variable and one period over all
 * areas of all levels: value[i] is the count of area i (NaN = no value),
 * parent[i] the index of its parent area on a coarser level (-1 for an
 * area of the top level or without parent), group[i] the level of area i.
 * Aggregation makes every parent the sum of its children on one level
 * (compute.h), so each parent with its children of one level forms an
 * additivity relation  parent = Σ children. A parent may have children
 * on two levels (Berlin's districts: the 2021 Prognoseräume and the 2006
 * planning areas); each level is a relation of its own, and a relation
 * whose children all lack a value (that level has no data for the
 * period) does not exist.
 *
 * Sources: Hundepool et al., "Statistical Disclosure Control", Wiley 2012
 * (the Eurostat/ESSnet SDC handbook), ch. 4 (threshold rule for frequency
 * tables; zero cells have no contributors and are not sensitive) and
 * ch. 4.4 (secondary cell suppression; hierarchical tables, the
 * "one suppressed cell in a relation is revealed by differencing"
 * argument); Statistisches Bundesamt, "Geheimhaltung in der amtlichen
 * Statistik" (Fallzahlregel: fewer than 3 cases are not published).
 */
#ifndef KIEZ_DISCLOSURE_H
#define KIEZ_DISCLOSURE_H

#include "kiez/common.h"
#include "kiez/ctx.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What happens to a cell. */
enum kz_sdc_status {
    KZ_SDC_PUBLISH = 0,   /* published */
    KZ_SDC_PRIMARY = 1,   /* below the minimum count */
    KZ_SDC_SECONDARY = 2, /* withheld so that a primary cell cannot be recomputed */
    KZ_SDC_AREA = 3       /* withheld with its area (set by the caller, e.g. below a
                             minimum population); protected like a primary cell */
};

/* The default minimum count: counts 1 and 2 are suppressed. */
#define KZ_SDC_MIN_COUNT 3

/**
 * Primary suppression (threshold rule): a cell is suppressed when
 * 0 < value < min_count (strictly below; zero is published: it has no
 * contributor who could be disclosed). status[i] is set to KZ_SDC_PRIMARY
 * for those cells and left unchanged for the others.
 * \return the number of cells newly marked.
 */
KZ_API size_t kz_disclosure_primary(unsigned char *status, const double *value, size_t n,
                                    double min_count);

/**
 * Secondary suppression in the hierarchy given by parent[]. A cell is
 * "unknown" to a reader when it is suppressed (status != KZ_SDC_PUBLISH)
 * or has no value (NaN). For every relation  parent = Σ children  whose
 * only unknown cell is a suppressed one, that cell could be recomputed by
 * differencing; one more cell of the relation is suppressed (status
 * KZ_SDC_SECONDARY):
 *   - the unknown cell is a child: the sibling with the smallest value
 *     (ties: the lowest index) — the least information lost; with no
 *     sibling with a value, the parent itself;
 *   - the unknown cell is the parent: its child with the smallest value
 *     (otherwise the children would add up to it).
 * A relation with two or more unknown cells needs nothing. The rule is
 * repeated until every relation holds: a parent suppressed for its own
 * sake is then checked as a child one level up, and a parent suppressed
 * as a complement gets a suppressed child one level down.
 *
 * The rule protects against differencing within one relation, the attack
 * a reader can do with a table and a calculator; it is the usual
 * heuristic, not an optimal (linear-programming) cell suppression, and
 * combinations of several relations can still narrow a cell to an
 * interval.
 *
 * \param status n entries, in/out (from kz_disclosure_primary()).
 * \param group  n level numbers, or NULL: all children of a parent form one
 *        relation.
 * \param n_added receives the number of cells marked secondary (may be NULL).
 * \return KZ_OK, KZ_E_USAGE (a parent index out of range or the area
 *         itself), or KZ_E_NOMEM.
 */
KZ_API int kz_disclosure_secondary(size_t *n_added, kz_ctx *ctx, unsigned char *status,
                                   const double *value, const long *parent, const int *group,
                                   size_t n);

#ifdef __cplusplus
}
#endif
#endif
