/*
 * The project file: one YAML document that describes a monitoring run
 * (levels, tables, indicators, objects, outputs), so a run is reproducible
 * and reviewable. See docs/project-file.md for the format.
 *
 * All strings are UTF-8 and owned by the kz_project; paths are resolved
 * (see kz_project_load()).
 */
#ifndef KIEZ_PROJECT_H
#define KIEZ_PROJECT_H

#include "kiez/common.h"
#include "kiez/ctx.h"
#include "kiez/table.h" /* KZ_THOUSANDS_NONE, enum kz_encoding */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a level's areas find their parent area. */
enum kz_parent_match {
    KZ_MATCH_PREFIX = 0, /* the parent key is a prefix of the child key */
    KZ_MATCH_OVERLAP = 1 /* the parent whose polygon overlaps the child most */
};

/* What to do with several features that share one key. */
enum kz_duplicates { KZ_DUP_ERROR = 0, KZ_DUP_MERGE = 1 };

/* What to do with invalid polygons. */
enum kz_invalid { KZ_INVALID_REPAIR = 0, KZ_INVALID_REJECT = 1 };

/* How a period is read from the path of a table file. */
enum kz_period_as {
    KZ_PERIOD_DATE = 0,  /* group 1 is a date kz_period_parse() understands */
    KZ_PERIOD_YEAR,      /* group 1 = year -> YYYY-12-31 */
    KZ_PERIOD_YEAR_HALF, /* groups 1, 2 = year, half (1|2) -> YYYY-06-30 | YYYY-12-31 */
    KZ_PERIOD_YEAR_MONTH /* groups 1, 2 = year, month -> last day of that month */
};

/* What to do with table keys that match no area of the level. */
enum kz_unmatched { KZ_UNMATCHED_ERROR = 0, KZ_UNMATCHED_WARN = 1 };

/* Polarity of an indicator: is a higher value better or worse? */
enum kz_polarity { KZ_POLARITY_NEUTRAL = 0, KZ_POLARITY_POSITIVE = 1, KZ_POLARITY_NEGATIVE = 2 };

typedef struct kz_level_def {
    char *name;        /* identifier: [a-z][a-z0-9_]*, e.g. "plr" */
    char *title;       /* human title, e.g. "Planungsräume"; NULL = name */
    char *source;      /* OGR source ("path" or "path|layername=L"); NULL if dissolve */
    char *key;         /* key field of the source */
    char *label;       /* field with the area name; NULL = none */
    int key_width;     /* > 0: normalise keys to this width (pad/strip leading zeros) */
    char *parent;      /* name of the parent level; NULL = top level */
    int parent_match;  /* enum kz_parent_match */
    char *dissolve;    /* build this level by dissolving that (finer) level */
    int key_prefix;    /* dissolve: group child keys by their first N chars; 0 = one area */
    char *area_key;    /* dissolve with key_prefix 0: key of the single area */
    char *area_name;   /* dissolve with key_prefix 0: name of the single area */
    int duplicates;    /* enum kz_duplicates */
    int invalid;       /* enum kz_invalid */
    char **fix_keys;   /* corrections of source keys: pairs (feature id, key), 2n strings */
    size_t n_fix_keys; /* number of pairs */
} kz_level_def;

typedef struct kz_table_def {
    char *source;          /* path or glob pattern of CSV files */
    char *level;           /* level whose keys the table uses */
    char *key;             /* key column */
    int key_by_name;       /* 1: the key column holds area names, not keys */
    char *period;          /* constant period (ISO date) or NULL */
    char *period_column;   /* column holding the period, or NULL */
    char *period_path;     /* POSIX extended regex applied to the file path, or NULL */
    int period_as;         /* enum kz_period_as, for period_path */
    int long_format;       /* 0 wide (one column per variable), 1 long */
    char *variable_column; /* long format: column naming the variable */
    char *value_column;    /* long format: column holding the value */
    char **variables;      /* wide: columns to import (NULL = all but ignored) */
    size_t n_variables;
    char **ignore; /* wide: fnmatch patterns of columns to skip */
    size_t n_ignore;
    char **missing; /* extra cell texts that mean "missing", e.g. "-9999" */
    size_t n_missing;
    char delimiter; /* 0 = detect */
    char decimal;   /* 0 = detect */
    char thousands; /* 0 = detect; KZ_THOUSANDS_NONE for none, KZ_THOUSANDS_NBSP (table.h) */
    int encoding;   /* enum kz_encoding (table.h); 0 = detect */
    int unmatched;  /* enum kz_unmatched */
    char *lines;    /* "FIRST-LAST": import only data rows on these file lines; NULL = all */
} kz_table_def;

typedef struct kz_indicator_def {
    char *name;        /* identifier, becomes a column name */
    char *label;       /* human label */
    char *numerator;   /* variable name */
    char *denominator; /* variable name, or NULL for a plain count */
    double scale;      /* value = numerator / denominator * scale (default 1) */
    char *unit;        /* e.g. "%"; NULL = none */
    int polarity;      /* enum kz_polarity */
    char *description;
    char *source; /* where the data comes from (attribution) */
} kz_indicator_def;

typedef struct kz_object_def {
    char *name; /* layer name in database and outputs */
    char *title;
    char *source;   /* OGR source or CSV file */
    char *id;       /* id field; NULL = feature id */
    char *label;    /* name field; NULL = none */
    char *category; /* category field; NULL = none */
    char *capacity; /* capacity field (numbers as text are parsed); NULL = none */
    char *x, *y;    /* CSV: coordinate columns */
    char *crs;      /* CSV: CRS of the coordinates, e.g. "EPSG:4326" */
} kz_object_def;

/*
 * A composite index (Berlin MSS style) over the areas of one level: the
 * z-scores of the input indicators (sign from their polarity: "negative"
 * and "neutral" inputs add, "positive" ones subtract, so the index grows
 * with disadvantage), summed, re-standardised, cut into classes.
 * Outputs: z_<input>, <name>_sum, <name>_index, <name>_class.
 */
typedef struct kz_index_def {
    char *name;    /* identifier, prefix of the output columns */
    char *label;   /* human label */
    char *level;   /* the level whose areas are standardised */
    char *period;  /* ISO date; NULL = the latest period with values */
    char **inputs; /* indicator names */
    size_t n_inputs;
    char **cuts; /* class cut points, increasing (numbers as text) */
    size_t n_cuts;
    char *population;      /* indicator giving the population, for min_population */
    double min_population; /* areas below it are left out and get no class */
    char **outliers;       /* area keys left out of the statistics */
    size_t n_outliers;
    int sample_sd;       /* 1: sample sd (n − 1) instead of population sd */
    char **class_labels; /* one label per class (n_cuts + 1), e.g. hoch, mittel, ... */
    size_t n_class_labels;
} kz_index_def;

/* Trend columns of indicators between two periods: <indicator>_chg (last −
 * first, percentage points for shares) and <indicator>_slope (OLS per year). */
typedef struct kz_trend_def {
    char **indicators; /* indicator names */
    size_t n_indicators;
    char *from, *to; /* ISO dates, inclusive */
} kz_trend_def;

/*
 * Spatial statistics of indicators on one level: global Moran's I per
 * indicator (rows of the statistics table, analysis "moran") and local
 * Moran (LISA) per area (derived columns lisa_<indicator>_i, _p, _class;
 * class 0 not significant, 1 HH, 2 LH, 3 LL, 4 HL). Areas without a value
 * of the indicator are left out of the weights and the statistics.
 */
typedef struct kz_spatial_def {
    char *level;
    char **indicators; /* indicators or derived columns (z_S1, status_index, S1_chg) */
    size_t n_indicators;
    char *weights;    /* as written: "queen" (default), "rook", "knn:K", "dist:M" */
    int weights_kind; /* parsed: enum kz_weights_kind (weights.h) */
    int k;            /* knn:K */
    double distance;  /* dist:M, in CRS units */
    double tolerance; /* queen/rook snapping tolerance; < 0 = automatic (default) */
    int style;        /* enum kz_weights_style (weights.h); default KZ_STYLE_W */
    int permutations; /* 0..1000000, default 999 */
    int seed;         /* >= 0, default 12345 */
    double alpha;     /* LISA significance level, default 0.05 */
    int fdr;          /* 1: Benjamini-Hochberg false discovery rate for LISA */
    char *period;     /* ISO date; NULL = each indicator's latest period with values */
} kz_spatial_def;

/* Which correlation coefficients a kz_correlation_def asks for (bits). */
enum kz_correlation_methods {
    KZ_CORRELATION_PEARSON = 1,
    KZ_CORRELATION_SPEARMAN = 2,
    KZ_CORRELATION_BOTH = 3
};

/* A correlation matrix of indicators across the areas of one level (rows
 * of the statistics table, analysis "correlation:pearson" or
 * "correlation:spearman", subject "A|B", measures r, n, p). */
typedef struct kz_correlation_def {
    char *level;
    char **indicators; /* at least two; indicators or derived columns */
    size_t n_indicators;
    int methods;  /* enum kz_correlation_methods; default both */
    char *period; /* ISO date; NULL = latest period where all have values */
} kz_correlation_def;

/* What a coverage analysis counts as supply (kz_coverage_def.supply). */
enum kz_supply { KZ_SUPPLY_COUNT = 0, KZ_SUPPLY_CAPACITY = 1 };

/*
 * Supply of an object layer for a target population, per area of `level`
 * and of every coarser level (counts and supply summed up the parent
 * chain, ratios recomputed from the sums), stored at the latest period
 * with demand values: <name>_count, <name>_supply (supply: capacity),
 * <name>_per_<per> (supply per `per` people), <name>_coverage (% of need =
 * need_factor × demand), and with demand points <name>_dist (demand-
 * weighted mean distance to the nearest object), <name>_within (% of
 * demand within `radius`), <name>_access (2SFCA within access_radius, per
 * `per` people). See docs/project-file.md and demand.h.
 */
typedef struct kz_coverage_def {
    char *name;           /* identifier, prefix of the output columns */
    char *label;          /* human label */
    char *objects;        /* object layer */
    char **categories;    /* only objects of these categories (category: or categories:) */
    size_t n_categories;  /* 0 = all objects */
    char *level;          /* finest level the objects are counted into */
    int supply;           /* enum kz_supply; default count */
    char *demand;         /* variable with the people in need; "a + b" sums variables */
    double per;           /* ratio per this many people; default 100 */
    double need_factor;   /* need = factor × demand; 0 = no coverage column */
    double radius;        /* share of demand within this distance; 0 = none */
    double access_radius; /* 2SFCA catchment; 0 = none */
    char **demand_points; /* the demand_points mapping as written: (key, value) pairs */
    size_t n_demand_points;
    int demand_method;   /* parsed: enum kz_demand_method (demand.h); default grid */
    double demand_cell;  /* parsed: grid cell size, default 100 */
    char *demand_source; /* parsed: Zensus CSV or OGR point source (resolved) */
    char *demand_count;  /* parsed: count column / field */
    int demand_layer;    /* parsed: 1 = write the points as layer <name>_demand */
} kz_coverage_def;

/* How a measure's comparison group is chosen (kz_measure_def.comparison;
 * the same values as enum kz_comparison in effect.h). */
enum kz_measure_comparison { KZ_MEASURE_COMPARE_ALL = 0, KZ_MEASURE_COMPARE_NEAREST = 1 };

/*
 * A measure in the register (a programme, a new facility, ...), evaluated
 * before and after its start against a comparison group (difference-in-
 * differences, see effect.h): statistics rows of analysis "effect:<id>"
 * per target indicator, a derived column <id>_treated (1/0), and the
 * layer `measures` of the GeoPackage.
 */
typedef struct kz_measure_def {
    char *id;     /* identifier */
    char *name;   /* human name */
    char *kind;   /* free text, e.g. "Quartiersmanagement"; NULL = none */
    char *level;  /* level whose keys the areas are */
    char **areas; /* keys of the treated areas */
    size_t n_areas;
    char *areas_file;  /* CSV with more keys (resolved path); NULL = none */
    char *areas_key;   /* its key column; NULL = "key" */
    char *start;       /* date: periods on or after it are "after" */
    char *end;         /* date or NULL; recorded, does not cut the series */
    double budget;     /* NaN = not given */
    char **indicators; /* target indicators */
    size_t n_indicators;
    int comparison;  /* enum kz_measure_comparison; default all */
    int k;           /* nearest: comparison areas, default 10 */
    char **match_on; /* nearest: indicators compared at baseline */
    size_t n_match_on;
    int illustrative; /* 1: not a real measure; said in every output */
} kz_measure_def;

/*
 * Needs for action of one indicator (see action.h): per area of `level`
 * (or of every level below the top) <indicator>_dev_city (value − the
 * top-level area's value), <indicator>_dev_parent (value − the parent
 * area's), <indicator>_dev_parent_pct (the same in % of the parent's),
 * <indicator>_light (1 green, 2 yellow, 3 red by `thresholds` against the
 * city value, with the indicator's polarity) and <indicator>_rank (1 = most
 * in need; ties share the lowest rank).
 */
typedef struct kz_action_def {
    char *indicator;   /* indicator name */
    char *level;       /* NULL = every level below the top */
    char *period;      /* ISO date; NULL = the latest period with values, per level */
    char **thresholds; /* two numbers (as text): yellow beyond the first, red beyond the second */
    size_t n_thresholds;
    int unit; /* enum kz_action_unit (action.h): 0 = indicator's unit, 1 = sd */
} kz_action_def;

/* Comparable areas of reference areas (statistics rows of analysis
 * "comparable:<reference key>", see docs/project-file.md). */
typedef struct kz_comparable_def {
    char *level;
    char **references; /* area keys */
    size_t n_references;
    char **indicators; /* every one must lie within the tolerance */
    size_t n_indicators;
    double tolerance; /* default 0.5 */
    int unit;         /* enum kz_action_unit; default sd */
    char *period;     /* ISO date; NULL = latest with values of the first indicator */
} kz_comparable_def;

/* Disclosure control of the published values (see disclosure.h). */
typedef struct kz_disclosure_def {
    int enabled;           /* 1 when the project has a disclosure section */
    double min_count;      /* counts 0 < x < min_count are suppressed; default 3 */
    char *population;      /* variable counting the inhabitants, for min_population */
    double min_population; /* areas below it publish no indicator; 0 = no rule */
    char **variables;      /* the count variables; NULL = every imported variable ... */
    size_t n_variables;
    char **not_counts; /* ... except these */
    size_t n_not_counts;
} kz_disclosure_def;

typedef struct kz_output_def {
    char *dir;   /* output folder (resolved against the working dir) */
    char *gpkg;  /* GeoPackage file name inside dir; NULL = none */
    int geojson; /* 1: one GeoJSON (+ .qml) per level */
    int report;  /* 1: the HTML atlas in <dir>/atlas/ */
} kz_output_def;

typedef struct kz_project {
    char *path; /* the project file itself */
    char *name;
    char *crs;      /* e.g. "EPSG:25833" */
    char *database; /* database file; NULL = <outputs.dir>/<basename>.sqlite */
    kz_level_def *levels;
    size_t n_levels;
    kz_table_def *tables;
    size_t n_tables;
    kz_indicator_def *indicators;
    size_t n_indicators;
    kz_object_def *objects;
    size_t n_objects;
    kz_index_def *indices;
    size_t n_indices;
    kz_trend_def *trends;
    size_t n_trends;
    kz_spatial_def *spatial;
    size_t n_spatial;
    kz_correlation_def *correlations;
    size_t n_correlations;
    kz_coverage_def *coverage;
    size_t n_coverage;
    kz_measure_def *measures;
    size_t n_measures;
    kz_action_def *actions;
    size_t n_actions;
    kz_comparable_def *comparables;
    size_t n_comparables;
    kz_disclosure_def disclosure;
    kz_output_def outputs;
} kz_project;

/**
 * Read and validate a project file.
 *
 * Validation: unknown keys, wrong types, missing required keys, duplicate
 * names, references to unknown levels, cycles in the parent/dissolve
 * relations, and unreadable sources are errors that name the file, line and
 * key. Relative sources resolve against the project file's folder, and when
 * not found there, against $KIEZ_GEODATA (default ../shared/geodata
 * relative to the working directory); globs are resolved when read.
 *
 * \param out receives the project; caller frees with kz_project_free().
 * \return KZ_OK, KZ_E_USAGE (invalid project), KZ_E_IO (unreadable), KZ_E_NOMEM.
 */
KZ_API int kz_project_load(kz_project **out, kz_ctx *ctx, const char *path);

/* Free a project. NULL is a no-op. */
KZ_API void kz_project_free(kz_project *project);

/* Index of the level called `name`, or -1. */
KZ_API int kz_project_level_index(const kz_project *project, const char *name);

#ifdef __cplusplus
}
#endif
#endif
