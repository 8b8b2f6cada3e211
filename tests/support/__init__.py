"""Test helpers: a virtual X screen, a real Tk test application, a stand-in SGLang server, and what tests share.

Test modules import shared helpers from here (scenarios, inprocess, stdio, pointer, ocr_screens,
shop.publish, markers...), never from one another; shared fixtures live in tests/conftest.py.
"""
