"""Headless Chromium for the page tests: find (or install) it, its flags, and a PNG reader.

Debian's chromium, started as root with the flags this workplace needs (no sandbox, no
background networking); ``scripts/ensure-chromium.sh`` installs it where it is missing.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "ensure-chromium.sh")], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"could not install chromium:\n{proc.stderr[-3000:]}"
    return proc.stdout.strip().splitlines()[-1]


def png_pixels(path: Path) -> tuple[int, int, set[bytes]]:
    """Width, height and a sample of distinct pixels of an 8-bit RGB(A) PNG (no Pillow needed)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, colour = header[:4]
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    seen: set[bytes] = set()
    prev = bytearray(stride)
    for y in range(height):  # undo the PNG row filters
        f = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                row[i] = (row[i] + a) & 255
            elif f == 2:
                row[i] = (row[i] + b) & 255
            elif f == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa_, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa_ <= pb and pa_ <= pc else b if pb <= pc else c)) & 255
        if y % 8 == 0:
            seen.update(bytes(row[x:x + 3]) for x in range(0, stride, bpp * 4))
        prev = row
    return width, height, seen
