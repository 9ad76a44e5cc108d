#!/usr/bin/python3
"""QGIS's temporal controller can play the periods: every <level>_time
layer of the Berlin demo loads in QGIS with its temporal fields recognised
(start and end from fields, period_start/period_end), its default style
activates the temporal properties when applied, its features' periods tile
the time line without gaps, and the GeoPackage still validates.

Seen with QGIS 3.22: a default style from layer_styles applied on load
carries the renderer but not the temporal settings; QGIS pre-fills the
fields itself, so the user ticks "Dynamic temporal control" once, or loads
the layer's "timeline" style from the style manager.
"""
import os
import subprocess
import sys
import tempfile

KIEZ = sys.argv[1]
GEODATA = os.environ.get("KIEZ_GEODATA", "../shared/geodata")
VALIDATOR = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def layer_checks(gpkg, names):
    import sqlite3
    from qgis.core import QgsVectorLayer, QgsVectorLayerTemporalProperties
    from qgis.PyQt.QtXml import QDomDocument
    db = sqlite3.connect(gpkg)
    for name in names:
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        if not check(layer.isValid(), f"{name} loads"):
            continue
        row = db.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = ? AND "
                         "useAsDefault = 1", (name,)).fetchone()
        if check(row is not None, f"{name}: has a default style"):
            doc = QDomDocument()
            doc.setContent(row[0])
            ok, err = layer.importNamedStyle(doc)
            check(ok, f"{name}: default style applies: {err}")
        tp = layer.temporalProperties()
        check(tp.isActive(), f"{name}: temporal properties active")
        check(tp.mode() == QgsVectorLayerTemporalProperties.ModeFeatureDateTimeStartAndEndFromFields,
              f"{name}: start and end from fields, mode {tp.mode()}")
        check(tp.startField() == "period_start" and tp.endField() == "period_end",
              f"{name}: fields {tp.startField()} {tp.endField()}")
        check(layer.renderer().type() != "singleSymbol", f"{name}: styled ({layer.renderer().type()})")
        # Periods of one area follow each other without gaps.
        spans = sorted((f["period_start"], f["period_end"]) for f in layer.getFeatures()
                       if f["key"] == next(layer.getFeatures())["key"])
        check(len(spans) >= 2 and all(a[1] == b[0] for a, b in zip(spans, spans[1:])),
              f"{name}: periods tile the time line")


def main():
    if not os.path.isdir(os.path.join(GEODATA, "berlin")):
        print("skipped: no Berlin data")
        return 77
    try:
        from qgis.core import QgsApplication
    except ImportError:
        print("skipped: no python3-qgis")
        return 77
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([KIEZ, "run", "geodata/berlin/berlin.yml", "--out", out, "-q"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr)
            return 1
        gpkg = os.path.join(out, "berlin.gpkg")
        v = subprocess.run(["/usr/bin/python3", VALIDATOR, "-k", gpkg], capture_output=True,
                           text=True)
        check(v.returncode == 0, f"validate_gpkg: {v.stdout}{v.stderr}")
        QgsApplication.setPrefixPath("/usr", True)
        app = QgsApplication([], False)
        app.initQgis()
        try:
            layer_checks(gpkg, ["plr_time", "bezirk_time", "plr_2006_time"])
        finally:
            app.exitQgis()
    return 1 if failures else 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    os._exit(rc)
