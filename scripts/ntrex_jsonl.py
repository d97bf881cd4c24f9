#!/usr/bin/env python3
"""Write the NTREX-128 dev articles as a JSONL archive for ``lintas backfill`` (one article JSON per line).

    python scripts/ntrex_jsonl.py ../shared/data/ntrex-dev > dev.jsonl [--copies N]

Each document becomes an article as ``lintas eval`` makes it (headline = first line, paragraphs of four sentences);
``--copies N`` repeats the set with ids ``<id>~2``... to make a larger archive.
"""

from __future__ import annotations

import argparse
import sys

from lintas.measure.evaluate import document_article, load_documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="NTREX-style folder (doc_ids.txt, ntrex.id.txt)")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    args = parser.parse_args()
    articles = [document_article(doc) for doc in load_documents(args.data, [], limit=args.limit)]
    for copy in range(1, args.copies + 1):
        for article in articles:
            item = article if copy == 1 else article.model_copy(update={"id": f"{article.id}~{copy}"})
            sys.stdout.write(item.model_dump_json() + "\n")


if __name__ == "__main__":
    main()
