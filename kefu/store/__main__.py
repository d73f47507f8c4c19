"""Store administration: ``python -m kefu.store {prepare,reset,export,migrate,revision}``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List

from kefu.config import ConfigError, settings
from kefu.store import StoreUnavailable, prepare_store
from kefu.store.seed import dump_json, export_store


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.store", description=__doc__)
    parser.add_argument("--url", help="database URL (default: kefu.yml store.url or KEFU_STORE_URL)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("prepare", help="migrate the schema and seed the store if it is empty")
    commands.add_parser("reset", help="migrate, empty every table (audit log too) and reseed")
    export = commands.add_parser("export", help="write the store in the seed's JSON shape")
    export.add_argument("--out", type=Path, help="a file (default: standard output)")
    commands.add_parser("migrate", help="apply schema migrations only")
    revision = commands.add_parser("revision", help="write a new migration from the models")
    revision.add_argument("message")
    args = parser.parse_args(argv)

    try:
        url = args.url or settings().store.url
        if args.command == "migrate":
            from kefu.store import schema

            schema.upgrade(url)
        elif args.command == "revision":
            from kefu.store import schema

            schema.new_revision(url, args.message)
        elif args.command in ("prepare", "reset"):
            prepare_store(url, reset=args.command == "reset")
            print(f"store ready: {url}")
        elif args.command == "export":
            data = export_store(prepare_store(url))
            if args.out:
                dump_json(data, args.out)
                print(f"wrote {args.out}")
            else:
                json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    except (ConfigError, StoreUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
