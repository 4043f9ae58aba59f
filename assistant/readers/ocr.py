"""Scanned pages and images read by Tesseract (French and English), a page at a time in the bounded child process.

A PDF page without a text layer is rendered at OCR_DPI (pypdfium2) and read; an image file is read as it is. Each
result keeps the page's mean word confidence and the words' boxes (to mark a quote on the page). Results are kept by
page content hash beside the index (``ocr/``), so that a rebuild reads no page twice.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

OCR_DPI = 300
LANGUAGES = "fra+eng"
LOW_CONFIDENCE = 60.0  # a page read with a mean word confidence under this is reported with its file
IMAGE_KINDS = {".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image", ".tiff": "image", ".webp": "image"}
UNAVAILABLE = "OCR unavailable: install tesseract-ocr with its French and English languages"


@functools.lru_cache(maxsize=1)
def unavailable() -> str | None:
    """Why scanned pages cannot be read here, or None when Tesseract and its languages are installed."""
    if shutil.which("tesseract") is None:
        return f"{UNAVAILABLE} (tesseract-ocr, tesseract-ocr-fra, tesseract-ocr-eng)"
    try:
        listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return UNAVAILABLE
    missing = [language for language in LANGUAGES.split("+") if language not in listed.split()]
    return f"{UNAVAILABLE} (missing: {', '.join(missing)})" if missing else None


def recognize(image) -> dict:
    """{"text", "confidence", "words": [[left, top, width, height, word], ...], "size": [width, height]}."""
    import pytesseract

    data = pytesseract.image_to_data(image, lang=LANGUAGES, output_type=pytesseract.Output.DICT)
    lines: dict[tuple, list[str]] = {}
    words, confidences = [], []
    for index, word in enumerate(data["text"]):
        word = word.strip()
        confidence = float(data["conf"][index])
        if not word or confidence < 0:
            continue
        key = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
        lines.setdefault(key, []).append(word)
        box = [int(data[name][index]) for name in ("left", "top", "width", "height")]
        words.append([*box, word])
        confidences.append(confidence)
    paragraphs: dict[tuple, list[str]] = {}
    for (block, paragraph, _), line in lines.items():
        paragraphs.setdefault((block, paragraph), []).append(" ".join(line))
    text = "\n\n".join("\n".join(paragraph) for paragraph in paragraphs.values())
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return {"text": text, "confidence": round(mean, 1), "words": words, "size": list(image.size)}


def read_pdf_page(path: str, number: int) -> dict:
    """One PDF page (1-based) rendered and read. Run in the bounded child."""
    import pypdfium2

    document = pypdfium2.PdfDocument(path)
    try:
        image = document[number - 1].render(scale=OCR_DPI / 72).to_pil()
    finally:
        document.close()
    return recognize(image)


def read_image(path: str) -> dict:
    """An image file read as one page (the first frame of a multi-page TIFF). Run in the bounded child."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        return {"error": f"corrupt or unreadable image ({type(exc).__name__})"}
    return recognize(image)


class Cache:
    """OCR results by page content hash, one JSON file each, in a folder beside the index."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def get(self, key: str) -> dict | None:
        if self.folder is None:
            return None
        try:
            return json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, result: dict) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{key}.tmp"
        temporary.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        temporary.replace(self.folder / f"{key}.json")


def file_key(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
