"""``python -m kefu.recommender train [--if-stale]``: train the recommender from the store's orders."""

from __future__ import annotations

import argparse
import sys
from typing import List

from kefu.config import ConfigError
from kefu.recommender.settings import load_recommender_settings
from kefu.recommender.training import needs_training, train
from kefu.store import StoreUnavailable, open_store


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.recommender", description=__doc__)
    parser.add_argument("--url", help="database URL (default: kefu.yml store.url or KEFU_STORE_URL)")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("train", help="train and save the artefact under models/recommender/")
    command.add_argument("--if-stale", action="store_true", help="only when missing or older than the orders")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        settings = load_recommender_settings()
        store = open_store(args.url)
        if args.if_stale and not needs_training(store, settings):
            print(f"recommender up to date: {settings.artefact_dir}")
            return 0
        _, meta = train(store, settings, progress=not args.quiet)
        print(f"recommender trained on {meta.fingerprint.orders} orders: {settings.artefact_dir}")
    except (ConfigError, StoreUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
