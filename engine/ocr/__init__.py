"""Reading the screen's text on the CPU: detection and recognition models, line boxes, and a cache.

:mod:`engine.ocr.reader` runs the models, :mod:`engine.ocr.lines` shapes boxes from pixels,
:mod:`engine.ocr.cache` remembers what a screen said, :mod:`engine.ocr.int8` builds and checks the
INT8 recognition model.
"""
