"""Resume and invite codes: short, typeable, unguessable, and stored only as hashes.

12 characters from a 30-letter alphabet give 30**12 ≈ 5.3·10**17 (≈ 59 bits) possible codes. Characters that
are easily confused on paper or a phone keyboard (0/O, 1/I/L, U/V) are left out.
"""

import hashlib
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
GROUP = 4


def generate_code() -> str:
    """A fresh random code, grouped for reading aloud: ``K7QX-M2PD-9RTA``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalise_code(typed: str) -> str:
    """What a person typed, forgiving case, spaces and dashes."""
    return "".join(ch for ch in typed.upper() if ch.isascii() and ch.isalnum())


def hash_code(typed: str) -> str:
    return hashlib.sha256(normalise_code(typed).encode()).hexdigest()


def looks_like_code(typed: str) -> bool:
    code = normalise_code(typed)
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)
