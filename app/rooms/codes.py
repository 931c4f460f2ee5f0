"""Room codes and lecturer secrets.

A code is 8 characters of Crockford's base32 (digits and capitals without I, L, O,
U, so nothing reads two ways on a projector): 40 random bits. A guesser who could
send 10,000 requests a second to a deployment holding 200 open rooms (the bound)
would need 2**40 / 200 / 10,000 s, about 6 days, for one expected hit, and a hit
only lets them *watch* a lecture that is shown on a projector anyway: publishing
needs the secret. 40 bits is a link and a code a student can type from the back
row; the secret, which no one types, has 256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
CODE_BITS = CODE_LENGTH * 5
_CODE = re.compile(f"^[{ALPHABET}]{{{CODE_LENGTH}}}$")
# What people type for what they see: Crockford's reading of the ambiguous letters.
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize(code: str) -> str | None:
    """The canonical code for what a person typed (any case, dashes), or None."""
    canonical = code.upper().translate(_READ_AS)
    return canonical if _CODE.match(canonical) else None


def display(code: str) -> str:
    """``K7QM4XPD`` -> ``K7QM-4XPD``: easier to read off a projector."""
    return f"{code[:4]}-{code[4:]}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the broker keeps: a leaked store (a Redis dump) holds no usable secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    """Constant-time comparison of a presented secret with the stored digest."""
    return hmac.compare_digest(digest(secret), stored_digest)
