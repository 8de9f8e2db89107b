"""Approval pages (blueprint ``tasks``): the task inbox, the task page with its action dialogs,
batch approval, and the submitter's withdraw / resubmit / comment posts from the record page."""
from runtime.tasks.views import bp

__all__ = ["bp"]
