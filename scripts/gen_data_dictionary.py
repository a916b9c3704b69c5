"""Write docs/data-dictionary.md from the data model (src/boligmix/data/schema.py).

Usage: python scripts/gen_data_dictionary.py [--check]
With --check, exit 1 if the committed file differs from the generated one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from boligmix.data.dictionary import render_data_dictionary  # noqa: E402

TARGET = ROOT / "docs" / "data-dictionary.md"


def main(argv: list[str]) -> int:
    text = render_data_dictionary()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date; run python scripts/gen_data_dictionary.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
