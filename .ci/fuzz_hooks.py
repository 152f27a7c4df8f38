"""Schemathesis hooks for .ci/fuzz (loaded through SCHEMATHESIS_HOOKS).

Four inputs cannot come from a JSON Schema, so the generated requests are
adjusted just before they are sent:
- `cursor` is an opaque token that only this API issues (`next_cursor`); a
  made-up one is refused with a 422 naming it, as documented. Generated
  requests leave it out.
- image uploads are checked by their bytes' signature; a generated body of
  random bytes is refused with a 415, as documented. Generated uploads send
  the signature of the declared type.
- an `Idempotency-Key` names one request: a key sent again with another
  body is refused with 422 `idempotency_key_reused`, as documented. A
  generator draws keys from a small space and repeats them, so every
  generated request that sends a well-formed key sends a fresh one (a
  malformed key, from a negative test, is left as it is).
- an invoice's `tax_id` shaped as a unified social credit code ends in a
  check character computed from the other 17 (GB 32100-2015); a wrong one
  is refused with a 422 naming it, as documented. Generated credit codes
  get their check character.
"""

import re
import uuid

import schemathesis

IMAGE_BYTES = {
    "image/png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 16,
    "image/jpeg": b"\xff\xd8\xff\xe0" + b"\x00" * 16,
    "image/gif": b"GIF89a" + b"\x00" * 16,
    "image/webp": b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8,
}

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def with_check_character(tax_id):
    """A credit-code-shaped tax id with its check character, else as it is."""
    code = tax_id.replace(" ", "").upper()
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return tax_id
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code, USCC_WEIGHTS))
    return code[:17] + USCC_ALPHABET[(31 - total % 31) % 31]


IDEMPOTENCY_KEY = "Idempotency-Key"
# The documented form of a key: 1-255 visible ASCII characters.
WELL_FORMED_KEY = re.compile(r"[!-~]{1,255}")


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)
    if isinstance(case.body, dict) and isinstance(case.body.get("tax_id"), str):
        case.body["tax_id"] = with_check_character(case.body["tax_id"])
    if case.media_type in IMAGE_BYTES:
        case.body = IMAGE_BYTES[case.media_type]
    # Generated headers are a case-insensitive mapping, not a dict.
    headers = case.headers
    if headers is not None and hasattr(headers, "items"):
        for name, value in list(headers.items()):
            if name.lower() == IDEMPOTENCY_KEY.lower() and isinstance(value, str) and WELL_FORMED_KEY.fullmatch(value):
                headers[name] = f"fuzz-{uuid.uuid4()}"
