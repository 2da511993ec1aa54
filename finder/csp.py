"""Content-Security-Policy exceptions, kept as narrow as the pages that need them.

The site-wide policy (settings.CONTENT_SECURITY_POLICY) allows no inline script
or style anywhere. What third-party pages need, found by reading their templates:

* Django admin (5.2): no inline script at all. One inline <style> in
  admin/change_list.html, printed when a changelist has no actions. Admin
  pages get the sha256 hash of exactly that block, nothing more
  (CSPMiddleware below), computed from the template actually in use.
* drf-spectacular Swagger UI: use SpectacularSwaggerSplitView (it serves its
  init script from a URL instead of inline) with drf-spectacular-sidecar (no
  CDN); its template still has one inline <style>, so wrap the view in
  `swagger_ui_csp`.
* drf-spectacular ReDoc: leave SPECTACULAR_SETTINGS["REDOC_UI_SETTINGS"] unset
  (otherwise the template adds an inline init script); ReDoc injects its own
  <style> elements at run time and builds its search worker from a blob:, so
  wrap the view in `redoc_csp`.

Usage in urls.py, only on those views:
    path("api/docs/", swagger_ui_csp(SpectacularSwaggerSplitView.as_view(...)))
"""

import base64
import functools
import hashlib
import re

from csp.decorators import csp_update
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.template import TemplateDoesNotExist, loader

swagger_ui_csp = csp_update({"style-src": ["'unsafe-inline'"]})
redoc_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})

INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@functools.cache
def admin_inline_style_hashes():
    """CSP hashes of the literal <style> blocks in the admin changelist template."""
    try:
        source = loader.get_template("admin/change_list.html").template.source
    except TemplateDoesNotExist:
        return ()
    hashes = []
    for block in INLINE_STYLE.findall(source):
        if "{{" in block or "{%" in block or "{#" in block:
            continue  # Templated content: its rendered form cannot be hashed ahead.
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return tuple(hashes)


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, plus the admin changelist's one inline style on admin pages."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        match = getattr(request, "resolver_match", None)
        if not report_only and match is not None and "admin" in match.namespaces:
            update = dict(parts.update or {})
            update["style-src"] = [*update.get("style-src", []), *admin_inline_style_hashes()]
            parts = PolicyParts(parts.config, update, parts.replace, parts.nonce)
        return parts
