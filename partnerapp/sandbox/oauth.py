"""The sandbox's OAuth2 authorization server, on oauthlib's server classes.

oauthlib does the protocol (parameter checks, PKCE verification, error types);
`SandboxValidator` answers its questions from our tables, and records on the oauthlib
request why it refused, in league/oauth2-server's words (token_errors.py), for the
token endpoint to answer as the provider does. Grants served: authorization_code (PKCE
S256 verified when a challenge was sent), refresh_token (single use: every refresh burns
the old token, revokes the access token it came with and issues a new pair) and
client_credentials (an access token only).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from oauthlib.common import Request
from oauthlib.oauth2 import (
    AuthorizationCodeGrant,
    BearerToken,
    ClientCredentialsGrant,
    InvalidGrantError,
    OAuth2Error,
    RefreshTokenGrant,
    RequestValidator,
)
from oauthlib.oauth2.rfc6749 import utils
from oauthlib.oauth2.rfc6749.endpoints import AuthorizationEndpoint, TokenEndpoint

from partnerapp.sandbox import faults
from partnerapp.sandbox import token_errors as league
from partnerapp.sandbox.models import (
    SCOPES,
    AccessToken,
    AuthorizationCode,
    Client,
    FaultProfile,
    Grant,
    Owner,
    RefreshToken,
    digest,
)
from partnerapp.sandbox.token_errors import Refusal, record

CODE_LIFETIME = timedelta(minutes=10)
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
# The parameter each grant cannot do without (league asks for it right after the client).
REQUIRED = {"authorization_code": "code", "refresh_token": "refresh_token"}


class SandboxValidator(RequestValidator):
    """oauthlib's questions, answered from our tables.

    Besides the answer, every refusal is recorded on the request (`record`) with the
    reason league would give; `request.sandbox_owner` is the account the request turned
    out to be for, whose fault profile picks the style of the answer."""

    # -- clients ---------------------------------------------------------------------

    def _client(self, client_id: str | None) -> Client | None:
        return Client.objects.select_related("owner").filter(client_id=client_id or "").first()

    def validate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        request.client = self._client(client_id)
        return request.client is not None

    def client_authentication_required(self, request, *args, **kwargs) -> bool:
        return True

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        # Asked twice per token request (check_client_first, then oauthlib): look once.
        if getattr(request, "sandbox_authenticated", None) is None:
            client = self._client(request.client_id)
            request.sandbox_authenticated = client is not None and client.check_secret(
                request.client_secret or ""
            )
            if request.sandbox_authenticated:
                request.client = client
            else:
                record(request, league.invalid_client())
        return request.sandbox_authenticated

    def authenticate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        return False  # no public clients: every client has a secret

    def check_client_first(self, request) -> None:
        """A pre-token check in league's order, which validates the client before the
        grant's own parameters: with a wrong secret and no code, league says
        invalid_client where oauthlib says invalid_request. It only records; oauthlib
        goes on to raise its own error (the legacy style shows that one)."""
        if request.client_id is None:
            record(request, league.invalid_request("client_id"))
        elif self.authenticate_client(request) and _foreign_redirect_uri(request):
            record(request, league.invalid_client())  # league: a URI the client never registered
        parameter = REQUIRED.get(request.grant_type)
        if parameter and getattr(request, parameter) is None:
            record(request, league.invalid_request(parameter))

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type != "client_credentials":
            return grant_type in GRANT_TYPES
        if client.owner_id is None:  # only a client with an own account; league: no such client
            return record(request, league.invalid_client())
        request.sandbox_owner = client.owner
        return True

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
        wanted = [scope for scope in scopes if scope]
        if not wanted and request.grant_type == "client_credentials":
            # `scope=` (the wrapper sends it for the owner endpoint): what the client may have
            wanted = client.allowed_scope_list
        refused = _first_unknown(wanted) or _first_beyond(wanted, client.allowed_scope_list)
        if not wanted or refused:
            return record(request, league.invalid_scope(refused or ""))
        request.scopes = wanted
        return True

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

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        stored = (
            AuthorizationCode.objects.select_related("grant__owner")
            .filter(code_digest=digest(code))
            .first()
        )
        if stored is not None:
            request.sandbox_owner = stored.grant.owner
        refusal = _code_refusal(stored, client)
        if refusal is not None:
            return record(request, refusal)
        request.user = stored.grant.owner
        request.scopes = stored.scopes.split()
        request.sandbox_grant, request.sandbox_code = stored.grant, stored
        if request.redirect_uri != stored.redirect_uri:
            # Recorded now because league checks it before PKCE; oauthlib refuses it later,
            # in confirm_redirect_uri.
            hint = "Invalid redirect URI" if request.redirect_uri else None
            record(request, league.invalid_request("redirect_uri", hint))
        return True

    def get_code_challenge(self, code, request):
        stored: AuthorizationCode = request.sandbox_code
        if stored.code_challenge:
            # oauthlib verifies the verifier itself, right after this: say now what a
            # failure will mean (a later refusal replaces it only if it is the first).
            record(request, league.verifier_refusal(request.code_verifier))
        return stored.code_challenge or None

    def get_code_challenge_method(self, code, request):
        return request.sandbox_code.code_challenge_method or "plain"

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *a, **kw):
        # league wants the redirect URI again, even when the client has just one.
        stored: AuthorizationCode = request.sandbox_code
        return not request.using_default_redirect_uri and stored.redirect_uri == redirect_uri

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        pass  # claimed in save_token, where losing a race can still refuse the token

    # -- refresh tokens --------------------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs) -> bool:
        stored = (
            RefreshToken.objects.select_related("grant__owner")
            .filter(token_digest=digest(refresh_token))
            .first()
        )
        if stored is not None:
            request.sandbox_owner = stored.grant.owner
        refusal = _refresh_refusal(stored, client)
        if refusal is not None:
            return record(request, refusal)
        request.user = stored.grant.owner
        request.sandbox_grant, request.sandbox_refresh = stored.grant, stored
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        return request.sandbox_grant.scope_list

    def is_within_original_scope(self, request_scopes, refresh_token, request, *a, **kw):
        """Asked when the refresh names a scope beyond the grant's (or an empty one)."""
        wanted = [scope for scope in request_scopes if scope]
        original = request.sandbox_grant.scope_list
        refused = _first_unknown(wanted) or _first_beyond(wanted, original)
        if refused:
            return record(request, league.invalid_scope(refused))
        request.scopes = wanted
        return True

    def rotate_refresh_token(self, request) -> bool:
        return True

    # -- issuing -----------------------------------------------------------------------------

    @transaction.atomic
    def save_token(self, token, request, *args, **kwargs) -> None:
        """Store the new pair; first claim the code or refresh token it was traded for.

        A refresh also revokes the access token that came with the used refresh token,
        as league does (unless the profile says otherwise)."""
        now = timezone.now()
        grant: Grant | None = getattr(request, "sandbox_grant", None)
        self._claim(request, now)
        owner = grant.owner if grant else request.client.owner
        access = AccessToken.objects.create(
            token_digest=digest(token["access_token"]),
            client=request.client,
            owner=owner,
            grant=grant,
            scopes=" ".join(request.scopes or []),
            expires_at=now + timedelta(seconds=int(token["expires_in"])),
        )
        if request.grant_type == "refresh_token" and profile_of(request).revoke_access_on_refresh:
            previous = request.sandbox_refresh.access_token_id
            AccessToken.objects.filter(pk=previous, revoked_at=None).update(revoked_at=now)
        if token.get("refresh_token") and grant is not None:
            RefreshToken.objects.create(
                token_digest=digest(token["refresh_token"]), grant=grant, access_token=access
            )

    def _claim(self, request, now) -> None:
        """One conditional UPDATE, so of two requests racing with the same code or refresh
        token exactly one gets a pair; the other is refused as a used one is."""
        if request.grant_type == "authorization_code":
            rows = AuthorizationCode.objects.filter(code_digest=digest(request.code))
            refusal = league.invalid_request("code", league.CODE_REVOKED)
            description = "The authorization code was already used."
        elif request.grant_type == "refresh_token":
            rows = RefreshToken.objects.filter(token_digest=digest(request.refresh_token))
            refusal = league.invalid_refresh_token(league.REFRESH_REVOKED)
            description = "The refresh token was already used."
        else:
            return
        if not rows.filter(used_at=None).update(used_at=now):
            # Every check passed: what was recorded so far was only a possibility (PKCE).
            record(request, refusal, replace=True)
            raise InvalidGrantError(description=description, request=request)

    def save_bearer_token(self, token, request, *args, **kwargs) -> None:
        self.save_token(token, request, *args, **kwargs)


def _foreign_redirect_uri(request) -> bool:
    uri = request.redirect_uri
    return uri is not None and uri not in request.client.redirect_uri_list


def _first_unknown(scopes: list[str]) -> str | None:
    return next((scope for scope in scopes if scope not in SCOPES), None)


def _first_beyond(scopes: list[str], allowed: list[str]) -> str | None:
    return next((scope for scope in scopes if scope not in allowed), None)


def _code_refusal(stored: AuthorizationCode | None, client: Client) -> Refusal | None:
    """league's checks of a code, in its order."""
    if stored is None:
        return league.invalid_request("code", league.CODE_UNKNOWN)
    if stored.expires_at <= timezone.now():
        return league.invalid_request("code", league.CODE_EXPIRED)
    if stored.used_at is not None or stored.grant.revoked_at is not None:
        return league.invalid_request("code", league.CODE_REVOKED)
    if stored.grant.client_id != client.pk:
        return league.invalid_request("code", league.CODE_OTHER_CLIENT)
    return None


def _refresh_refusal(stored: RefreshToken | None, client: Client) -> Refusal | None:
    """league's checks of a refresh token, in its order (ours never expire)."""
    if stored is None:
        return league.invalid_refresh_token(league.REFRESH_UNKNOWN)
    if stored.grant.client_id != client.pk:
        return league.invalid_refresh_token(league.REFRESH_OTHER_CLIENT)
    if stored.used_at is not None or stored.grant.revoked_at is not None:
        return league.invalid_refresh_token(league.REFRESH_REVOKED)
    return None


class SandboxServer(AuthorizationEndpoint, TokenEndpoint):
    """Authorization and token endpoints for the three grants the provider serves."""

    def __init__(self, validator: SandboxValidator) -> None:
        auth_grant = AuthorizationCodeGrant(validator, pre_token=[validator.check_client_first])
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
                "refresh_token": RefreshTokenGrant(
                    validator, pre_token=[validator.check_client_first]
                ),
                "client_credentials": ClientCredentialsGrant(
                    validator, pre_token=[validator.check_client_first]
                ),
            },
            default_token_type=bearer,
        )

    def token_response(self, uri: str, body: str, headers: dict) -> tuple[Request, str, int]:
        """TokenEndpoint.create_token_response, but keeping the oauthlib request: what
        the validator recorded on it decides the answer to a refusal."""
        request = Request(uri, http_method="POST", body=body, headers=headers)
        try:
            self.validate_token_request(request)
            request.scopes = utils.scope_to_list(request.scope)
            grant = self.grant_types.get(request.grant_type, self.default_grant_type_handler)
            _, raw, status = grant.create_token_response(request, self.default_token_type)
        except OAuth2Error as exc:  # a malformed request, or lost a race in save_token
            raw, status = exc.json, exc.status_code
        return request, raw, status


def profile_of(request) -> FaultProfile:
    """The fault profile of the account a token request is for, looked up once."""
    if getattr(request, "sandbox_profile", None) is None:
        owner = getattr(request, "user", None) or getattr(request.client, "owner", None)
        request.sandbox_profile = faults.profile_for(owner)
    return request.sandbox_profile


def access_token_lifetime(request) -> int:
    """SANDBOX_ACCESS_TOKEN_LIFETIME, or the shorter life a fault profile asks for."""
    return faults.token_lifetime(profile_of(request))


server = SandboxServer(SandboxValidator())
