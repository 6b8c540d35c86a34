"""Where the files a script names may come from: `injects/` and the script's own folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

ATTACHMENT_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
}
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class PathRefused(ValueError):
    """A path that does not exist or points outside the allowed folders."""


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _safe_relative(name: str, what: str) -> PurePosixPath:
    if "\\" in name or "\x00" in name:
        raise PathRefused(f"{what} '{name}' must be a relative path with '/' separators")
    rel = PurePosixPath(name)
    if rel.is_absolute() or not rel.parts:
        raise PathRefused(f"{what} '{name}' must be a path relative to injects/ or to the script's folder")
    return rel


def resolve_include(name: str, library: Path, what: str = "include") -> Path:
    """The library file an `include:` (or a `base:`, with what="base") names, inside `injects/`."""
    rel = _safe_relative(name, what)
    try:
        root = library.resolve()
        target = (root / rel).resolve()
        if not _inside(target, root):
            raise PathRefused(f"{what} '{name}' points outside injects/")
        if target.suffix.lower() not in (".yaml", ".yml"):
            raise PathRefused(f"{what} '{name}' must name a .yaml file in injects/")
        if not target.is_file():
            raise PathRefused(f"{what} '{name}' does not exist in injects/")
    except OSError as exc:
        raise PathRefused(f"{what} '{name}' cannot be read ({exc.strerror})") from None
    return target


def resolve_attachment(name: str, script_dir: Path, library: Path) -> Path:
    """The file an attachment names: beside the script first, then in `injects/`."""
    rel = _safe_relative(name, "attachment")
    kind = ATTACHMENT_TYPES.get(rel.suffix.lower())
    if kind is None:
        raise PathRefused(f"attachment '{name}' has an unsupported type (use {', '.join(sorted(ATTACHMENT_TYPES))})")
    outside = False
    for folder in (script_dir, library):
        try:
            root = folder.resolve()
            target = (root / rel).resolve()
            if not _inside(target, root):
                outside = True
                continue
            if target.is_file():
                if target.stat().st_size > MAX_ATTACHMENT_BYTES:
                    raise PathRefused(f"attachment '{name}' is larger than 10 MiB")
                return target
        except OSError as exc:
            raise PathRefused(f"attachment '{name}' cannot be read ({exc.strerror})") from None
    if outside:
        raise PathRefused(f"attachment '{name}' points outside the script's folder and injects/")
    raise PathRefused(f"attachment '{name}' does not exist beside the script or in injects/")
