"""The trace page (blueprint ``trace``): ``/trace/<form_key>/<record_id>`` shows the records linked
to a record backward (what went into it) and forward (where it went), as a layered graph.

``runtime.trace.api.trace_json`` is the JSON of the same graph, attached to the ``/api/v1``
blueprint as ``GET /api/v1/trace/<form_key>/<record_id>``.
"""
from runtime.trace.views import bp

__all__ = ["bp"]
