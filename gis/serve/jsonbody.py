"""The JSON object body of one of our own write routes (/care/api, /welfare/api): read no further than a byte
bound, parsed, validated by the route's pydantic model. Every refusal is a 4xx JSONResponse `{"reason", "message"}`
in Vietnamese and English: 413 `too_large`, 400 `bad_json` (not JSON, nested past the parser's depth, or not an
object), 422 `invalid_fields` (with `problems`, one per field). Never a 5xx for what a client sends."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

M = TypeVar("M", bound=BaseModel)


def json_error(status: int, reason: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"reason": reason, "message": message, **extra}, status_code=status)


async def bounded_body(request: Request, max_bytes: int) -> bytes | None:
    """The body, or None once it is over `max_bytes` (declared or streamed; read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request, model: type[M], max_bytes: int, example: str = "") -> M | JSONResponse:
    """The body validated as `model`, or the 4xx that says why not; `example` shows the expected object."""
    raw = await bounded_body(request, max_bytes)
    if raw is None:
        return json_error(413, "too_large", f"nội dung quá {max_bytes} byte — the body is over {max_bytes} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: brackets nested deeper than the parser goes
        return json_error(400, "bad_json", f"nội dung không phải JSON — the body is not JSON: {exc}")
    if not isinstance(data, dict):
        return json_error(
            400, "bad_json", f"cần một đối tượng JSON — the body must be a JSON object {example}".rstrip()
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()]
        message = "trường không hợp lệ — invalid fields: " + "; ".join(problems)
        return json_error(422, "invalid_fields", message, problems=problems)
