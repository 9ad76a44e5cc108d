/*
 * Internal GEOS access for the geometry kernels. Includes geos_c.h with the
 * reentrant API only.
 */
#ifndef KZ_GEOM_H
#define KZ_GEOM_H

#ifndef GEOS_USE_ONLY_R_API
#define GEOS_USE_ONLY_R_API
#endif
#include <geos_c.h>

#include "kiez/ctx.h"

/* The context's GEOS handle, created on first use; NULL if GEOS fails. */
GEOSContextHandle_t kz_geom__handle(kz_ctx *ctx);

#endif
