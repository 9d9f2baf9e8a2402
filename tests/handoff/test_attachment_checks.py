"""handoff/attachments/checks.py: real images made with Pillow, a real PDF written by hand."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from handoff.attachments.checks import Limits, Refused, check_file, safe_name, sniff


def image_bytes(fmt: str, size=(64, 48), exif: bool = False, **options) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SpyCam"  # Make
        tags[0x8825] = {2: (12.0, 34.0, 56.0), 1: "N"}  # GPSInfo
        options["exif"] = tags.tobytes()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def pdf_bytes(extra: bytes = b"") -> bytes:
    """A minimal one-page PDF with a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + extra + b">>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.mark.parametrize(
    "fmt,kind,content_type",
    [
        ("JPEG", "jpeg", "image/jpeg"),
        ("PNG", "png", "image/png"),
        ("WEBP", "webp", "image/webp"),
        ("GIF", "gif", "image/gif"),
    ],
)
def test_images_are_sniffed_from_bytes_and_reencoded(fmt, kind, content_type):
    data = image_bytes(fmt)
    assert sniff(data) == kind
    cleaned = check_file(data, "not-really.pdf", Limits())
    assert cleaned.type == content_type and cleaned.is_image
    assert cleaned.name == f"not-really.{cleaned.name.rsplit('.', 1)[1]}" and not cleaned.name.endswith(
        ".pdf"
    )
    assert Image.open(io.BytesIO(cleaned.data)).size == (64, 48)


def test_exif_and_gps_are_gone_from_a_jpeg():
    data = image_bytes("JPEG", exif=True)
    assert Image.open(io.BytesIO(data)).getexif().get(0x010F) == "SpyCam"  # the test's input has it
    assert b"SpyCam" in data
    cleaned = check_file(data, "box.jpg", Limits())
    kept = Image.open(io.BytesIO(cleaned.data))
    assert len(kept.getexif()) == 0 and "exif" not in kept.info
    assert b"SpyCam" not in cleaned.data and b"Exif" not in cleaned.data


def test_a_pdf_is_kept_as_sent():
    data = pdf_bytes()
    cleaned = check_file(data, "invoice.PDF", Limits())
    assert (cleaned.type, cleaned.name, cleaned.data) == ("application/pdf", "invoice.pdf", data)


@pytest.mark.parametrize(
    "extra,reason",
    [
        (b"/AA << /O << /S /JavaScript /JS (app.alert(1)) >> >> ", "JavaScript"),
        (b"/AA << /O << /S /J#61vaScript >> >> ", "JavaScript"),  # a name with an escape
        (b"/Encrypt 9 0 R ", "encrypted"),
        (b"/OpenAction << /S /Launch /F (cmd.exe) >> ", "Launch"),
    ],
)
def test_active_or_encrypted_pdfs_are_refused(extra, reason):
    with pytest.raises(Refused) as refused:
        check_file(pdf_bytes(extra), "x.pdf", Limits())
    assert refused.value.code == "unsupported_type" and reason in refused.value.message


def test_a_truncated_pdf_is_refused():
    with pytest.raises(Refused) as refused:
        check_file(pdf_bytes()[:-200], "x.pdf", Limits())
    assert refused.value.code == "bad_file"


def test_spoofed_and_polyglot_files_are_refused():
    html = b"<html><script>alert(1)</script></html>"
    for name in ("photo.jpg", "doc.pdf"):  # the name does not matter
        with pytest.raises(Refused) as refused:
            check_file(html, name, Limits())
        assert refused.value.code == "unsupported_type"
    with pytest.raises(Refused) as refused:  # a JPEG signature in front of a script
        check_file(b"\xff\xd8\xff\xe0" + html, "photo.jpg", Limits())
    assert refused.value.code == "bad_file"
    with pytest.raises(Refused) as refused:  # a PDF that is also an HTML page
        check_file(pdf_bytes(b"/Note (<html><script>x</script>) "), "x.pdf", Limits())
    assert refused.value.code == "unsupported_type"


def test_a_png_with_a_script_appended_comes_out_without_it():
    data = image_bytes("PNG") + b"<script>alert(1)</script>"
    cleaned = check_file(data, "x.png", Limits())
    assert b"<script>" not in cleaned.data


def test_oversized_files_and_images_are_refused():
    with pytest.raises(Refused) as refused:
        check_file(image_bytes("PNG") + b"\0" * 2048, "big.png", Limits(max_bytes=1024))
    assert refused.value.code == "too_large"
    bomb = image_bytes("PNG", size=(3000, 3000))  # tiny file, 9 Mpx decoded
    assert len(bomb) < 100_000
    with pytest.raises(Refused) as refused:
        check_file(bomb, "bomb.png", Limits(max_pixels=1_000_000))
    assert refused.value.code == "too_large"
    with pytest.raises(Refused) as refused:  # over 2x the limit: Pillow's own error
        check_file(bomb, "bomb.png", Limits(max_pixels=100_000))
    assert refused.value.code == "too_large"
    with pytest.raises(Refused):
        check_file(b"", "empty.png", Limits())


def test_a_long_side_is_scaled_down():
    cleaned = check_file(image_bytes("PNG", size=(1000, 200)), "wide.png", Limits(max_side=500))
    assert Image.open(io.BytesIO(cleaned.data)).size == (500, 100)


def test_safe_names():
    assert safe_name("../../etc/passwd", "pdf") == "passwd.pdf"
    assert safe_name("C:\\Users\\me\\photo.JPG", "jpg") == "photo.jpg"
    assert safe_name("a\nb\u202e.png", "png") == "ab.png"
    assert safe_name("", "png") == "file.png"
    assert len(safe_name("x" * 500 + ".pdf", "pdf")) == 120
    assert safe_name("ছবি.jpeg", "jpg") == "ছবি.jpg"


def test_an_animated_gif_keeps_its_frames_within_the_pixel_budget():
    frames = [Image.new("RGB", (100, 100), (i * 8, 0, 0)) for i in range(30)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], loop=0, comment=b"hello")
    kept = Image.open(io.BytesIO(check_file(out.getvalue(), "a.gif", Limits()).data))
    assert kept.n_frames == 30 and "comment" not in kept.info
    budget = Image.open(io.BytesIO(check_file(out.getvalue(), "a.gif", Limits(max_pixels=50_000)).data))
    assert budget.n_frames == 5  # 5 x 10,000 pixels


def test_png_text_and_icc_profile_are_dropped():
    from PIL import ImageCms, PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "51.5007 N, 0.1246 W")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, format="PNG", pnginfo=text, icc_profile=icc)
    assert b"51.5007" in out.getvalue()
    cleaned = check_file(out.getvalue(), "x.png", Limits()).data
    kept = Image.open(io.BytesIO(cleaned))
    assert b"51.5007" not in cleaned and "icc_profile" not in kept.info and "Location" not in kept.info
