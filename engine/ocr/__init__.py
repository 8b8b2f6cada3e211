"""Reading the screen's text on the CPU: detection and recognition models, line boxes, and a cache.

:mod:`engine.ocr.reader` runs the pipeline (:class:`~engine.ocr.reader.OcrEngine`),
:mod:`engine.ocr.models` finds the shipped models and opens sessions on them,
:mod:`engine.ocr.detection` finds text lines, :mod:`engine.ocr.recognition` batches and decodes
what they say, :mod:`engine.ocr.lines` shapes boxes from pixels, :mod:`engine.ocr.cache` remembers
what a screen said, :mod:`engine.ocr.int8` builds and checks the INT8 recognition model, and
:mod:`engine.ocr.settings` holds the knobs.
"""
