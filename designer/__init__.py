"""The drag-and-drop designer (Flask blueprint + static JS) — arrives with issue 8."""
