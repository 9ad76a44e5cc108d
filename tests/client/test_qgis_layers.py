#!/usr/bin/python3
"""Real-client test: QGIS opens the demo outputs with their default styles.

Runs `kiez run geodata/berlin/berlin.yml` into a temporary folder, then,
with Debian's QGIS (python3-qgis, headless):

- the GeoPackage passes validate_gpkg.py with its layer_styles table;
- every level layer of the GeoPackage and every <level>.geojson (through
  its sidecar .qml) loads with a graduated or categorised renderer (not a
  single symbol) whose attribute is an indicator of indicator_catalogue;
  its legend labels end with a class count "(n)";
- field aliases are the catalogue labels; area-name labels are on and
  scale-dependent;
- the GeoPackage offers one stored style per indicator (style manager);
- a rendering of the planning areas (whole city, and one district zoomed
  in so the names show) is written to tests/artifacts/ and is not blank.

Usage: test_qgis_layers.py KIEZ [OUT_DIR]  (OUT_DIR: check existing outputs
instead of running kiez). Exit 77 (skip) without the data or QGIS.
"""
import os
import sqlite3
import subprocess
import sys
import tempfile

KIEZ = sys.argv[1]
GEODATA = os.environ.get("KIEZ_GEODATA", "../shared/geodata")
VALIDATOR = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"
ARTIFACTS = os.path.join(os.getcwd(), "tests", "artifacts")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def non_blank(image):
    """Distinct colours on a 40x40 sample grid of a QImage."""
    seen = set()
    for i in range(40):
        for j in range(40):
            seen.add(image.pixel(image.width() * i // 40, image.height() * j // 40))
    return len(seen)


def draw_legend(image, layer, title):
    """Paint the renderer's legend onto the rendered image (for screenshots)."""
    from qgis.PyQt.QtCore import QRectF, Qt
    from qgis.PyQt.QtGui import QColor, QFont, QPainter

    items = layer.renderer().legendSymbolItems()
    p = QPainter(image)
    p.setRenderHint(QPainter.Antialiasing)
    font = QFont("DejaVu Sans", 9)
    p.setFont(font)
    w, line = 330, 20
    h = line * (len(items) + 1) + 14
    x0, y0 = 12, image.height() - h - 12
    p.fillRect(QRectF(x0, y0, w, h), QColor(255, 255, 255, 230))
    p.setPen(QColor(30, 30, 30))
    font.setBold(True)
    p.setFont(font)
    p.drawText(QRectF(x0 + 8, y0 + 6, w - 16, line), Qt.AlignLeft | Qt.AlignVCenter, title)
    font.setBold(False)
    p.setFont(font)
    for k, item in enumerate(items):
        y = y0 + 6 + line * (k + 1)
        p.fillRect(QRectF(x0 + 8, y + 3, 24, 14), item.symbol().color())
        p.drawRect(QRectF(x0 + 8, y + 3, 24, 14))
        p.drawText(QRectF(x0 + 40, y, w - 48, line), Qt.AlignLeft | Qt.AlignVCenter, item.label())
    p.end()


def render(layer, extent, path, size=(900, 760), legend_title=None):
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setOutputSize(QSize(*size))
    settings.setOutputDpi(96)
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    if legend_title:
        draw_legend(image, layer, legend_title)
    image.save(path, "png")
    return image, settings.scale()


def check_layer(layer, what, indicators, aliases):
    from qgis.core import QgsGraduatedSymbolRenderer

    if not check(layer.isValid(), f"{what}: loads"):
        return
    r = layer.renderer()
    kind = r.type() if r else None
    if not check(kind in ("graduatedSymbol", "categorizedSymbol"),
                 f"{what}: renderer is {kind}, not graduated/categorised (default style not applied)"):
        return
    check(r.classAttribute() in indicators,
          f"{what}: renderer attribute {r.classAttribute()!r} is an indicator")
    if isinstance(r, QgsGraduatedSymbolRenderer):
        labels = [rg.label() for rg in r.ranges()]
        check(labels and all(lb.rstrip().endswith(")") for lb in labels),
              f"{what}: legend labels carry class counts: {labels}")
    fields = layer.fields()
    for name, alias in aliases.items():
        idx = fields.indexOf(name)
        if check(idx >= 0, f"{what}: field {name}"):
            check(layer.attributeAlias(idx).startswith(alias),
                  f"{what}: alias of {name} is {layer.attributeAlias(idx)!r}, want {alias!r}")
    check(layer.labelsEnabled(), f"{what}: area names labelled")
    lab = layer.labeling()
    if lab is not None:
        s = lab.settings()
        check(s.fieldName == "name", f"{what}: labels show the name field")
        check(s.scaleVisibility and s.minimumScale > 0,
              f"{what}: labels are scale-dependent (max scale 1:{s.minimumScale:.0f})")


def check_outputs(out):
    try:
        from qgis.core import QgsApplication, QgsVectorLayer
    except ImportError:
        print("skipped: no python3-qgis")
        return 77
    gpkg = os.path.join(out, "berlin.gpkg")
    if not check(os.path.exists(gpkg), "berlin.gpkg written"):
        return 1
    db = sqlite3.connect(gpkg)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not check("layer_styles" in tables, "the GeoPackage has a layer_styles table"):
        return 1
    cat = db.execute("SELECT name, label, unit FROM indicator_catalogue").fetchall()
    indicators = [c[0] for c in cat]
    aliases = {c[0]: c[1] for c in cat}
    levels = [r[0] for r in db.execute(
        "SELECT table_name FROM gpkg_contents WHERE data_type='features' AND table_name IN "
        "(SELECT f_table_name FROM layer_styles) ORDER BY table_name")]
    features = [r[0] for r in db.execute(
        "SELECT c.table_name FROM gpkg_contents c JOIN gpkg_geometry_columns g"
        " ON g.table_name = c.table_name WHERE g.geometry_type_name = 'MULTIPOLYGON'"
        " AND c.table_name <> 'measures'")]  # the register of measures is not a level
    check(sorted(levels) == sorted(features), f"every level layer has styles: {levels} vs {features}")
    # <level>_time layers (temporal controller) are checked in test_qgis_temporal.py.
    levels = [name for name in levels if not name.endswith("_time")]
    rows = db.execute("SELECT f_table_catalog, f_table_schema, f_geometry_column, update_time,"
                      " SUM(useAsDefault), COUNT(*) FROM layer_styles"
                      " WHERE f_table_name NOT LIKE '%\\_time' ESCAPE '\\'"
                      " GROUP BY f_table_name").fetchall()
    for catalog, schema, geom, updated, defaults, count in rows:
        check(catalog == "" and schema == "" and geom == "geom",
              f"layer_styles keys: {catalog!r} {schema!r} {geom!r}")
        check(len(updated) == 24 and updated.endswith("Z"), f"update_time format {updated!r}")
        check(defaults == 1 and count == len(indicators),
              f"one default style and one per indicator: {defaults}, {count}")
    db.close()
    proc = subprocess.run(["/usr/bin/python3", VALIDATOR, "-k", gpkg], capture_output=True,
                          text=True)
    check(proc.returncode == 0, f"validate_gpkg.py with layer_styles: {proc.stdout}{proc.stderr}")

    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    try:
        # Every layer lives in the callee's frame, gone before exitQgis():
        # a layer outliving the application crashes at interpreter exit.
        qgis_checks(out, gpkg, levels, indicators, aliases)
    finally:
        app.exitQgis()
    return 1 if failures else 0


def qgis_checks(out, gpkg, levels, indicators, aliases):
    from qgis.core import QgsVectorLayer

    for level in levels:
        layer = QgsVectorLayer(f"{gpkg}|layername={level}", level, "ogr")
        check_layer(layer, f"{level} (GeoPackage)", indicators, aliases)
        n, ids, names, descs, err = layer.listStylesInDatabase()
        check(n >= len(indicators) and set(indicators) <= set(names),
              f"{level}: style manager offers every indicator: {names}")
    for level in levels:
        path = os.path.join(out, level + ".geojson")
        if check(os.path.exists(path), f"{level}.geojson written"):
            check(os.path.exists(os.path.join(out, level + ".qml")),
                  f"{level}.qml sidecar written")
            layer = QgsVectorLayer(path, level, "ogr")
            check_layer(layer, f"{level}.geojson", indicators, aliases)

    layer = QgsVectorLayer(f"{gpkg}|layername=plr", "plr", "ogr")
    os.makedirs(ARTIFACTS, exist_ok=True)
    if check(layer.isValid(), "plr loads for rendering"):
        attr = layer.renderer().classAttribute()
        title = layer.attributeAlias(layer.fields().indexOf(attr)) or attr
        png = os.path.join(ARTIFACTS, "qgis_plr.png")
        image, scale = render(layer, layer.extent(), png, legend_title=title)
        colours = non_blank(image)
        print(f"rendered {png} at 1:{scale:.0f}, {colours} colours")
        check(colours >= 5, f"rendering of plr is not blank ({colours} colours)")
        # Zoomed in on one district (Friedrichshain-Kreuzberg): names show.
        layer.setSubsetString("key LIKE '02%'")
        extent = layer.extent()
        layer.setSubsetString("")
        extent.scale(1.05)
        png = os.path.join(ARTIFACTS, "qgis_plr_zoom.png")
        image, scale = render(layer, extent, png, legend_title=title)
        colours = non_blank(image)
        print(f"rendered {png} at 1:{scale:.0f}, {colours} colours")
        check(colours >= 5, f"zoomed rendering is not blank ({colours} colours)")
        check(scale < layer.labeling().settings().minimumScale,
              f"zoomed scale 1:{scale:.0f} shows the labels")


def main():
    if len(sys.argv) > 2:
        rc = check_outputs(sys.argv[2])
        print("FAILED:" if failures else "ok", *failures, sep="\n  ")
        return rc
    if not os.path.isdir(os.path.join(GEODATA, "berlin")):
        print("skipped: no Berlin data in", GEODATA)
        return 77
    try:
        import qgis.core  # noqa: F401
    except ImportError:
        print("skipped: no python3-qgis")
        return 77
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([KIEZ, "run", "geodata/berlin/berlin.yml", "--out", out, "-q"],
                              capture_output=True, text=True)
        print(proc.stderr[-3000:])
        if proc.returncode != 0:
            print("kiez run failed with", proc.returncode)
            return 1
        rc = check_outputs(out)
    print("FAILED:" if failures else "ok", *failures, sep="\n  ")
    return rc


if __name__ == "__main__":
    sys.exit(main())
