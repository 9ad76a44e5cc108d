/*
 * kiez: a small-area monitoring engine.
 *
 * This is the umbrella header of the public C API. Each module has its own
 * header; none of them includes a GDAL, GEOS, PROJ, SQLite or libcsv header.
 */
#ifndef KIEZ_KIEZ_H
#define KIEZ_KIEZ_H

#include "kiez/action.h"
#include "kiez/classify.h"
#include "kiez/common.h"
#include "kiez/compute.h"
#include "kiez/correlate.h"
#include "kiez/coverage.h"
#include "kiez/ctx.h"
#include "kiez/db.h"
#include "kiez/demand.h"
#include "kiez/disclosure.h"
#include "kiez/effect.h"
#include "kiez/export.h"
#include "kiez/import.h"
#include "kiez/layer.h"
#include "kiez/moran.h"
#include "kiez/project.h"
#include "kiez/report.h"
#include "kiez/run.h"
#include "kiez/standardise.h"
#include "kiez/style.h"
#include "kiez/table.h"
#include "kiez/trend.h"
#include "kiez/weights.h"

#endif
