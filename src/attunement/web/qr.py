"""QR codes for new check links: an SVG made server-side with ``segno`` (pure Python),
shown as an ``<img src="data:image/svg+xml;base64,…">`` (the CSP allows ``img-src data:``;
no script, no inline style). Nothing is written to disk."""

from __future__ import annotations


def svg_data_uri(text: str) -> str:
    """The QR code of ``text`` (error correction M) as a base64 SVG data URI."""
    import base64
    import io

    import segno

    buf = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        buf, kind="svg", scale=4, border=4, dark="#1f2a33", light="#ffffff", xmldecl=False
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class NewLink(str):
    """A just-created check link: the URL (shown once) that also knows its QR code."""

    __slots__ = ()

    @property
    def qr(self) -> str:
        return svg_data_uri(str(self))
