"""Test helpers: a deterministic fake embedder, and writers of real PDF and DOCX files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from assistant.answering.evidence import HashEmbedder

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / "corpus"
ARTIFACTS = ROOT / "tests" / "artifacts"


def copy_index(source: Path, target: Path) -> Path:
    """A copy of a built index (its lock file aside), for a test to change: a build on the same texts finds their
    vectors in it and embeds nothing again."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".lock"))
    return target


class FakeEmbedder:
    """Hashes analyzed words into a fixed space: deterministic, fast, and similar texts score high.

    It counts the texts it embeds, so tests can prove what was (not) re-embedded.
    """

    model_name = "fake-hash-embedder"
    query_prompt = ""
    document_prompt = ""
    quantize = ""
    dimension = 64

    def __init__(self) -> None:
        self.embedded: list[str] = []
        self._vector = HashEmbedder()  # the in-memory evidence store's, dimension 64

    def embed_documents(self, texts, progress=None, out=None):
        self.embedded.extend(texts)
        if progress:
            progress(len(texts), len(texts))
        vectors = np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
        if out is None:
            return vectors
        out[:] = vectors
        return out

    def embed_query(self, text):
        return self._vector(text)

    def embed_queries(self, texts):
        return np.stack([self._vector(t) for t in texts])


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(path: Path, pages: list[str], title: str = "", drawings: dict[int, str] | None = None) -> Path:
    """Write a real PDF with one line of text a page (Helvetica, WinAnsi), built object by object."""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        None,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for number, text in enumerate(pages):
        lines = "".join(f"({_pdf_string(line)}) Tj T* " for line in text.split("\n"))
        stream = (f"BT /F1 11 Tf 14 TL 60 780 Td {lines}ET" + (drawings or {}).get(number, "")).encode("cp1252")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode('cp1252')}\nendstream")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >>"
            f" >> /Contents {len(objects)} 0 R >>"
        )
        kids.append(len(objects))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    info = None
    if title:
        objects.append(f"<< /Title ({_pdf_string(title)}) >>")
        info = len(objects)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("cp1252")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R" + (f" /Info {info} 0 R" if info else "") + " >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def make_encrypted_pdf(path: Path, source: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def make_blank_pdf(path: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def make_docx(path: Path, title: str, heading: str, paragraphs: list[str], table: list[list[str]] = ()) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(str(path))
    return path


class FakeChatServer:
    """A local server speaking the OpenAI chat-completions streaming API, replying with a scripted text."""

    def __init__(self, reply: str, keep_alive_seconds: float = 0.0, word_seconds: float = 0.0) -> None:
        import http.server
        import json
        import threading
        import time

        self.reply = reply
        self.requests: list[dict] = []
        self.dropped: list[float] = []  # when a caller closed the connection before the reply's end (monotonic)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                length = int(self.headers.get("Content-Length", 0))
                server.requests.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                stalling = time.monotonic() + keep_alive_seconds
                while time.monotonic() < stalling:  # an endpoint that keeps the line open without answering
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    time.sleep(0.1)
                try:
                    for word in server.reply.split(" "):
                        event = {"choices": [{"delta": {"content": word + " "}}]}
                        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                        self.wfile.flush()
                        time.sleep(word_seconds)  # a slow model, writing word by word
                    self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    server.dropped.append(time.monotonic())

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _font(size: int):
    from PIL import ImageFont

    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def scanned_page(text: str, dpi: int = 200, rotation: float = 0.6, seed: int = 0):
    """An A4 page image of ``text`` as a scanner gives it: slightly turned, with speckles."""
    import random
    import textwrap

    from PIL import Image, ImageDraw

    width, height = int(8.27 * dpi), int(11.69 * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = _font(int(dpi / 6.5))
    y = dpi
    for paragraph in text.split("\n"):
        for line in textwrap.wrap(paragraph, 48) or [""]:
            draw.text((dpi, y), line, fill=20, font=font)
            y += int(dpi / 4.5)
        y += int(dpi / 8)
    generator = random.Random(seed)
    for _ in range(width * height // 4000):  # dust
        page.putpixel((generator.randrange(width), generator.randrange(height)), generator.randrange(90, 200))
    return page.rotate(rotation, fillcolor=255, expand=False).convert("RGB")


def make_scanned_pdf(path: Path, pages: list[str], dpi: int = 200) -> Path:
    """A PDF of page images and no text layer, as a scanner writes it."""
    images = [scanned_page(text, dpi, seed=number) for number, text in enumerate(pages)]
    images[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return path


def make_mixed_pdf(path: Path, text_page: str, scanned_text: str) -> Path:
    """A PDF whose first page has a text layer and whose second is a scanned image."""
    from pypdf import PdfWriter

    text, scan = path.with_suffix(".text.pdf"), path.with_suffix(".scan.pdf")
    make_pdf(text, [text_page])
    make_scanned_pdf(scan, [scanned_text])
    writer = PdfWriter()
    for part in (text, scan):
        writer.append(str(part))
    with open(path, "wb") as out:
        writer.write(out)
    text.unlink()
    scan.unlink()
    return path


def make_table_pdf(path: Path, intro: str, rows: list[list[str]]) -> Path:
    """A PDF page with a line of text, then a ruled table of ``rows`` (the first row its headers)."""
    widths, height, left, top = [150, 120, 120], 22, 60, 720
    operators = []
    for r, row in enumerate(rows):
        y = top - r * height
        x = left
        for c, value in enumerate(row):
            operators.append(f"{x} {y - height} {widths[c]} {height} re S")
            operators.append(f"BT /F1 10 Tf {x + 4} {y - 15} Td ({_pdf_string(value)}) Tj ET")
            x += widths[c]
    return make_pdf(path, [intro], drawings={0: " 0.5 w " + " ".join(operators)})
