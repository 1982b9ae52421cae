"""The sandbox's OAuth2 authorization server, on oauthlib's server classes.

oauthlib does the protocol (parameter checks, PKCE verification, error types);
`SandboxValidator` answers its questions from our tables. Grants served:
authorization_code (PKCE S256 verified when a challenge was sent), refresh_token
(single use: every refresh burns the old token and issues a new pair) and
client_credentials (an access token only).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from oauthlib.oauth2 import (
    AuthorizationCodeGrant,
    BearerToken,
    ClientCredentialsGrant,
    InvalidGrantError,
    RefreshTokenGrant,
    RequestValidator,
)
from oauthlib.oauth2.rfc6749.endpoints import AuthorizationEndpoint, TokenEndpoint

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    Grant,
    Owner,
    RefreshToken,
    digest,
)

CODE_LIFETIME = timedelta(minutes=10)
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


class SandboxValidator(RequestValidator):
    # -- clients ---------------------------------------------------------------------

    def _client(self, client_id: str | None) -> Client | None:
        return Client.objects.filter(client_id=client_id or "").first()

    def validate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        request.client = self._client(client_id)
        return request.client is not None

    def client_authentication_required(self, request, *args, **kwargs) -> bool:
        return True

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        client = self._client(request.client_id)
        if client is None or not client.check_secret(request.client_secret or ""):
            return False
        request.client = client
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        return False  # no public clients: every client has a secret

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type == "client_credentials":
            return client.owner_id is not None  # only a client with an own account
        return grant_type in GRANT_TYPES

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        return response_type == "code"

    # -- redirect URIs and scopes -------------------------------------------------------

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs) -> bool:
        return redirect_uri in request.client.redirect_uri_list

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        client = request.client or self._client(client_id)
        uris = client.redirect_uri_list if client else []
        return uris[0] if len(uris) == 1 else None

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs) -> bool:
        return bool(scopes) and set(scopes) <= set(client.allowed_scope_list)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        client = request.client or self._client(client_id)
        return client.allowed_scope_list if client else []

    # -- authorization codes (with PKCE) ---------------------------------------------------

    def is_pkce_required(self, client_id, request) -> bool:
        return False  # verified whenever a challenge was sent

    def save_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        owner: Owner = request.owner
        grant = Grant.objects.filter(owner=owner, client=request.client, revoked_at=None).first()
        if grant is None:
            grant = Grant.objects.create(owner=owner, client=request.client, scopes="")
        grant.scopes = " ".join(sorted(set(grant.scope_list) | set(request.scopes)))
        grant.save(update_fields=["scopes"])
        AuthorizationCode.objects.create(
            code_digest=digest(code["code"]),
            grant=grant,
            redirect_uri=request.redirect_uri,
            scopes=" ".join(request.scopes),
            code_challenge=request.code_challenge or "",
            code_challenge_method=request.code_challenge_method or "",
            expires_at=timezone.now() + CODE_LIFETIME,
        )

    def _live_code(self, code: str, client: Client) -> AuthorizationCode | None:
        return (
            AuthorizationCode.objects.select_related("grant__owner")
            .filter(
                code_digest=digest(code),
                grant__client=client,
                grant__revoked_at=None,
                used_at=None,
                expires_at__gt=timezone.now(),
            )
            .first()
        )

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        stored = self._live_code(code, client)
        if stored is None:
            return False
        request.user = stored.grant.owner
        request.scopes = stored.scopes.split()
        request.sandbox_grant = stored.grant
        return True

    def get_code_challenge(self, code, request):
        stored = AuthorizationCode.objects.filter(code_digest=digest(code)).first()
        return (stored.code_challenge or None) if stored else None

    def get_code_challenge_method(self, code, request):
        stored = AuthorizationCode.objects.filter(code_digest=digest(code)).first()
        return (stored.code_challenge_method or "plain") if stored else None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *a, **kw):
        stored = AuthorizationCode.objects.filter(code_digest=digest(code)).first()
        return stored is not None and stored.redirect_uri == redirect_uri

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        pass  # claimed in save_token, where losing a race can still refuse the token

    # -- refresh tokens --------------------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs) -> bool:
        stored = (
            RefreshToken.objects.select_related("grant__owner")
            .filter(
                token_digest=digest(refresh_token),
                grant__client=client,
                grant__revoked_at=None,
                used_at=None,
            )
            .first()
        )
        if stored is None:
            return False
        request.user = stored.grant.owner
        request.sandbox_grant = stored.grant
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        return request.sandbox_grant.scope_list

    def rotate_refresh_token(self, request) -> bool:
        return True

    # -- issuing -----------------------------------------------------------------------------

    @transaction.atomic
    def save_token(self, token, request, *args, **kwargs) -> None:
        """Store the new pair; first claim the code or refresh token it was traded for.

        The claim is one conditional UPDATE, so of two requests racing with the same
        code or refresh token exactly one gets a pair; the other gets invalid_grant.
        """
        now = timezone.now()
        grant: Grant | None = getattr(request, "sandbox_grant", None)
        if request.grant_type == "authorization_code":
            claimed = AuthorizationCode.objects.filter(
                code_digest=digest(request.code), used_at=None
            ).update(used_at=now)
            if not claimed:
                raise InvalidGrantError(description="The authorization code was already used.")
        elif request.grant_type == "refresh_token":
            claimed = RefreshToken.objects.filter(
                token_digest=digest(request.refresh_token), used_at=None
            ).update(used_at=now)
            if not claimed:
                raise InvalidGrantError(description="The refresh token was already used.")
        owner = grant.owner if grant else request.client.owner
        AccessToken.objects.create(
            token_digest=digest(token["access_token"]),
            client=request.client,
            owner=owner,
            grant=grant,
            scopes=" ".join(request.scopes or []),
            expires_at=now + timedelta(seconds=int(token["expires_in"])),
        )
        if token.get("refresh_token") and grant is not None:
            RefreshToken.objects.create(token_digest=digest(token["refresh_token"]), grant=grant)

    def save_bearer_token(self, token, request, *args, **kwargs) -> None:
        self.save_token(token, request, *args, **kwargs)


class SandboxServer(AuthorizationEndpoint, TokenEndpoint):
    """Authorization and token endpoints for the three grants the provider serves."""

    def __init__(self, validator: RequestValidator) -> None:
        auth_grant = AuthorizationCodeGrant(validator)
        bearer = BearerToken(validator, expires_in=access_token_lifetime)
        AuthorizationEndpoint.__init__(
            self,
            default_response_type="code",
            response_types={"code": auth_grant},
            default_token_type=bearer,
        )
        TokenEndpoint.__init__(
            self,
            default_grant_type="authorization_code",
            grant_types={
                "authorization_code": auth_grant,
                "refresh_token": RefreshTokenGrant(validator),
                "client_credentials": ClientCredentialsGrant(validator),
            },
            default_token_type=bearer,
        )


def access_token_lifetime(request) -> int:
    """SANDBOX_ACCESS_TOKEN_LIFETIME, or the shorter life a fault profile asks for."""
    owner = getattr(request, "user", None) or getattr(request.client, "owner", None)
    return faults.token_lifetime(faults.profile_for(owner))


server = SandboxServer(SandboxValidator())
