"""Reading a chat-completion request as SGLang would: validation, image decoding, token counting,
and the OpenAI-style error responses for bad ones."""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator, SchemaError
from PIL import Image, UnidentifiedImageError

DATA_URL = re.compile(r"^data:image/[A-Za-z0-9.+-]+;base64,(?P<data>.*)$", re.DOTALL)


class HTTPError(Exception):
    """An OpenAI-style error response."""

    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind

    def body(self) -> dict[str, Any]:
        """The error body as SGLang sends it."""
        return {"object": "error", "message": self.message, "type": self.kind, "param": None, "code": self.status}


def bad_request(message: str) -> HTTPError:
    """A 400 in SGLang's error shape."""
    return HTTPError(400, message, "BadRequestError")


def message_texts(messages: Sequence[Mapping[str, Any]], roles: Sequence[str]) -> list[str]:
    """The text parts of the messages whose role is in ``roles``, in order."""
    texts: list[str] = []
    for message in messages:
        if message.get("role") not in roles:
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"]
    return texts


def decode_image(url: Any) -> tuple[int, int]:
    """The size of a ``data:image/...;base64,`` image; a 400 for anything else or an undecodable image."""
    if not isinstance(url, str):
        raise bad_request("image_url.url must be a string")
    match = DATA_URL.match(url)
    if match is None:
        shown = url[:60] + ("..." if len(url) > 60 else "")
        raise bad_request(f"Invalid image URL {shown!r}: send the image as a data:image/...;base64, URL")
    try:
        raw = base64.b64decode(match.group("data"), validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            return int(image.width), int(image.height)
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError) as exc:
        raise bad_request(f"Failed to load image: {exc}") from exc


def validate(body: Any) -> list[tuple[int, int]]:
    """Check a chat-completion body as SGLang would; return the decoded image sizes in order."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages: field required and must be a non-empty list")
    requested_schema(body)
    sizes: list[tuple[int, int]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant", "tool"):
            raise bad_request(f"messages[{i}]: each message needs a role of system, user, assistant or tool")
        content = message.get("content")
        if content is None and message.get("role") == "assistant":
            continue
        if isinstance(content, str):
            continue
        if not isinstance(content, list):
            raise bad_request(f"messages[{i}].content must be a string or a list of content parts")
        for j, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                if not isinstance(part.get("text"), str):
                    raise bad_request(f"messages[{i}].content[{j}].text must be a string")
            elif kind == "image_url":
                image_url = part.get("image_url")
                if not isinstance(image_url, dict):
                    raise bad_request(f"messages[{i}].content[{j}].image_url must be an object with a url")
                sizes.append(decode_image(image_url.get("url")))
            else:
                raise bad_request(f"messages[{i}].content[{j}]: unsupported content part type {kind!r}")
    return sizes


_RESPONSE_FORMAT_TYPES = ("text", "json_object", "json_schema")
_STRUCTURED_OUTPUT_KINDS = ("json", "regex", "choice", "grammar", "json_object", "structural_tag")


def _compiled(schema: Any, field: str) -> dict[str, Any]:
    """``schema`` if a grammar backend could compile it; else the 400 SGLang's scheduler aborts with."""
    if isinstance(schema, str):  # vLLM also takes the schema as a JSON string
        try:
            schema = json.loads(schema)
        except ValueError as exc:
            raise bad_request(f"{field}: the schema is not valid JSON: {exc}") from exc
    if not isinstance(schema, dict):
        raise bad_request(f"{field}: Input should be a valid dictionary")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise bad_request(f"Invalid grammar request: {field} is not a valid JSON schema: {exc.message}") from exc
    return schema


def requested_schema(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON schema the answer must follow, from ``response_format`` or ``structured_outputs``; a 400
    for a malformed one.

    ``response_format`` is checked as SGLang's ``ResponseFormat`` model does (``type`` one of text,
    json_object, json_schema; ``json_schema`` an object with a string ``name``; ``schema`` required, as
    ``OpenAIServingChat._validate_request`` says). ``structured_outputs`` is vLLM's (>= 0.12): an object
    with exactly one constraint, its ``json`` a schema object or JSON string. A schema that is not valid
    JSON Schema is refused as "Invalid grammar request" (SGLang aborts with 400 when its grammar backend
    cannot compile it; over a stream it sends that error as an event after HTTP 200, here always a 400).
    """
    schema: dict[str, Any] | None = None
    response_format = body.get("response_format")
    if response_format is not None:
        if not isinstance(response_format, dict) or response_format.get("type") not in _RESPONSE_FORMAT_TYPES:
            raise bad_request("response_format.type: Input should be 'text', 'json_object' or 'json_schema'")
        if response_format["type"] == "json_schema":
            spec = response_format.get("json_schema")
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise bad_request("response_format.json_schema.name: Field required (a string)")
            if spec.get("schema") is None:
                raise bad_request("schema_ is required for json_schema response format request.")
            schema = _compiled(spec["schema"], "response_format.json_schema.schema")
    structured = body.get("structured_outputs")
    if structured is not None:
        if not isinstance(structured, dict):
            raise bad_request("structured_outputs: Input should be a valid dictionary")
        kinds = [kind for kind in _STRUCTURED_OUTPUT_KINDS if structured.get(kind) is not None]
        if len(kinds) != 1:
            raise bad_request(
                "You can only use one kind of structured outputs constraint "
                f"but {'none' if not kinds else 'multiple'} are specified: {structured}"
            )
        if kinds == ["json"]:
            schema = _compiled(structured["json"], "structured_outputs.json")
    return schema


def count_prompt_tokens(body: Mapping[str, Any], sizes: Sequence[tuple[int, int]]) -> int:
    """A rough prompt token count: text length / 4 plus one token per 32x32 px (+2) per image."""
    text = "".join(message_texts(body["messages"], ("system", "user", "assistant", "tool")))
    images = sum(math.ceil(w / 32) * math.ceil(h / 32) + 2 for w, h in sizes)
    return len(text) // 4 + images
