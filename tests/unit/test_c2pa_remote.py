"""With REALEYES_C2PA_FETCH_REMOTE=true, a remote manifest URL named by an upload is fetched only from the hosts
in REALEYES_C2PA_REMOTE_HOSTS (issue 11, finding 18): an upload cannot make the server fetch any URL."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from PIL import Image

from realeyes.analyzers import create
from realeyes.config import Settings
from realeyes.media import load_media


class _Recorder(BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.paths.append(self.path)
        body = b"not a manifest"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def manifest_server() -> Iterator[str]:
    _Recorder.paths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def png_naming_remote_manifest(url: str) -> bytes:
    """A PNG whose XMP says its C2PA manifest lives at `url` (dcterms:provenance), as the SDK's fixture does."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 80, 40)).save(buffer, format="PNG")
    png = buffer.getvalue()
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:dcterms="http://purl.org/dc/terms/" dcterms:provenance="{url}"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()
    payload = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp
    chunk = struct.pack(">I", len(payload)) + b"iTXt" + payload + struct.pack(">I", zlib.crc32(b"iTXt" + payload))
    return png[:33] + chunk + png[33:]  # after the signature and IHDR


def c2pa_details(data: bytes, **settings: object) -> tuple[str, dict[str, object]]:
    evidence = create("c2pa", Settings(c2pa_fetch_remote=True, **settings)).analyze(load_media(data))  # type: ignore[arg-type]
    return evidence.summary, evidence.details


def test_a_remote_manifest_on_a_host_not_allowed_is_not_fetched(manifest_server: str) -> None:
    url = f"http://{manifest_server}/m.c2pa"
    summary, details = c2pa_details(png_naming_remote_manifest(url))
    assert details["validation"] == "unverified" and details["remote_url"] == url
    assert "REALEYES_C2PA_REMOTE_HOSTS" in summary
    summary, details = c2pa_details(png_naming_remote_manifest(url), c2pa_remote_hosts=["cai-manifests.adobe.com"])
    assert details["validation"] == "unverified"
    assert _Recorder.paths == []  # the server was never asked


def test_a_remote_manifest_on_an_allowed_host_is_fetched(manifest_server: str) -> None:
    url = f"http://{manifest_server}/m.c2pa"
    _, details = c2pa_details(png_naming_remote_manifest(url), c2pa_remote_hosts=["127.0.0.1"])
    assert _Recorder.paths == ["/m.c2pa"]
    assert details["manifest_present"] is True  # fetched: garbage, so not verified, but asked for
