"""Text on the screen as a person reads it: finding a text, choosing one match, fusing OCR with the model."""
