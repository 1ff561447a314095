"""TokenAuth: the shared access token, as a bearer header or as a session cookie set at login."""

import hashlib
import hmac

from pydantic import SecretStr
from starlette.requests import Request

SESSION_COOKIE = "bk_session"
_SESSION_CONTEXT = b"brightkitchen-session-v1"


class TokenAuth:
    """Checks requests against the token; the cookie holds an HMAC of it, never the token itself."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token.get_secret_value().encode()
        self._session = hmac.new(self._token, _SESSION_CONTEXT, hashlib.sha256).hexdigest()

    def check_token(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self._token)

    def session_value(self) -> str:
        return self._session

    def check_session(self, cookie: str) -> bool:
        return hmac.compare_digest(cookie.encode(), self._session.encode())

    def check_request(self, request: Request) -> bool:
        """True for `Authorization: Bearer <token>` or a valid session cookie."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.check_token(credentials.strip()):
            return True
        cookie = request.cookies.get(SESSION_COOKIE)
        return cookie is not None and self.check_session(cookie)
