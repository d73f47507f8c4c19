"""Agent accounts for the console: ``python -m kefu.console add-agent NAME``.

The password is asked for (twice) on a terminal, or read from the first line of standard input
with ``--password-stdin`` (for scripts); it never appears on the command line or in the store.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from typing import List

from kefu.console.auth import hash_password
from kefu.store import StoreUnavailable, prepare_store

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.console", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-agent", help="create an agent account, or set a new password")
    add.add_argument("name", help="login name: lower-case letters, digits, . _ -")
    add.add_argument("--display-name", help="the name customers see (default: the login name)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--store-url", help="the store (default: kefu.yml store.url or KEFU_STORE_URL)")
    args = parser.parse_args(argv)
    if not NAME.match(args.name):
        print(f"error: {args.name!r} is not a login name (lower-case letters, digits, . _ -)", file=sys.stderr)
        return 2
    try:
        password_hash = hash_password(_password(args.password_stdin))
        store = prepare_store(args.store_url)
        agent = store.add_agent(args.name, args.display_name or args.name, password_hash)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except StoreUnavailable as error:
        print(f"error: the store is unavailable: {error}", file=sys.stderr)
        return 2
    print(f"agent {agent.name} ({agent.display_name}) can log in to the console: /webhooks/console/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
