"""Actions: the vocabulary, the primitive events they send, and the semantic actions resolved against the screen."""
