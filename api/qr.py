"""QR codes of parents' share links, as SVG documents (segno: pure Python, no image library)."""

import io

import segno


def qr_svg(url: str) -> str:
    """`url` as a QR code (error correction M), a standalone SVG with a white quiet zone."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=4, xmldecl=False)
    return buffer.getvalue().decode()
