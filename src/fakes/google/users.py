"""The sandbox's Google accounts: who can be picked on the consent page or named with `sandbox_user`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxUser:
    name: str
    # Google's `sub`: a stable decimal string of 21 digits, never reused, the key an app stores.
    subject: str
    email: str
    email_verified: bool
    full_name: str
    given_name: str
    family_name: str
    picture: str
    # Google Workspace accounts carry their domain in `hd`; consumer accounts have none.
    hosted_domain: str | None = None

    def profile(self) -> dict[str, object]:
        """The claims of the `email` and `profile` scopes, as the ID token and userinfo carry them."""
        claims: dict[str, object] = {
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.full_name,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "picture": self.picture,
        }
        if self.hosted_domain:
            claims["hd"] = self.hosted_domain
        return claims


def _user(
    name: str, subject: str, email: str, full_name: str, *, verified: bool = True, hd: str | None = None
) -> SandboxUser:
    given, _, family = full_name.partition(" ")
    return SandboxUser(
        name=name,
        subject=subject,
        email=email,
        email_verified=verified,
        full_name=full_name,
        given_name=given,
        family_name=family,
        picture=f"https://lh3.googleusercontent.com/a/sandbox-{name}=s96-c",
        hosted_domain=hd,
    )


# alice and bob are on the development allowlist (`@example.com`); eve is not; carol is on it, but Google
# has not verified her address (an account created with a non-Gmail address and never confirmed).
SANDBOX_USERS: dict[str, SandboxUser] = {
    user.name: user
    for user in (
        _user("alice", "108236457091234567801", "alice@example.com", "Alice Driver"),
        _user("bob", "108236457091234567802", "bob@example.com", "Bob Fleet"),
        _user("carol", "108236457091234567803", "carol@example.com", "Carol Unverified", verified=False),
        _user("eve", "108236457091234567804", "eve@outsider.example", "Eve Outsider"),
        _user("dana", "108236457091234567805", "dana@fleet.example.org", "Dana Company", hd="fleet.example.org"),
    )
}
