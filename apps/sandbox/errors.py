"""The sandbox's error type: an HTTP status with MiniCRM's plain-text (or, once, JSON) message."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, as_json: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.as_json = as_json


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def not_allowed(message: str = "Method not allowed.") -> ApiError:
    return ApiError(405, message)
