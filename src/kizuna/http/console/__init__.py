"""The analyst console: server-rendered pages (Jinja2), served by the node itself.

No build step and no CDN: the one stylesheet and the one script are files of this package. Every
page answers with a strict Content-Security-Policy (no inline script or style), no framing and no
referrer. A person logs in with a user name and password (services.users); the session cookie
is HttpOnly, SameSite=Strict and Secure when the request came over TLS; every form carries the
session's CSRF token, checked before anything else the POST does.
"""

from kizuna.http.console.pages import router

__all__ = ["router"]
