"""What an uploaded file is, decided from its bytes, and the copy the service keeps.

    cleaned = check_file(data, "photo of the box.jpg", Limits())   # or raises Refused

- **Type** from the content's signature, never the name or the client's Content-Type: JPEG, PNG,
  WebP and GIF are images; PDF is a document; anything else is `unsupported_type`.
- **Size**: `Limits.max_bytes` (HANDOFF_ATTACHMENT_MAX_BYTES, 5 MiB) for what is uploaded.
- **Images** are decoded and re-encoded with Pillow: the kept copy has no EXIF/GPS, comments or
  other metadata (the orientation is applied first, so the photo still stands the right way), and
  no bytes of the upload survive, so a polyglot (an image that is also HTML or a script) loses its
  second life. More than `max_pixels` pixels (decompression bombs; Pillow's own
  `Image.MAX_IMAGE_PIXELS` guard is set to the same figure) is refused; a side longer than
  `max_side` is scaled down. An animated GIF keeps at most MAX_FRAMES frames, and no more than
  fit in `max_pixels` together.
- **PDFs** are checked, not rewritten: `%PDF-` at byte 0, `%%EOF` in the last 1 KiB, and refused
  when encrypted or carrying JavaScript, launch actions or embedded files (names are decoded from
  their `#xx` escapes before matching), or HTML (a PDF/HTML polyglot). This is a cheap filter, not
  a PDF sanitiser: objects hidden in compressed object streams are not inspected, which is why
  PDFs are only ever served as downloads (`Content-Disposition: attachment`, docs/security.md).
"""

from __future__ import annotations

import io
import itertools
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Optional

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

MAX_FRAMES = 100
KEEP_INFO = ("transparency", "duration", "loop", "disposal", "background")
MAX_NAME_CHARS = 120
IMAGE_FORMATS = {  # signature checked by sniff() -> (Pillow format, content type, extension)
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "png": ("PNG", "image/png", "png"),
    "webp": ("WEBP", "image/webp", "webp"),
    "gif": ("GIF", "image/gif", "gif"),
}
PDF = ("application/pdf", "pdf")
TYPES = tuple(t for _, t, _ in IMAGE_FORMATS.values()) + (PDF[0],)
_PDF_FORBIDDEN = re.compile(rb"/(JavaScript|JS|Launch|Encrypt|EmbeddedFiles?|RichMedia)\b")
_HTML = re.compile(rb"<\s*(html|script|body|iframe|svg)\b", re.IGNORECASE)
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


class Refused(Exception):
    """An upload the service does not keep: `code` (too_large, unsupported_type, bad_file) and why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 5 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 4096


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    type: str
    name: str

    @property
    def is_image(self) -> bool:
        return self.type.startswith("image/")


def sniff(data: bytes) -> Optional[str]:
    """`jpeg`, `png`, `webp`, `gif`, `pdf`, or None, from the first bytes."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def safe_name(name: str, extension: str) -> str:
    """The uploader's file name without folders or control characters, with the extension of
    what the file really is (`invoice.pdf.exe` that is a PDF becomes `invoice.pdf.pdf`)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = base.strip().strip(".") or "file"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = (stem.strip() or "file")[: MAX_NAME_CHARS - len(extension) - 1]
    return f"{stem}.{extension}"


def _reencode(data: bytes, kind: str, limits: Limits) -> bytes:
    pil_format, _, _ = IMAGE_FORMATS[kind]
    previous = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = limits.max_pixels
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[pil_format])
            width, height = image.size
            if width * height > limits.max_pixels:
                raise Refused(
                    "too_large", f"the image is {width}x{height}; at most {limits.max_pixels} pixels"
                )
            if kind == "gif" and getattr(image, "n_frames", 1) > 1:
                # every frame is decoded: all of them together stay within max_pixels
                keep = max(1, min(MAX_FRAMES, limits.max_pixels // max(1, width * height)))
                frames = [f.copy() for f in itertools.islice(ImageSequence.Iterator(image), keep)]
            else:
                image.load()
                frames = [ImageOps.exif_transpose(image)]
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused("too_large", f"the image has more than {limits.max_pixels} pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise Refused("bad_file", "the image cannot be read; it may be damaged") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    clean = []
    for frame in frames:
        if max(frame.size) > limits.max_side:
            frame = frame.copy()
            frame.thumbnail((limits.max_side, limits.max_side))
        if kind == "jpeg" and frame.mode not in ("RGB", "L"):
            frame = frame.convert("RGB")
        else:
            frame = frame.copy()
        # Pillow's writers read some metadata from `info` (ICC profile, XMP, GIF comments, PNG text):
        # only what drawing needs stays.
        frame.info = {k: v for k, v in frame.info.items() if k in KEEP_INFO}
        clean.append(frame)
    out = io.BytesIO()
    options: dict = {"format": pil_format}  # no exif=, icc_profile=, comment=: nothing rides along
    if kind == "jpeg":
        options.update(quality=85, optimize=True)
    elif kind == "webp":
        options.update(quality=85)
    elif kind == "gif" and len(clean) > 1:
        options.update(save_all=True, append_images=clean[1:], loop=0)
    clean[0].save(out, **options)
    return out.getvalue()


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-1024:]:
        raise Refused("bad_file", "the PDF is incomplete (no %%EOF at its end)")
    names = _NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    found = _PDF_FORBIDDEN.search(names)
    if found:
        what = found.group(1).decode()
        reason = "encrypted" if what == "Encrypt" else f"carries {what}"
        raise Refused("unsupported_type", f"this PDF is {reason}; send a plain PDF or a photo")
    if _HTML.search(data):
        raise Refused("unsupported_type", "this PDF also holds HTML; send a plain PDF or a photo")


def check_file(data: bytes, name: str, limits: Limits) -> Cleaned:
    """The copy to keep (re-encoded image or checked PDF), or Refused."""
    if len(data) > limits.max_bytes:
        raise Refused("too_large", f"the file is over {limits.max_bytes // 1024} KiB")
    if not data:
        raise Refused("bad_file", "the file is empty")
    kind = sniff(data)
    if kind is None:
        raise Refused("unsupported_type", "only photos (JPEG, PNG, WebP, GIF) and PDF files can be sent")
    if kind == "pdf":
        _check_pdf(data)
        return Cleaned(data, PDF[0], safe_name(name, PDF[1]))
    _, content_type, extension = IMAGE_FORMATS[kind]
    return Cleaned(_reencode(data, kind, limits), content_type, safe_name(name, extension))
