"""Admin pages for apps (blueprint ``apps_admin``): installed apps with export, the template
catalog with install / upgrade, uploading a package, and the upgrade preview with its diff and
conflicts (:mod:`.views`). :mod:`.api` holds the REST functions for upgrade preview/apply and
:mod:`.cli` the confirming ``qms import-app``."""
from runtime.apps_admin.views import bp

__all__ = ["bp"]
