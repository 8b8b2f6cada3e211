"""Tests of engine/: geometry, OCR, text finding and fusion, the model backends, parsing and prompts."""
