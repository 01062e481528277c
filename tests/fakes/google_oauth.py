"""A test service account and the fake Google OAuth token endpoint's checks.

`new_service_account` makes an RSA key and the key-file JSON google-auth reads, its
`token_uri` pointing at a fake. `TokenMinter` verifies the JWT-bearer grant
google-auth's service-account credentials send (RFC 7523; WIRE-FORMATS 5.1) with the
account's public key, independently of google-auth, and mints access tokens.
"""

import base64
import json
import secrets
import time
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.payload import JsonObject

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_ENDPOINT = "https://oauth2.googleapis.com/token"
"""The `aud` google-auth signs service-account assertions for, whatever `token_uri` is."""
TOKEN_LIFETIME_SECONDS = 3599
"""What Google answers as `expires_in`."""
MAX_ASSERTION_SECONDS = 3600
"""Google refuses assertions whose `exp` is more than an hour after `iat`."""
CLOCK_SKEW_SECONDS = 300


class GrantError(Exception):
    """The grant is refused; the message is the `error_description` Google would send."""


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """A service account key: `info` is the key file's JSON, as google-auth loads it."""

    info: dict[str, str]
    public_key: rsa.RSAPublicKey

    @property
    def client_email(self) -> str:
        return self.info["client_email"]


def new_service_account(token_uri: str, project: str = "fake-project") -> ServiceAccount:
    """A fresh 2048-bit RSA service account whose tokens come from `token_uri`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": f"broker@{project}.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }
    return ServiceAccount(info, key.public_key())


@dataclass
class TokenMinter:
    """Verifies JWT-bearer grants of known accounts and remembers the tokens it minted."""

    accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (epoch s)

    def trust(self, account: ServiceAccount) -> None:
        self.accounts[account.client_email] = account

    def grant(self, form: dict[str, str], token_uri: str) -> JsonObject:
        """The token response for a form-encoded grant, or `GrantError`."""
        if form.get("grant_type") != JWT_BEARER_GRANT:
            raise GrantError("Unsupported grant type.")
        claims = self._verified_claims(form.get("assertion", ""), token_uri)
        if CLOUD_PLATFORM_SCOPE not in str(claims.get("scope", "")).split():
            raise GrantError("Invalid OAuth scope or ID token audience provided.")
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + TOKEN_LIFETIME_SECONDS
        return {"access_token": token, "expires_in": TOKEN_LIFETIME_SECONDS, "token_type": "Bearer"}

    def is_valid(self, token: str) -> bool:
        return self.tokens.get(token, 0.0) > time.time()

    def _verified_claims(self, assertion: str, token_uri: str) -> JsonObject:
        pieces = assertion.split(".")
        if len(pieces) != 3:  # header.claims.signature
            raise GrantError("Invalid JWT.")
        header, claims = _json_segment(pieces[0]), _json_segment(pieces[1])
        account = self.accounts.get(str(claims.get("iss")))
        if account is None:
            raise GrantError("Invalid JWT Signature.")
        if header.get("alg") != "RS256" or header.get("kid") != account.info["private_key_id"]:
            raise GrantError("Invalid JWT Signature.")
        try:
            account.public_key.verify(
                _unpadded_b64(pieces[2]),
                f"{pieces[0]}.{pieces[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature as exc:
            raise GrantError("Invalid JWT Signature.") from exc
        _check_times(claims)
        if claims.get("aud") not in (GOOGLE_TOKEN_ENDPOINT, token_uri):
            raise GrantError("Invalid JWT: the audience is not the token endpoint.")
        return claims


def _check_times(claims: JsonObject) -> None:
    issued, expires, now = claims.get("iat"), claims.get("exp"), time.time()
    if not isinstance(issued, int) or not isinstance(expires, int):
        raise GrantError("Invalid JWT: iat and exp are required.")
    too_long = expires - issued > MAX_ASSERTION_SECONDS
    if too_long or expires < now - CLOCK_SKEW_SECONDS or issued > now + CLOCK_SKEW_SECONDS:
        raise GrantError(
            "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
        )


def _unpadded_b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json_segment(segment: str) -> JsonObject:
    try:
        value = json.loads(_unpadded_b64(segment))
    except ValueError as exc:
        raise GrantError("Invalid JWT.") from exc
    if not isinstance(value, dict):
        raise GrantError("Invalid JWT.")
    return value
