"""Kefu's action server: rasa_sdk's app, answering only the Rasa server.

``python -m kefu.security.action_server --port 5055`` runs the actions of ``actions/`` like
``python -m rasa_sdk``, with three differences: it listens on ``security.host`` (localhost by
default) instead of every interface; every ``/webhook`` call must carry the shared secret
(``Authorization: Bearer $KEFU_ACTION_TOKEN``, which Rasa sends from endpoints.yml), so a forged
tracker from anyone else is refused before any action runs; and errors are answered and logged
without echoing the tracker (rasa_sdk returns the whole request body with a 500).
"""

from __future__ import annotations

import argparse
import hmac
import logging
from typing import Any

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})


def authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization") or ""
    scheme, _, provided = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(provided.strip().encode(), token.encode())


def create_action_app(token: str, actions_package: str = "actions") -> Sanic:
    if not token:
        raise ValueError("the action server needs a shared secret (KEFU_ACTION_TOKEN)")
    # No CORS: browsers have no business calling the action server.
    app = create_app(actions_package, cors_origins=None)

    @app.on_request
    async def require_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or authorised(request, token):
            return None
        logger.warning("refused a %s %s call without the action server's secret", request.method, request.path)
        return response.json({"error": "unauthorised: this server only answers Kefu's Rasa server"}, status=401)

    async def on_error(request: Request, exception: Exception) -> HTTPResponse:
        logger.error("action server error on %s: %s", request.path, type(exception).__name__, exc_info=exception)
        return response.json({"error": type(exception).__name__}, status=500)

    app.error_handler.add(Exception, on_error)
    return app


def main(argv: Any = None) -> None:
    from kefu.security.logs import quiet_customer_data
    from kefu.security.secrets import ACTION_TOKEN
    from kefu.security.settings import security_settings

    parser = argparse.ArgumentParser(description="Kefu's action server (rasa_sdk, secret-checked)")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    utils.update_sanic_log_level()
    settings = security_settings()
    quiet_customer_data(settings.log_customer_text)
    app = create_action_app(ACTION_TOKEN.value(), args.actions)

    @app.after_server_start
    async def prepare_free_answers(*_: Any) -> None:
        # In every worker: each has its own model and index.
        from kefu.answering import warm_up_in_background

        warm_up_in_background()

    logger.info("Kefu action server on http://%s:%s (webhook calls need the shared secret)", settings.host, args.port)
    app.run(settings.host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
