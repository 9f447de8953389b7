"""A fake of Google's OAuth 2.0 / OpenID Connect provider (what "Sign in with Google" talks to), as an ASGI app.

Use `GoogleFake(clients=[...]).app` behind `httpx.ASGITransport` in tests, or mount it under `/_sandbox/google`.
"""

from fakes.google.fake import Forgery, GoogleClient, GoogleFake, OAuthError
from fakes.google.keys import KeyRing
from fakes.google.users import SANDBOX_USERS, SandboxUser

__all__ = ["SANDBOX_USERS", "Forgery", "GoogleClient", "GoogleFake", "KeyRing", "OAuthError", "SandboxUser"]
