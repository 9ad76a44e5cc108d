/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "ctx_internal.h"
#include "kiez/project.h"
#include "kiez/table.h"
#include "project_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PDIR KZ_TEST_DATA "/project"
#define INLINE PDIR "/inline.yml"
#define CORPUS KZ_TEST_DATA "/../fuzz/corpus/project"

static int setup(void **state)
{
    kz_ctx *ctx = NULL;
    if (kz_ctx_new(&ctx) != KZ_OK)
        return -1;
    *state = ctx;
    return 0;
}

static int teardown(void **state)
{
    kz_ctx_free(*state);
    kz_project__set_alloc_fail_after(-1);
    return 0;
}

/* ---- a full project ------------------------------------------------------- */

static void test_full_project(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = NULL;
    const kz_level_def *L;
    const kz_table_def *T;
    const kz_indicator_def *I;
    const kz_object_def *O;

    assert_int_equal(kz_project_load(&p, ctx, PDIR "/full.yml"), KZ_OK);
    assert_non_null(p);
    assert_string_equal(p->path, PDIR "/full.yml");
    assert_string_equal(p->name, "Berlin LOR");
    assert_string_equal(p->crs, "EPSG:25833");
    assert_string_equal(p->database, "berlin.sqlite");

    assert_int_equal(p->n_levels, 4);
    L = &p->levels[0];
    assert_string_equal(L->name, "plr");
    assert_string_equal(L->title, "Planungsräume");
    assert_string_equal(L->source, PDIR "/geo/plr.geojson");
    assert_string_equal(L->key, "PLR_ID");
    assert_string_equal(L->label, "PLR_NAME");
    assert_int_equal(L->key_width, 8);
    assert_string_equal(L->parent, "bzr");
    assert_int_equal(L->parent_match, KZ_MATCH_PREFIX);
    assert_null(L->dissolve);
    assert_int_equal(L->duplicates, KZ_DUP_ERROR);
    assert_int_equal(L->invalid, KZ_INVALID_REPAIR);
    assert_int_equal(L->n_fix_keys, 2);
    assert_string_equal(L->fix_keys[0], "7");
    assert_string_equal(L->fix_keys[1], "01100101");
    assert_string_equal(L->fix_keys[2], "8");
    assert_string_equal(L->fix_keys[3], "01100102");
    L = &p->levels[1];
    assert_string_equal(L->source, PDIR "/geo/bzr.geojson|layername=bzr");
    assert_string_equal(L->key, "BZR ID"); /* field names may hold spaces */
    assert_int_equal(L->parent_match, KZ_MATCH_OVERLAP);
    assert_int_equal(L->duplicates, KZ_DUP_MERGE);
    assert_int_equal(L->invalid, KZ_INVALID_REJECT);
    L = &p->levels[2];
    assert_string_equal(L->name, "bezirk");
    assert_null(L->title);
    assert_null(L->source);
    assert_null(L->parent);
    assert_string_equal(L->dissolve, "bzr");
    assert_int_equal(L->key_prefix, 2);
    assert_null(L->area_key);
    L = &p->levels[3];
    assert_string_equal(L->dissolve, "bezirk");
    assert_int_equal(L->key_prefix, 0);
    assert_string_equal(L->area_key, "11");
    assert_string_equal(L->area_name, "Berlin");

    assert_int_equal(p->n_tables, 3);
    T = &p->tables[0];
    assert_string_equal(T->source, PDIR "/tab/*/pop-*-t2.csv"); /* the pattern, resolved */
    assert_string_equal(T->level, "plr");
    assert_string_equal(T->key, "id");
    assert_int_equal(T->key_by_name, 0);
    assert_null(T->period);
    assert_null(T->period_column);
    assert_string_equal(T->period_path, "-([0-9]{4})-0([12])-t");
    assert_int_equal(T->period_as, KZ_PERIOD_YEAR_HALF);
    assert_int_equal(T->long_format, 0);
    assert_int_equal(T->n_variables, 2);
    assert_string_equal(T->variables[0], "inhabitants");
    assert_string_equal(T->variables[1], "inhabitants_age_below_6");
    assert_int_equal(T->n_ignore, 2);
    assert_string_equal(T->ignore[0], "*_percentage");
    assert_string_equal(T->ignore[1], "district_id");
    assert_int_equal(T->n_missing, 2);
    assert_string_equal(T->missing[0], "-9999");
    assert_string_equal(T->missing[1], "k.A.");
    assert_int_equal(T->delimiter, ';');
    assert_int_equal(T->decimal, ',');
    assert_int_equal(T->thousands, ' ');
    assert_int_equal(T->encoding, KZ_ENC_UTF8);
    assert_int_equal(T->unmatched, KZ_UNMATCHED_WARN);
    assert_string_equal(T->lines, "2-600");
    T = &p->tables[1];
    assert_string_equal(T->source, PDIR "/tab/long.csv");
    assert_string_equal(T->period_column, "ZEIT");
    assert_int_equal(T->long_format, 1);
    assert_string_equal(T->variable_column, "var");
    assert_string_equal(T->value_column, "value");
    assert_null(T->variables);
    assert_int_equal(T->n_variables, 0);
    assert_int_equal(T->delimiter, '\t');
    assert_int_equal(T->decimal, '.');
    assert_int_equal(T->thousands, KZ_THOUSANDS_NONE);
    assert_int_equal(T->encoding, KZ_ENC_CP1252);
    assert_int_equal(T->unmatched, KZ_UNMATCHED_ERROR);
    T = &p->tables[2];
    assert_int_equal(T->key_by_name, 1);
    assert_string_equal(T->period, "2023-12-31");
    assert_int_equal(T->period_as, KZ_PERIOD_DATE);
    assert_int_equal(T->delimiter, 0);
    assert_int_equal(T->decimal, 0);
    assert_int_equal(T->thousands, 0);
    assert_int_equal(T->encoding, KZ_ENC_LATIN1);

    assert_int_equal(p->n_indicators, 3);
    I = &p->indicators[0];
    assert_string_equal(I->name, "u6_share");
    assert_string_equal(I->label, "Anteil unter 6-Jährige");
    assert_string_equal(I->numerator, "inhabitants_age_below_6");
    assert_string_equal(I->denominator, "inhabitants");
    assert_true(I->scale == 100.0);
    assert_string_equal(I->unit, "%");
    assert_int_equal(I->polarity, KZ_POLARITY_NEUTRAL);
    assert_string_equal(I->description, "Kinder unter 6 Jahren je 100 Einwohner");
    assert_string_equal(I->source, "Amt für Statistik Berlin-Brandenburg");
    I = &p->indicators[1];
    assert_null(I->denominator);
    assert_null(I->label);
    assert_true(I->scale == 1.0);
    assert_int_equal(I->polarity, KZ_POLARITY_POSITIVE);
    I = &p->indicators[2];
    assert_true(I->scale == 150.0);
    assert_int_equal(I->polarity, KZ_POLARITY_NEGATIVE);

    assert_int_equal(p->n_objects, 2);
    O = &p->objects[0];
    assert_string_equal(O->name, "kitas");
    assert_string_equal(O->title, "Kitas");
    assert_string_equal(O->source, PDIR "/points/kitas.geojson");
    assert_string_equal(O->id, "id");
    assert_string_equal(O->label, "name");
    assert_string_equal(O->category, "traeger");
    assert_string_equal(O->capacity, "e_platz");
    assert_null(O->x);
    O = &p->objects[1];
    assert_string_equal(O->x, "lon");
    assert_string_equal(O->y, "lat");
    assert_string_equal(O->crs, "EPSG:4326");

    assert_int_equal(p->n_indices, 1);
    assert_string_equal(p->indices[0].name, "status");
    assert_string_equal(p->indices[0].label, "Status");
    assert_string_equal(p->indices[0].level, "plr");
    assert_string_equal(p->indices[0].period, "2023-12-31");
    assert_int_equal(p->indices[0].n_inputs, 2);
    assert_string_equal(p->indices[0].inputs[1], "poverty");
    assert_int_equal(p->indices[0].n_cuts, 3);
    assert_string_equal(p->indices[0].cuts[2], "1.5");
    assert_string_equal(p->indices[0].population, "inhabitants");
    assert_true(p->indices[0].min_population == 300.0);
    assert_int_equal(p->indices[0].n_outliers, 1);
    assert_string_equal(p->indices[0].outliers[0], "01100102");
    assert_int_equal(p->indices[0].sample_sd, 1);
    assert_int_equal(p->n_trends, 1);
    assert_int_equal(p->trends[0].n_indicators, 2);
    assert_string_equal(p->trends[0].from, "2021-12-31");
    assert_string_equal(p->trends[0].to, "2024-12-31");
    assert_int_equal(p->outputs.report, 1);

    assert_string_equal(p->outputs.dir, "out/berlin"); /* as given */
    assert_string_equal(p->outputs.gpkg, "berlin.gpkg");
    assert_int_equal(p->outputs.geojson, 1);

    assert_int_equal(kz_project_level_index(p, "plr"), 0);
    assert_int_equal(kz_project_level_index(p, "city"), 3);
    assert_int_equal(kz_project_level_index(p, "nope"), -1);
    assert_int_equal(kz_project_level_index(p, NULL), -1);
    assert_int_equal(kz_project_level_index(NULL, "plr"), -1);
    kz_project_free(p);
    kz_project_free(NULL);
}

static void test_defaults(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = NULL;
    assert_int_equal(kz_project_load(&p, ctx, PDIR "/minimal.yml"), KZ_OK);
    assert_null(p->database);
    assert_int_equal(p->n_levels, 1);
    assert_int_equal(p->n_tables, 0);
    assert_null(p->tables);
    assert_int_equal(p->n_indicators, 0);
    assert_int_equal(p->n_objects, 0);
    assert_string_equal(p->outputs.dir, "out");
    assert_null(p->outputs.gpkg);
    assert_int_equal(p->outputs.geojson, 0);
    assert_int_equal(p->levels[0].key_width, 0);
    assert_null(p->levels[0].label);
    kz_project_free(p);
}

/* ---- validation errors ----------------------------------------------------- */

/* A valid start: lines 1-6; the first level's extra keys start on line 7
 * in column 5. */
#define HDR                                                                                        \
    "name: T\n"                                                                                    \
    "crs: EPSG:4326\n"                                                                             \
    "levels:\n"                                                                                    \
    "  - name: plr\n"                                                                              \
    "    source: geo/plr.geojson\n"                                                                \
    "    key: PLR_ID\n"

typedef struct bad_case {
    const char *yaml;
    const char *fragment; /* expected in the message, after "<dir>/" */
} bad_case;

static const bad_case bad_cases[] = {
    /* documents and syntax */
    {"", "inline.yml:1:1: the project file is empty"},
    {"# only a comment\n", "inline.yml:1:1: the project file is empty"},
    {"---\n", "the project file is empty"},
    {"- a\n- b\n", "inline.yml:1:1: the top level must be a mapping"},
    {"name: a\n  b: c\n", "inline.yml:2:4: YAML syntax error: mapping values are not allowed"},
    {"name: [a\n", "YAML syntax error"},
    {"name: a\n---\nname: b\n", "inline.yml:2:1: a second YAML document starts here"},
    {"name: &n x\ncrs: y\n", "inline.yml:1:7: anchor &n: anchors and aliases are not supported"},
    {"name: x\ncrs: *n\n", "inline.yml:2:6: alias *n: anchors and aliases are not supported"},
    {"name: [[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]\n",
     "inline.yml:1:22: lists and mappings nested deeper than 16"},
    {"name: \"a\\0b\"\n", "inline.yml:1:7: the value contains a NUL character"},
    {"name: a\xff\n", "inline.yml:1:8: YAML error: invalid leading UTF-8 octet"},
    {"? [a]\n: b\n", "inline.yml:1:3: a key must be plain text, got a list"},
    /* unknown keys */
    {HDR "    prent: bzr\n",
     "inline.yml:7:5: levels[0].prent: unknown key; did you mean \"parent\"?"},
    {HDR "    colour: red\n",
     "inline.yml:7:5: levels[0].colour: unknown key; the keys allowed here are name, title, "
     "source"},
    {HDR "palette: []\n", "inline.yml:7:1: palette: unknown key; the keys allowed here are name"},
    {HDR "indicator:\n", "inline.yml:7:1: indicator: unknown key; did you mean \"indicators\"?"},
    {HDR "    key: X\n", "inline.yml:7:5: levels[0].key: given twice (first on line 6)"},
    /* types */
    {HDR "    title: [a, b]\n",
     "inline.yml:7:12: levels[0].title: expected a text value, got a list"},
    {HDR "    title: {a: b}\n", "levels[0].title: expected a text value, got a mapping"},
    {HDR "    key_width: 8.5\n",
     "inline.yml:7:16: levels[0].key_width: expected a whole number, got \"8.5\""},
    {HDR "    key_width: [8]\n", "levels[0].key_width: expected a whole number, got a list"},
    {HDR "    key_width: 99\n",
     "levels[0].key_width: 99 is out of range; use a number from 0 to 64"},
    {HDR "    key_width: -1\n", "levels[0].key_width: -1 is out of range"},
    {HDR "indicators:\n  - {name: a, numerator: x, scale: .inf}\n",
     "inline.yml:8:36: indicators[0].scale: expected a finite number such as 100 or 0.5, got "
     "\".inf\""},
    {HDR "indicators:\n  - {name: a, numerator: x, scale: 1e999}\n",
     "indicators[0].scale: expected a finite number"},
    {HDR "indicators:\n  - {name: a, numerator: x, scale: nan}\n",
     "indicators[0].scale: expected a finite number"},
    {HDR "indicators:\n  - {name: a, numerator: x, scale: 0}\n",
     "inline.yml:8:36: indicators[0].scale: must not be 0"},
    {HDR "    parent_match: overlaps\n",
     "inline.yml:7:19: levels[0].parent_match: \"overlaps\" is not one of prefix, overlap"},
    {HDR "    duplicates: keep\n", "levels[0].duplicates: \"keep\" is not one of error, merge"},
    {HDR "    invalid: fix\n", "levels[0].invalid: \"fix\" is not one of repair, reject"},
    {"name: [a]\ncrs: x\n", "inline.yml:1:7: name: expected a text value, got a list"},
    {"name: \"\"\n", "inline.yml:1:7: name: must not be empty"},
    {"name:\ncrs: x\nlevels: []\n", "inline.yml:1:6: name: required key has no value"},
    {"name: a\ncrs: x\nlevels: plr\n",
     "inline.yml:3:9: levels: expected a list (items starting with \"- \"), got a text value"},
    {"name: a\ncrs: x\nlevels: []\n", "inline.yml:3:9: levels: needs at least one level"},
    {"name: a\ncrs: x\nlevels:\n  - plr\n",
     "inline.yml:4:5: levels[0]: expected a mapping of keys to values"},
    {HDR "outputs: [a]\n", "inline.yml:7:10: outputs: expected a mapping"},
    {HDR "outputs: {dir: out, geojson: maybe}\n",
     "inline.yml:7:30: outputs.geojson: expected true or false, got \"maybe\""},
    {HDR "outputs: {gpkg: sub/x.gpkg}\n", "outputs.gpkg: a file name inside outputs.dir"},
    /* required keys */
    {"crs: x\nlevels: []\n", "inline.yml:1:1: name: required key is missing; add \"name: ...\""},
    {"name: a\nlevels: []\n", "inline.yml:1:1: crs: required key is missing"},
    {"name: a\ncrs: x\n", "inline.yml:1:1: levels: required key is missing"},
    {"name: a\ncrs: x\nlevels:\n  - {source: geo/plr.geojson, key: PLR_ID}\n",
     "inline.yml:4:5: levels[0].name: required key is missing"},
    {"name: a\ncrs: x\nlevels:\n  - {name: plr, source: geo/plr.geojson}\n",
     "inline.yml:4:5: levels[0].key: required with source"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, period: 2023}\n",
     "inline.yml:8:5: tables[0].key: required key is missing"},
    {HDR "indicators:\n  - {name: a}\n", "indicators[0].numerator: required key is missing"},
    {HDR "objects:\n  - {name: a}\n", "objects[0].source: required key is missing"},
    /* names */
    {HDR "  - name: plr\n    source: geo/bzr.geojson\n    key: BZR_ID\n",
     "inline.yml:7:11: levels[1].name: \"plr\" is already the name of levels[0] (line 4)"},
    {"name: a\ncrs: x\nlevels:\n  - {name: P-LR, source: geo/plr.geojson, key: K}\n",
     "inline.yml:4:12: levels[0].name: \"P-LR\" is not a valid name"},
    {"name: a\ncrs: x\nlevels:\n  - {name: 1plr, source: geo/plr.geojson, key: K}\n",
     "levels[0].name: \"1plr\" is not a valid name"},
    {"name: a\ncrs: x\nlevels:\n  - {name: a23456789012345678901234567890123456789012, "
     "source: geo/plr.geojson, key: K}\n",
     "is not a valid name"},
    {"name: a\ncrs: x\nlevels:\n  - {name: layer_styles, source: geo/plr.geojson, key: K}\n",
     "levels[0].name: \"layer_styles\" is reserved"},
    {"name: a\ncrs: x\nlevels:\n  - {name: gpkg_x, source: geo/plr.geojson, key: K}\n",
     "levels[0].name: names starting with \"gpkg_\" are reserved"},
    {HDR "indicators:\n  - {name: a, numerator: x}\n  - {name: a, numerator: y}\n",
     "inline.yml:9:12: indicators[1].name: \"a\" is already the name of indicators[0] (line 8)"},
    {HDR "indicators:\n  - {name: key, numerator: x}\n",
     "indicators[0].name: \"key\" is a column the layers already have"},
    {HDR "indicators:\n  - {name: period_end, numerator: x}\n",
     "indicators[0].name: \"period_end\" is a column the layers already have"},
    {HDR "objects:\n  - {name: k, source: points/kitas.geojson}\n"
         "  - {name: k, source: points/kitas.geojson}\n",
     "inline.yml:9:12: objects[1].name: \"k\" is already the name of objects[0] (line 8)"},
    {HDR "objects:\n  - {name: plr, source: points/kitas.geojson}\n",
     "objects[0].name: \"plr\" is already the name of a level"},
    {HDR "objects:\n  - {name: plr_series, source: points/kitas.geojson}\n",
     "objects[0].name: \"plr_series\" is the name of the series table of level \"plr\""},
    {HDR "objects:\n  - {name: plr_time, source: points/kitas.geojson}\n",
     "objects[0].name: \"plr_time\" is the name of the time table of level \"plr\""},
    {HDR "objects:\n  - {name: plr_periods, source: points/kitas.geojson}\n",
     "objects[0].name: \"plr_periods\" is the name of the periods table of level \"plr\""},
    /* references and structure of levels */
    {HDR "    parent: bzx\n",
     "inline.yml:7:13: levels[0].parent: no level is called \"bzx\"; the levels are plr"},
    {HDR "  - {name: city, dissolve: plz, area_key: \"11\"}\n",
     "inline.yml:7:28: levels[1].dissolve: no level is called \"plz\"; the levels are plr, city"},
    {HDR "tables:\n  - {source: tab/long.csv, level: bzr, key: id, period: 2023}\n",
     "inline.yml:8:35: tables[0].level: no level is called \"bzr\""},
    {HDR "    dissolve: plr\n",
     "inline.yml:7:15: levels[0].dissolve: a level has either source (a geometry file) or "
     "dissolve"},
    {HDR "  - {name: city}\n", "inline.yml:7:5: levels[1]: level \"city\" needs either source"},
    {HDR "  - {name: city, dissolve: plr}\n",
     "inline.yml:7:5: levels[1].area_key: required when key_prefix is 0"},
    {HDR "  - {name: city, dissolve: plr, key_prefix: 3, area_key: \"1\"}\n",
     "levels[1].area_key: only applies with key_prefix: 0"},
    {HDR "  - {name: city, dissolve: plr, area_key: \"1\", key: X}\n",
     "levels[1].key: only applies to a level with source"},
    {HDR "    key_prefix: 2\n",
     "inline.yml:7:17: levels[0].key_prefix: only applies to a level built with dissolve"},
    /* cycles across parent and dissolve */
    {HDR "    parent: plr\n",
     "inline.yml:7:13: levels[0].parent: the levels form a cycle: plr -> plr"},
    {HDR "    parent: bzr\n  - {name: bzr, source: geo/bzr.geojson, key: K, parent: plr}\n",
     "inline.yml:7:13: levels[0].parent: the levels form a cycle: plr -> bzr -> plr"},
    {HDR "  - {name: a, dissolve: b, area_key: \"1\"}\n"
         "  - {name: b, dissolve: a, area_key: \"1\"}\n",
     "levels[2].dissolve: the levels form a cycle: a -> b -> a"},
    /* plr's parent is city, but city is built from plr: plr is coarser
     * than city and city coarser than plr. */
    {HDR "    parent: city\n  - {name: finer, source: geo/bzr.geojson, key: K, parent: plr}\n"
         "  - {name: city, dissolve: finer, key_prefix: 2, parent: plr}\n",
     "the levels form a cycle: plr -> city -> plr"},
    /* tables */
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id}\n",
     "inline.yml:8:5: tables[0]: needs one of period"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, "
         "period_column: ZEIT}\n",
     "inline.yml:8:78: tables[0].period_column: give only one of period, period_column and "
     "period_path"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, period_as: "
         "year}\n",
     "tables[0].period_as: only applies with period_path"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period_path: \"([0-9]{4}\"}\n",
     "inline.yml:8:62: tables[0].period_path: not a valid POSIX extended regular expression"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period_path: "
         "\"([12]++++++++++++++++++++++++++++++)\"}\n",
     "tables[0].period_path: the regular expression repeats too much"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period_path: "
         "\"((((a{99}){99}){99}){99})\"}\n",
     "tables[0].period_path: the regular expression repeats too much"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period_path: "
         "\"(x)a{1,2}{3}{4}{5}{6}{7}{8}{9}\"}\n",
     "tables[0].period_path: the regular expression repeats too much"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period_path: "
         "\"-([0-9]{4})-0([12]+.+*)-\"}\n",
     "tables[0].period_path: the regular expression repeats too much"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period_path: \"-([0-9]{4})-\", "
         "period_as: year_half}\n",
     "tables[0].period_path: needs 2 capture groups (...) for period_as: year_half"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period_path: \"-[0-9]{4}-\"}\n",
     "tables[0].period_path: needs 1 capture group (...) for period_as: date"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, format: long, "
         "variable_column: v}\n",
     "tables[0].value_column: required with format: long"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, format: long, "
         "variable_column: v, value_column: w, variables: [a]}\n",
     "tables[0].variables: only applies with format: wide"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, value_column: "
         "w}\n",
     "tables[0].value_column: only applies with format: long"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, format: "
         "tall}\n",
     "tables[0].format: \"tall\" is not one of wide, long"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, delimiter: "
         "ab}\n",
     "tables[0].delimiter: \"ab\" is not a delimiter"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, decimal: "
         "\";\"}\n",
     "tables[0].decimal: \";\" is not one of \".\", \",\""},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, thousands: "
         "_}\n",
     "tables[0].thousands: \"_\" is not one of \" \", \".\", \",\", \"'\", nbsp, none"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, decimal: "
         "\",\", thousands: \",\"}\n",
     "tables[0].thousands: is the same as decimal"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, decimal: "
         "\",\", delimiter: \",\"}\n",
     "tables[0].delimiter: is the same as decimal"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, encoding: "
         "utf-16}\n",
     "tables[0].encoding: \"utf-16\" is not one of utf-8, latin1, cp1252, detect"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, unmatched: "
         "ignore}\n",
     "tables[0].unmatched: \"ignore\" is not one of error, warn"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, key_by_name: "
         "maybe}\n",
     "tables[0].key_by_name: expected true or false"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, variables: "
         "a}\n",
     "tables[0].variables: expected a list such as [a, b], got a text value"},
    {HDR "tables:\n  - {source: tab/long.csv, level: plr, key: id, period: 2023, variables: "
         "[a, [b]]}\n",
     "tables[0].variables: item 2: expected a text value, got a list"},
    {HDR "tables: {source: x}\n", "inline.yml:7:9: tables: expected a list"},
    /* objects */
    {HDR "objects:\n  - {name: p, source: points/pts.csv, x: lon, y: lat}\n",
     "inline.yml:8:5: objects[0]: x, y and crs go together"},
    {HDR "indicators:\n  - {name: a, numerator: x, polarity: good}\n",
     "indicators[0].polarity: \"good\" is not one of neutral, positive, negative"},
    /* sources */
    {"name: a\ncrs: x\nlevels:\n  - {name: plr, source: nothere/x.shp, key: K}\n",
     "inline.yml:4:25: levels[0].source: nothere/x.shp not found next to the project file (" PDIR
     "/nothere/x.shp) or in $KIEZ_GEODATA ("},
    {"name: a\ncrs: x\nlevels:\n  - {name: plr, source: \"nothere/x.gpkg|layername=a\", key: K}\n",
     "levels[0].source: nothere/x.gpkg not found next to the project file"},
    {"name: a\ncrs: x\nlevels:\n  - {name: plr, source: /nonexistent/x.shp, key: K}\n",
     "levels[0].source: /nonexistent/x.shp not found; check the path"},
    {"name: a\ncrs: x\nlevels:\n  - {name: plr, source: \"|layername=a\", key: K}\n",
     "levels[0].source: no file name before \"|\""},
    {HDR "tables:\n  - {source: \"tab/*/nomatch-*.csv\", level: plr, key: id, period: 2023}\n",
     "inline.yml:8:14: tables[0].source: tab/*/nomatch-*.csv matches no file next to the "
     "project file"},
    {HDR "objects:\n  - {name: k, source: points/none.geojson}\n",
     "objects[0].source: points/none.geojson not found"},
};

static void test_validation_errors(void **state)
{
    kz_ctx *ctx = *state;
    size_t i, failures = 0;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        kz_project *p = (kz_project *)1;
        const bad_case *c = &bad_cases[i];
        int rc = kz_project__parse_buffer(&p, ctx, c->yaml, strlen(c->yaml), INLINE, 0);
        const char *msg = kz_ctx_errmsg(ctx);
        if (rc != KZ_E_USAGE || strstr(msg, c->fragment) == NULL ||
            strncmp(msg, PDIR "/inline.yml:", strlen(PDIR "/inline.yml:")) != 0) {
            print_error("case %zu: rc %d\n  yaml: %s\n  want: %s\n  got:  %s\n", i, rc, c->yaml,
                        c->fragment, msg);
            failures++;
        }
        assert_null(p);
    }
    assert_int_equal(failures, 0);
}

/* Reader errors with bytes that strlen() would cut: a NUL in the text. */
static void test_nul_byte(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = NULL;
    static const char text[] = "name: a\0b\n";
    assert_int_equal(kz_project__parse_buffer(&p, ctx, text, sizeof(text) - 1, INLINE, 0),
                     KZ_E_USAGE);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "inline.yml:1:8: YAML error"));
    assert_null(p);
}

static void test_file_errors(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = (kz_project *)1;
    assert_int_equal(kz_project_load(&p, ctx, PDIR "/does-not-exist.yml"), KZ_E_IO);
    assert_null(p);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "does-not-exist.yml: cannot open the project file"));
    assert_int_equal(kz_project_load(&p, ctx, PDIR), KZ_E_IO); /* a folder */
    assert_null(p);
    assert_int_equal(kz_project_load(&p, ctx, PDIR "/two_docs.yml"), KZ_E_USAGE);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "two_docs.yml:2:1: a second YAML document"));
}

static void test_too_large(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = NULL;
    size_t n = (1u << 20) + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, '#', n);
    assert_int_equal(kz_project__parse_buffer(&p, ctx, big, n, INLINE, 0), KZ_E_USAGE);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "larger than"));
    free(big);
}

/* ---- path resolution -------------------------------------------------------- */

static void test_geodata_env(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = NULL;
    char *old = getenv("KIEZ_GEODATA") ? strdup(getenv("KIEZ_GEODATA")) : NULL;

    assert_int_equal(setenv("KIEZ_GEODATA", PDIR "/geodata", 1), 0);
    assert_int_equal(kz_project_load(&p, ctx, PDIR "/geodata.yml"), KZ_OK);
    assert_string_equal(p->levels[0].source, PDIR "/geodata/extra/areas.geojson|layername=areas");
    kz_project_free(p);

    /* Found next to the project file first, even when $KIEZ_GEODATA has it too. */
    assert_int_equal(setenv("KIEZ_GEODATA", PDIR, 1), 0);
    assert_int_equal(kz_project_load(&p, ctx, PDIR "/minimal.yml"), KZ_OK);
    assert_string_equal(p->levels[0].source, PDIR "/geo/plr.geojson");
    kz_project_free(p);

    /* Unset (or empty): the default ../shared/geodata, named in the message. */
    assert_int_equal(setenv("KIEZ_GEODATA", "", 1), 0);
    assert_int_equal(kz_project_load(&p, ctx, PDIR "/geodata.yml"), KZ_E_USAGE);
    assert_null(p);
    assert_non_null(strstr(kz_ctx_errmsg(ctx),
                           "geodata.yml:5:27: levels[0].source: extra/areas.geojson not found "
                           "next to the project file (" PDIR "/extra/areas.geojson) or in "
                           "$KIEZ_GEODATA (../shared/geodata/extra/areas.geojson)"));
    assert_int_equal(unsetenv("KIEZ_GEODATA"), 0);
    assert_int_equal(kz_project_load(&p, ctx, PDIR "/geodata.yml"), KZ_E_USAGE);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "(../shared/geodata/extra/areas.geojson)"));

    if (old != NULL) {
        setenv("KIEZ_GEODATA", old, 1);
        free(old);
    }
}

/* A project file without a folder part resolves against the working dir. */
static void test_relative_project_path(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = NULL;
    static const char text[] = "name: a\ncrs: x\nlevels:\n  - {name: a, source: geo/plr.geojson, "
                               "key: K}\n";
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(PDIR), 0);
    assert_int_equal(kz_project__parse_buffer(&p, ctx, text, strlen(text), "x.yml", 0), KZ_OK);
    assert_string_equal(p->levels[0].source, "geo/plr.geojson");
    kz_project_free(p);
    assert_int_equal(chdir(cwd), 0);
}

static void test_no_fs_flag(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = NULL;
    static const char text[] = "name: a\ncrs: x\nlevels:\n  - {name: a, source: nowhere.shp, "
                               "key: K}\n";
    assert_int_equal(
        kz_project__parse_buffer(&p, ctx, text, strlen(text), "x.yml", KZ_PROJECT__NO_FS), KZ_OK);
    assert_string_equal(p->levels[0].source, "nowhere.shp");
    kz_project_free(p);
}

/* The real Berlin data; skipped when $KIEZ_GEODATA is not there. */
static void test_real_geodata(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = NULL;
    struct stat st;
    char *old = getenv("KIEZ_GEODATA") ? strdup(getenv("KIEZ_GEODATA")) : NULL;
    if (stat(KZ_GEODATA "/berlin/geometry/lor_planungsraeume_2021.shp", &st) != 0) {
        free(old);
        skip();
    }
    assert_int_equal(setenv("KIEZ_GEODATA", KZ_GEODATA, 1), 0);
    assert_int_equal(kz_project_load(&p, ctx, PDIR "/berlin.yml"), KZ_OK);
    assert_string_equal(p->levels[0].source,
                        KZ_GEODATA "/berlin/geometry/lor_planungsraeume_2021.shp");
    assert_string_equal(p->tables[0].source,
                        KZ_GEODATA "/berlin/population/*/*-t2-planning-areas.csv");
    assert_int_equal(kz_project_level_index(p, "city"), 3);
    kz_project_free(p);
    if (old != NULL)
        setenv("KIEZ_GEODATA", old, 1);
    else
        unsetenv("KIEZ_GEODATA");
    free(old);
}

/* The complete example of docs/project-file.md loads against the real data. */
static void test_doc_example(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = NULL;
    struct stat st;
    FILE *f;
    char *doc, *start, *end;
    size_t len;
    char *old = getenv("KIEZ_GEODATA") ? strdup(getenv("KIEZ_GEODATA")) : NULL;
    if (stat(KZ_GEODATA "/berlin/geometry/lor_planungsraeume_2021.shp", &st) != 0) {
        free(old);
        skip();
    }
    f = fopen(KZ_TEST_DATA "/../../docs/project-file.md", "rb");
    assert_non_null(f);
    doc = calloc(1, 1 << 18);
    assert_non_null(doc);
    len = fread(doc, 1, (1 << 18) - 1, f);
    fclose(f);
    assert_true(len > 0);
    start = strstr(doc, "```yaml\n");
    assert_non_null(start);
    start += strlen("```yaml\n");
    end = strstr(start, "```");
    assert_non_null(end);
    assert_int_equal(setenv("KIEZ_GEODATA", KZ_GEODATA, 1), 0);
    if (kz_project__parse_buffer(&p, ctx, start, (size_t)(end - start),
                                 KZ_TEST_DATA "/../../docs/example.yml", 0) != KZ_OK) {
        print_error("%s\n", kz_ctx_errmsg(ctx));
        fail();
    }
    assert_int_equal(p->n_levels, 4);
    assert_int_equal(kz_project_level_index(p, "city"), 3);
    kz_project_free(p);
    free(doc);
    if (old != NULL)
        setenv("KIEZ_GEODATA", old, 1);
    else
        unsetenv("KIEZ_GEODATA");
    free(old);
}

/* ---- memory ------------------------------------------------------------------- */

/* Fail the n-th allocation for every n: KZ_E_NOMEM, no project, no leak
 * (the ASan build checks leaks), until the load needs fewer allocations. */
static void alloc_loop(kz_ctx *ctx, const char *path, int want_rc)
{
    long n;
    for (n = 0;; n++) {
        kz_project *p = (kz_project *)1;
        int rc;
        kz_project__set_alloc_fail_after(n);
        rc = kz_project_load(&p, ctx, path);
        if (!kz_project__alloc_failed()) {
            kz_project__set_alloc_fail_after(-1);
            assert_int_equal(rc, want_rc);
            kz_project_free(p);
            break;
        }
        if (rc != KZ_E_NOMEM) {
            print_error("allocation %ld failed, but rc %d: %s\n", n, rc, kz_ctx_errmsg(ctx));
            fail();
        }
        assert_null(p);
        assert_true(n < 100000);
    }
    kz_project__set_alloc_fail_after(-1);
    assert_true(n > 100 || want_rc != KZ_OK); /* it did count our allocations */
}

static void test_alloc_failures(void **state)
{
    kz_ctx *ctx = *state;
    alloc_loop(ctx, PDIR "/full.yml", KZ_OK);
    alloc_loop(ctx, PDIR "/two_docs.yml", KZ_E_USAGE);
}

/* ---- the fuzz corpus runs as a plain test --------------------------------------- */

static void test_fuzz_corpus(void **state)
{
    kz_ctx *ctx = *state;
    DIR *d = opendir(CORPUS);
    struct dirent *e;
    int files = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        FILE *f;
        char *buf;
        size_t len;
        kz_project *p = NULL;
        int rc;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", CORPUS, e->d_name);
        f = fopen(path, "rb");
        assert_non_null(f);
        buf = malloc(1 << 20);
        assert_non_null(buf);
        len = fread(buf, 1, 1 << 20, f);
        fclose(f);
        rc = kz_project__parse_buffer(&p, ctx, buf, len, path, KZ_PROJECT__NO_FS);
        assert_true(rc == KZ_OK || rc == KZ_E_USAGE);
        assert_true((rc == KZ_OK) == (p != NULL));
        kz_project_free(p);
        free(buf);
        files++;
    }
    closedir(d);
    assert_true(files > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_project, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_geodata_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_project_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_fs_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_geodata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doc_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuzz_corpus, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
