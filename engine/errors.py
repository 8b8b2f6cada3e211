"""Errors raised by the engine.

EngineError
├── ModelError                 the model could not be asked or did not answer
│   ├── ModelUnavailable       connection refused, DNS, circuit open: nothing is listening
│   │   └── ModelUntrusted     it answers, but failed the grounding self-test (its boxes are off)
│   ├── ModelTimeout           connected but no answer within the read timeout
│   └── ModelServerError       HTTP error status or a malformed response envelope
└── ModelOutputError           the model answered, but not in a form we can use
                               (carries the raw text so the caller can show it)
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises."""


class ModelError(EngineError):
    """The model could not be asked, or did not answer."""


class ModelUnavailable(ModelError):
    """Nothing answers at the model server's address."""


class ModelUntrusted(ModelUnavailable):
    """The served model failed the grounding canary: it is not used to ground or plan.

    A kind of unavailability, so that what falls back without a model (describe's OCR) falls back.
    """


class ModelTimeout(ModelError):
    """The model server accepted the request but did not answer in time."""


class ModelServerError(ModelError):
    """The model server answered with an error status or a malformed envelope."""


class RequestRefused(ModelServerError):
    """The server refused this request (HTTP 4xx, or a 4xx error event mid-stream): it is up, the request was
    wrong.

    Another server would refuse it too, so a pool of endpoints does not retry it elsewhere.
    """


class ModelOutputError(EngineError):
    """The model's answer could not be parsed; ``raw`` holds what it said."""

    def __init__(self, message: str, raw: str) -> None:
        super().__init__(message)
        self.raw = raw
