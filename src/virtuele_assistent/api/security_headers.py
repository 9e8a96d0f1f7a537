"""Security headers on every response (OWASP Secure Headers): what a browser may load, embed, send
and use. A route may set its own Content-Security-Policy (the demo page names the tenant's origins as
its frame ancestors); every other response gets the policy for its kind.

- JSON, problems, the widget script: nothing to load, never framed.
- HTML of the product (demo page, demo site): scripts and connections from this server only, no
  inline script; inline styles are allowed because the widget puts its stylesheet in its shadow root.
- HTML of the staff portal (/beheer): no inline script or style, never framed.
- The API documentation (/docs, /redoc) loads Swagger UI and ReDoc from their CDN with an inline
  start-up script: a developer page, never shown to residents or staff, with a policy of its own.
"""

from __future__ import annotations

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
# The staff portal: nothing inline at all, never framed (clickjacking), forms only to itself.
PORTAL_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PORTAL_PREFIX = "/beheer"
# a portal page that shows the widget as a preview: the widget's stylesheet sits in its shadow root
PORTAL_PREVIEW_POLICY = PORTAL_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'"
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
# No voice input yet: no page of ours may use the microphone, camera or location.
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
HSTS = "max-age=31536000; includeSubDomains"


def page_policy(frame_ancestors: list[str]) -> str:
    """The product's HTML policy, embeddable by these origins (besides this server)."""
    return PAGE_POLICY.replace(
        "frame-ancestors 'self'", " ".join(["frame-ancestors 'self'", *frame_ancestors])
    )


def security_headers(path: str, headers: list[tuple[bytes, bytes]], https: bool) -> list[tuple[bytes, bytes]]:
    """The response's headers with every security header it does not set itself."""
    present = {name.lower() for name, _ in headers}
    content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"").decode("latin-1")
    if path in DOCS_PATHS:
        policy = DOCS_POLICY
    elif content_type.startswith("text/html"):
        policy = PORTAL_POLICY if path.startswith(PORTAL_PREFIX) else PAGE_POLICY
    else:
        policy = API_POLICY
    wanted = {
        b"content-security-policy": policy,
        b"x-content-type-options": "nosniff",
        b"referrer-policy": "no-referrer",
        b"permissions-policy": PERMISSIONS,
        b"cross-origin-opener-policy": "same-origin",
    }
    if https:
        wanted[b"strict-transport-security"] = HSTS
    return headers + [(name, value.encode()) for name, value in wanted.items() if name not in present]
