"""Documented error answers of the routes, typed as FastAPI's `responses=` expects them."""

from typing import Any

# FastAPI's own annotation of `responses`; its values are free-form OpenAPI objects
Responses = dict[int | str, dict[str, Any]]

NOT_FOUND: Responses = {404: {"description": "not found, or not the caller's to see"}}
CONFLICT: Responses = {409: {"description": "exists already, or the state does not allow it"}}
