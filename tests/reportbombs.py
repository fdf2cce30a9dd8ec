"""Hostile attachments for robustness tests and benchmarks: small to send, big to read.

Re-exported by :mod:`tests.reportmail`.
"""

from __future__ import annotations

import functools
import zlib

BOMB_BYTES = 200 * 1024 * 1024
NEWLINE_BOMB_BYTES = 200 * 1024 * 1024


@functools.lru_cache(maxsize=2)
def gzip_bomb(size: int = BOMB_BYTES) -> bytes:
    """*size* zero bytes gzip-compressed (~200 kB for 200 MB), built in 1 MB steps."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    parts = [packer.compress(zeros) for _ in range(size // len(zeros))]
    parts.append(packer.flush())
    return b"".join(parts)


@functools.lru_cache(maxsize=2)
def newline_bomb(size: int = NEWLINE_BOMB_BYTES) -> bytes:
    """*size* bytes of ``x\\n`` lines gzip-compressed (~200 kB for 200 MB): a journal of
    a hundred million unreadable lines."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"x\n" * (512 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    parts.append(packer.flush())
    return b"".join(parts)


def many_lines_csv(lines: int, header: str = "id;nom;prenom;cree_le;derniere_activite;statut"
                   ) -> bytes:
    """A CSV of *header* then *lines* one-field lines ``x`` (each one a bad row)."""
    return (header + "\n").encode() + b"x\n" * lines


def huge_line_csv(size: int, header: str = "id;nom;prenom;cree_le;derniere_activite;statut",
                  after: str = "") -> bytes:
    """A CSV whose second line is one field of *size* letters, then the text *after*."""
    return (header + "\nE-0001;" + "x" * size + "\n" + after).encode()
