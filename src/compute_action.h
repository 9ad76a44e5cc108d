/*
 * Needs for action (action[], comparable[]) and disclosure control
 * (disclosure) configured in the project file, run by kz_compute_derived().
 * Internal to the library.
 */
#ifndef KZ_COMPUTE_ACTION_H
#define KZ_COMPUTE_ACTION_H

#include "kiez/db.h"
#include "kiez/project.h"

/*
 * Disclosure control (compute_disclosure.c), before the derived
 * indicators: primary and secondary suppression of every count variable
 * on every level and period, recorded in disclosure_cell; areas below the
 * minimum population recorded in disclosure_area; the indicator values
 * built on them withheld (NULL, flag 2); the rules as statistics rows
 * (analysis "disclosure"). With `seal` set (after the derived
 * indicators), only withholds again, so derived values of small areas are
 * withheld too. A project without a disclosure section: nothing.
 * \return KZ_OK, KZ_E_IO, KZ_E_NOMEM.
 */
int kz_compute__disclosure(kz_db *db, kz_ctx *ctx, const kz_project *p, int seal);

/*
 * Needs for action (compute_action.c): for every action[] item the
 * columns <ind>_dev_city, _dev_parent, _dev_parent_pct, _light, _rank;
 * for every comparable[] item statistics rows "comparable:<key>".
 * \return KZ_OK, KZ_E_INPUT (no values of an indicator, unknown reference
 *         area), KZ_E_USAGE, KZ_E_IO, KZ_E_NOMEM.
 */
int kz_compute__action(kz_db *db, kz_ctx *ctx, const kz_project *p);

#endif
