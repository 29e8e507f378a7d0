"""Start Rasa's own CLI with our patches applied and jieba warmed up.

Usage is exactly the `rasa` command's: `python -m rasa_ext.serve run --enable-api ...`.
"""
from __future__ import annotations

import sys


def main() -> None:
    from rasa_ext import patches

    patches.apply()
    if len(sys.argv) > 1 and sys.argv[1] == "run":
        # jieba loads its dictionary lazily on the first message (about 1.7 s);
        # do it now so the first elder to speak does not wait for it.
        import jieba

        jieba.initialize()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
