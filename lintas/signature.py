"""Webhook signatures, the same both ways (CMS -> Lintas and Lintas -> subscribers).

``X-Lintas-Signature: sha256=<hex>``, the HMAC-SHA256 keyed with the shared secret of
``f"{timestamp}.{delivery}."`` followed by the raw body bytes, where ``timestamp`` is ``X-Lintas-Timestamp``
(unix seconds) and ``delivery`` is ``X-Lintas-Delivery`` (a unique id). Signing the timestamp and the id with the
body lets a receiver refuse old and replayed deliveries.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["PREFIX", "sign", "verify"]

PREFIX = "sha256="


def sign(secret: str, timestamp: str, delivery: str, body: bytes) -> str:
    """The ``X-Lintas-Signature`` value of a delivery."""
    message = f"{timestamp}.{delivery}.".encode() + body
    return PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, delivery: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is the delivery's (compared in constant time)."""
    expected = sign(secret, timestamp, delivery, body)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "surrogateescape"))
