"""``python -m kefu.security secret NAME``: print a shared secret (from the environment, else
generated once into var/secrets/), for scripts/serve.sh and operators."""

from __future__ import annotations

import argparse
import sys

from kefu.security.secrets import ACTION_TOKEN, API_TOKEN, REDIS_PASSWORD, SOURCE_KEY, SecretError

SECRETS = {
    "api_token": API_TOKEN,
    "action_token": ACTION_TOKEN,
    "source_key": SOURCE_KEY,
    "redis_password": REDIS_PASSWORD,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.security")
    commands = parser.add_subparsers(dest="command", required=True)
    secret = commands.add_parser("secret", help="print a shared secret")
    secret.add_argument("name", choices=sorted(SECRETS))
    args = parser.parse_args(argv)
    try:
        print(SECRETS[args.name].value())
    except SecretError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
