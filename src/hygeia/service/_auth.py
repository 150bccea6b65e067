"""Token authentication: random tokens, stored hashed, with scopes ``read`` < ``write`` < ``admin``.

A token is shown once, when it is made (:func:`create_token`, ``hygeia serve --create-token NAME``);
the store keeps only its SHA-256 (a random 256-bit token needs no slow hash). Requests carry it as
``Authorization: Bearer TOKEN`` or in the cookie ``hygeia_token`` (the pages' login form sets it).
:func:`require` is the FastAPI dependency every route but ``/api/v1/health`` uses: a missing or unknown
token gets 401, a token whose scope is too low gets 403.

Example:
    >>> import tempfile, pathlib
    >>> from hygeia.service import JobStore, ServiceSettings
    >>> store = JobStore(ServiceSettings(data_root=pathlib.Path(tempfile.mkdtemp())))
    >>> token = create_token(store, "ana", "write")
    >>> authenticate(store, token)
    Principal(name='ana', scope='write')
    >>> authenticate(store, "wrong") is None, allows("write", "read"), allows("read", "admin")
    (True, True, False)
"""

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hygeia.errors import ConfigError
from hygeia.service._paths import check_name

__all__ = ["COOKIE", "SCOPES", "Principal", "allows", "authenticate", "create_token", "hash_token", "require"]

SCOPES = ("read", "write", "admin")
COOKIE = "hygeia_token"
_PREFIX = "hyg_"


@dataclass(frozen=True)
class Principal:
    """Who made a request: the token's name and scope."""

    name: str
    scope: str


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored.

    Example:
        >>> len(hash_token("hyg_x"))
        64
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def allows(scope: str, needed: str) -> bool:
    """Whether a token of ``scope`` may do what needs ``needed``."""
    return SCOPES.index(scope) >= SCOPES.index(needed)


def create_token(store: Any, name: str, scope: str = "read") -> str:
    """Make a new random token named ``name``, store its hash, and return it (shown once, never stored).

    Raises:
        ConfigError: a bad name or scope, or a name already used.
    """
    check_name(name, "token name")
    if scope not in SCOPES:
        raise ConfigError(f"scope must be one of {', '.join(SCOPES)}; got {scope!r}. Pass e.g. scope='write'.")
    token = _PREFIX + secrets.token_urlsafe(32)
    store.add_token(name, hash_token(token), scope)
    return token


def authenticate(store: Any, token: str | None) -> Principal | None:
    """The principal a token belongs to, or None for a missing or unknown token."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    found = store.find_token(digest)
    if found is None or not hmac.compare_digest(hash_token(token), digest):
        return None
    return Principal(*found)


def _token_of(request: Any, credentials: Any) -> str | None:
    if credentials is not None and getattr(credentials, "credentials", None):
        return str(credentials.credentials)
    return request.cookies.get(COOKIE)


@functools.cache
def require(scope: str) -> Callable[..., Principal]:
    """The FastAPI dependency that lets a request through with a token of at least ``scope``.

    It returns the :class:`Principal` and records it on ``request.state.principal`` (for the audit log).
    Missing or unknown token: 401 (with ``WWW-Authenticate: Bearer``); a lower scope: 403.

    Example:
        >>> require("read") is require("read")
        True
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    from fastapi import Depends, HTTPException, Request
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

    bearer = HTTPBearer(auto_error=False, scheme_name="token",
                        description="A token from 'hygeia serve --create-token NAME --scope read|write|admin'.")

    def dependency(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
        principal = authenticate(request.app.state.store, _token_of(request, credentials))
        if principal is None:
            raise HTTPException(401, "a valid token is needed: send 'Authorization: Bearer TOKEN' "
                                     "(make one with 'hygeia serve --create-token NAME').",
                                headers={"WWW-Authenticate": "Bearer"})
        request.state.principal = principal
        if not allows(principal.scope, scope):
            raise HTTPException(403, f"the token {principal.name!r} has the scope {principal.scope!r}; "
                                     f"this needs {scope!r}. Ask an admin for a token with that scope.")
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency
