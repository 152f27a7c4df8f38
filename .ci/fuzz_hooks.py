"""Schemathesis hooks for .ci/fuzz (loaded through SCHEMATHESIS_HOOKS).

Two inputs cannot come from a JSON Schema, so the generated requests are
adjusted just before they are sent:
- `cursor` is an opaque token that only this API issues (`next_cursor`); a
  made-up one is refused with a 422 naming it, as documented. Generated
  requests leave it out.
- image uploads are checked by their bytes' signature; a generated body of
  random bytes is refused with a 415, as documented. Generated uploads send
  the signature of the declared type.
"""

import schemathesis

IMAGE_BYTES = {
    "image/png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 16,
    "image/jpeg": b"\xff\xd8\xff\xe0" + b"\x00" * 16,
    "image/gif": b"GIF89a" + b"\x00" * 16,
    "image/webp": b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8,
}


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)
    if case.media_type in IMAGE_BYTES:
        case.body = IMAGE_BYTES[case.media_type]
