"""The QMS app packages shipped with the platform (data: one folder per app) and their catalog."""
