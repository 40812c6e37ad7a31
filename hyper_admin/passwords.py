"""Password checks that take the same time whether or not the account exists.

The admin never stores passwords; ``Admin(authenticate=fn)`` leaves the check to the
application. A check that returns at once for an unknown username, or for an account without a
usable hash, tells an attacker which usernames exist: the answer comes back in a millisecond
instead of the tens of milliseconds a real hash costs. :func:`verify_password` always pays for
exactly one hash computation, and werkzeug compares the digests in constant time.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from werkzeug.security import check_password_hash, generate_password_hash


@lru_cache(maxsize=8)
def _stand_in_hash(method: str) -> str:
    # A hash of a random password no one knows, with the same method and cost as real ones.
    return generate_password_hash(secrets.token_urlsafe(24), method=method)


def _usable(stored: str | None) -> bool:
    return bool(stored) and stored.count("$") >= 2


def verify_password(stored_hash: str | None, password: str | None, *,
                    method: str = "scrypt") -> bool:
    """True when ``password`` matches ``stored_hash`` (a werkzeug password hash).

    Pass ``None`` for an unknown user, and the account's hash otherwise, even when it is a
    "cannot sign in" marker such as ``"!"``: either way one hash with ``method`` (werkzeug's
    default, scrypt; give the method your hashes use) is computed and the answer is False.
    """
    if _usable(stored_hash):
        try:
            return check_password_hash(stored_hash, password or "")
        except ValueError:  # a method werkzeug does not know: no password matches it
            pass
    check_password_hash(_stand_in_hash(method), password or "")
    return False


def hash_password(password: str, *, method: str = "scrypt") -> str:
    """A werkzeug password hash of ``password``, the kind :func:`verify_password` checks: for
    an application's ``Admin(change_password=...)`` hook (the admin itself stores none)."""
    return generate_password_hash(password, method=method)
