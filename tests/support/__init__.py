"""Test helpers: a virtual X screen, a real Tk test application and a stand-in SGLang server."""
