"""Client-supplied text never becomes markup, and rendering never touches the network.

Every test runs with the socket layer disabled (`no_network`): a DNS lookup or a connect
attempt is recorded and refused, and each test asserts that none happened. The asset fetcher
is asserted on too: what WeasyPrint asked for and what was refused.
"""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from lxml import etree
from markupsafe import escape
from PIL import Image
from pypdf import PdfReader

from render.facturx import invoice_xml
from render.pdf import LOGO_URL, URLRefused, asset_fetcher, invoice_html, render_pdf
from tests import render_samples as samples

HOSTILE_NAMES = [
    "<script>alert('x')</script>",
    '<img src="http://127.0.0.1:9/pixel.png">',
    '<link rel="stylesheet" href="https://evil.example/steal.css">',
    "<style>@import url(ftp://evil.example/x.css); body{background:url(file:///etc/passwd)}</style>",
    '"><iframe src="file:///etc/passwd"></iframe>',
    "{{ 7*7 }} {% raw %}",
]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """Disable DNS and outbound connects for the test; returns the attempts it refused."""
    attempts: list[tuple[str, object]] = []

    def refuse_connect(self: socket.socket, address: object, *args: object) -> None:
        attempts.append(("connect", address))
        raise OSError("network access is disabled in this test")

    def refuse_connect_ex(self: socket.socket, address: object, *args: object) -> int:
        attempts.append(("connect_ex", address))
        return 111

    def refuse_getaddrinfo(host: object, *args: object, **kwargs: object) -> list[object]:
        attempts.append(("getaddrinfo", host))
        raise socket.gaierror("name resolution is disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_getaddrinfo)
    return attempts


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (31, 58, 95)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
def test_markup_in_client_name_and_line_is_escaped_in_the_html(hostile: str) -> None:
    document = samples.hostile_invoice(hostile, f"Consulting {hostile}", note=hostile)

    html = invoice_html(document)

    body = html.split("<body", 1)[1]
    for tag in ("<script", "<img", "<link", "<style", "<iframe"):
        assert tag not in body
    assert str(escape(hostile)) in body
    assert f"Consulting {escape(hostile)}" in body


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
def test_markup_in_client_fields_prints_as_text_and_fetches_nothing(
    hostile: str, no_network: list[tuple[str, object]]
) -> None:
    document = samples.hostile_invoice(hostile, f"Consulting {hostile}", note=hostile)
    fetcher = asset_fetcher()

    pdf = render_pdf(document, fetcher=fetcher)

    text = pdf_text(pdf)
    assert " ".join(hostile.split()) in text
    assert fetcher.requested == []
    assert no_network == []


def test_asset_fetcher_refuses_remote_and_outside_files_and_records_them(
    tmp_path: Path, no_network: list[tuple[str, object]]
) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "mark.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", "utf-8")
    (tmp_path / "secret.txt").write_text("not for the invoice", "utf-8")
    fetcher = asset_fetcher(assets_dir=assets)
    refused_urls = [
        "http://127.0.0.1:9/pixel.png",
        "https://evil.example/steal.css",
        "ftp://evil.example/x.css",
        (tmp_path / "secret.txt").as_uri(),
        assets.as_uri() + "/../secret.txt",
        "file:///etc/passwd",
        "file://evil.example/share/x.png",
        "data:text/css,body{}",
        "closeloop-asset:unknown",
    ]

    for url in refused_urls:
        with pytest.raises(URLRefused):
            fetcher.fetch(url)
    served = fetcher.fetch((assets / "mark.svg").as_uri())

    assert served.read().startswith(b"<svg")
    assert served.content_type == "image/svg+xml"
    assert fetcher.refused == refused_urls
    assert fetcher.requested == [*refused_urls, (assets / "mark.svg").as_uri()]
    assert no_network == []


def test_weasyprint_loads_no_remote_resource_through_the_fetcher(
    no_network: list[tuple[str, object]],
) -> None:
    import weasyprint

    html = """<html><head>
      <link rel="stylesheet" href="https://evil.example/steal.css">
      <style>@import url("http://127.0.0.1:9/import.css");
             body { background: url("ftp://evil.example/bg.png"); }</style></head>
      <body><img src="http://127.0.0.1:9/pixel.png"><img src="file:///etc/hostname">
      <object data="https://evil.example/x.svg"></object><p>text</p></body></html>"""
    fetcher = asset_fetcher()

    pdf = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()

    assert pdf.startswith(b"%PDF")
    assert set(fetcher.refused) == {
        "https://evil.example/steal.css",
        "http://127.0.0.1:9/import.css",
        "ftp://evil.example/bg.png",
        "http://127.0.0.1:9/pixel.png",
        "file:///etc/hostname",
        "https://evil.example/x.svg",
    }
    assert no_network == []


def test_company_logo_is_served_from_memory_and_nothing_else_is_fetched(
    no_network: list[tuple[str, object]],
) -> None:
    fetcher = asset_fetcher()

    pdf = render_pdf(samples.standard_invoice(), company_logo=png_bytes(), fetcher=fetcher)

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert len(page.images) == 1
    assert fetcher.requested == [LOGO_URL]
    assert fetcher.refused == []
    assert no_network == []


def test_svg_logo_pointing_at_a_remote_image_fetches_nothing(
    no_network: list[tuple[str, object]],
) -> None:
    logo = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        b'width="120" height="40"><rect width="120" height="40" fill="#1f3a5f"/>'
        b'<image xlink:href="http://127.0.0.1:9/tracker.png" width="10" height="10"/></svg>'
    )
    fetcher = asset_fetcher()

    render_pdf(samples.standard_invoice(), company_logo=logo, fetcher=fetcher)

    assert fetcher.requested[0] == LOGO_URL
    assert fetcher.refused == ["http://127.0.0.1:9/tracker.png"]
    assert no_network == []


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
def test_markup_in_client_fields_stays_text_in_the_einvoice_xml(hostile: str) -> None:
    document = samples.hostile_invoice(hostile, f"Consulting {hostile}", note=hostile)

    xml = invoice_xml(document)

    root = etree.fromstring(xml)
    ns = {
        "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
    }
    assert root.findtext(".//ram:BuyerTradeParty/ram:Name", namespaces=ns) == hostile
    assert root.findtext(".//ram:SpecifiedTradeProduct/ram:Name", namespaces=ns) == (
        f"Consulting {hostile}"
    )
    assert root.find(".//script") is None
