"""A fix for a measured hot spot of Rasa 3.6's server, applied when Kefu's model is loaded.

Rasa checks every reply of the action server against its response schema with
``jsonschema.validate``, and that function first re-checks the schema itself against the JSON
Schema meta-schema, on every call. Rasa's event schema is large, so under load (benchmarks/
rest_load.py, py-spy on the Rasa server) half of the server's CPU went to re-proving that
Rasa's own constant schema is valid. Here the schema is checked once and one validator is kept:
every reply is still validated against the same schema, and an invalid reply still raises the
same ``ValidationError`` with Rasa's explanation. Rasa 3.6.21 is the last open-source release,
so the fix cannot come from upstream.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of on every reply
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the schema checked once."""
    error = jsonschema.exceptions.best_match(_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from "
            f"the Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def apply() -> None:
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
