"""Argument helpers shared by subcommands: the release's ``--gpu 0-1`` and ``--test_epoch 20-21``."""

from __future__ import annotations


def parse_int_range(text: str, what: str = "value") -> list[int]:
    """'3' -> [3]; '0-2' -> [0, 1, 2]; '0,2' -> [0, 2]; ranges and lists may be mixed ('0-1,4')."""
    values: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                start, end = (int(p) for p in part.split("-", 1))
                if end < start:
                    raise ValueError
                values.extend(range(start, end + 1))
            else:
                values.append(int(part))
        except ValueError:
            raise ValueError(f"bad {what} {text!r}: expected N, N-M or N,M (e.g. 0-1)") from None
    if not values:
        raise ValueError(f"bad {what} {text!r}: empty")
    return values
