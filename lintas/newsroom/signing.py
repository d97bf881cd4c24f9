"""Webhook signatures, the same both ways (CMS -> Lintas and Lintas -> subscribers).

``X-Lintas-Signature: sha256=<hex>``, the HMAC-SHA256 keyed with the shared secret of
``f"{timestamp}.{delivery}."`` followed by the raw body bytes, where ``timestamp`` is ``X-Lintas-Timestamp``
(unix seconds) and ``delivery`` is ``X-Lintas-Delivery`` (a unique id). Signing the timestamp and the id with the
body lets a receiver refuse old and replayed deliveries. A delivery to a URL with a query string (the CMS
webhook's ``?targets=``) signs it too: ``f"{timestamp}.{delivery}.?{query}."`` and then the body, ``query`` being
the raw query string as sent (after the ``?``). A JSON body never starts with ``?``, so the two forms cannot be
confused, and a delivery without a query string is signed as before.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["PREFIX", "sign", "verify"]

PREFIX = "sha256="


def sign(secret: str, timestamp: str, delivery: str, body: bytes, query: str = "") -> str:
    """The ``X-Lintas-Signature`` value of a delivery (``query``: the raw query string of its URL, if any)."""
    signed_query = f"?{query}." if query else ""
    message = f"{timestamp}.{delivery}.{signed_query}".encode("utf-8", "surrogateescape") + body
    return PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, delivery: str, body: bytes, signature: str, query: str = "") -> bool:
    """Whether ``signature`` is the delivery's (compared in constant time)."""
    expected = sign(secret, timestamp, delivery, body, query)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "surrogateescape"))
