"""Sign-in through external identity providers: the providers (super-admins), the OpenID Connect code flow with PKCE
(Nubes as relying party), partner tickets, linking and unlinking, just-in-time accounts and group sync.

An account is found only through its link (provider, subject): a matching e-mail address never links or signs in
anyone (that would hand an account to whoever controls an address at some provider).
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import quote

import httpx
import structlog
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.crypto import SealError, seal, unseal
from nubes.core.db import utcnow
from nubes.core.errors import Conflict, Forbidden, NotFound, NubesError, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.identity.federation.models import FederatedIdentity, IdentityProvider, SpentFederationToken
from nubes.identity.federation.schemas import DiscoveryRead, ProviderCreate, ProviderUpdate
from nubes.identity.groups.models import Group, GroupMember
from nubes.identity.mfa.models import Passkey
from nubes.identity.roles.models import UserRole
from nubes.identity.roles.service import bump_roles_version, keep_an_owner, owner_ids, roles_by_name
from nubes.identity.schemas import USERNAME_PATTERN
from nubes.identity.sessions import service as sessions_service
from nubes.identity.sessions.tokens import hash_token
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User

log = structlog.get_logger("nubes.identity.federation")

FLOW_COOKIE = "nubes_federation"
FLOW_TTL = 600  # seconds from the button to the callback
HTTP_TIMEOUT = 10.0
MAX_ANSWER = 256 * 1024  # bytes of a discovery document, JWKS, or ticket answer
DISCOVERY_TTL = 300.0
# Asymmetric signatures only: `none` and HMAC (keyed with a secret the client knows) never sign an ID token here.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_SEAL_PURPOSE = "identity-provider-secret"
_FLOW_PURPOSE = "federation-flow"


class FederationRefused(Forbidden):
    """The external sign-in (or link) was refused; the reason is audited and shown."""

    code, title = "federation-refused", "Sign-in refused"


class ProviderUnavailable(NubesError):
    """The provider could not be reached or answered something unusable."""

    status, code, title = 502, "provider-unavailable", "Identity provider unavailable"


# --- providers (super-admins) ---------------------------------------------------------------------


async def list_providers(*, session: AsyncSession) -> list[IdentityProvider]:
    """Every provider, by name."""
    return list(await session.scalars(select(IdentityProvider).order_by(IdentityProvider.name)))


async def get_provider(*, session: AsyncSession, provider_id: uuid.UUID) -> IdentityProvider:
    """One provider, or 404."""
    provider = await session.get(IdentityProvider, provider_id)
    if provider is None:
        raise NotFound("No such sign-in provider.")
    return provider


async def _check_tenants(session: AsyncSession, tenant_ids: list[uuid.UUID]) -> list[str]:
    if tenant_ids:
        found = set(await session.scalars(select(Tenant.id).where(Tenant.id.in_(tenant_ids))))
        missing = [str(tenant_id) for tenant_id in tenant_ids if tenant_id not in found]
        if missing:
            raise UnprocessableEntity(f"No such tenant: {', '.join(missing)}.")
    return sorted({str(tenant_id) for tenant_id in tenant_ids})


def _check_kind(provider: IdentityProvider) -> None:
    if provider.kind == "oidc" and not provider.issuer:
        raise UnprocessableEntity("An OpenID Connect provider needs its issuer URL.")
    if provider.kind == "ticket" and not provider.ticket_url:
        raise UnprocessableEntity("A ticket provider needs the URL where tickets are exchanged (ticket_url).")


async def create_provider(
    *, session: AsyncSession, settings: Settings, principal: Principal, provider_in: ProviderCreate, origin: Origin
) -> IdentityProvider:
    """A new provider; its secret is sealed with the server secret."""
    if await session.scalar(select(IdentityProvider.id).where(IdentityProvider.slug == provider_in.slug)):
        raise Conflict(f"The slug {provider_in.slug!r} is taken; choose another.")
    values = provider_in.model_dump(exclude={"client_secret", "allowed_tenant_ids"})
    provider = IdentityProvider(**values, allowed_tenant_ids=await _check_tenants(session, provider_in.allowed_tenant_ids))
    provider.issuer = provider.issuer.rstrip("/")
    if provider_in.client_secret:
        provider.client_secret = seal(settings.secret_key, _SEAL_PURPOSE, provider_in.client_secret)
    _check_kind(provider)
    session.add(provider)
    await session.flush()
    await audit.record(
        session=session,
        action="identity_provider.create",
        origin=origin,
        principal=principal,
        target_type="identity_provider",
        target_id=provider.id,
        detail={"slug": provider.slug, "kind": provider.kind},
    )
    return provider


async def update_provider(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    provider_id: uuid.UUID,
    provider_in: ProviderUpdate,
    origin: Origin,
) -> IdentityProvider:
    """Change a provider; a new secret replaces the old one (an empty one removes it)."""
    provider = await get_provider(session=session, provider_id=provider_id)
    changes = provider_in.model_dump(exclude_unset=True)
    secret = changes.pop("client_secret", None)
    tenant_ids = changes.pop("allowed_tenant_ids", None)
    for name, value in changes.items():
        if value is not None:
            setattr(provider, name, value)
    provider.issuer = provider.issuer.rstrip("/")
    if tenant_ids is not None:
        provider.allowed_tenant_ids = await _check_tenants(session, tenant_ids)
    if secret is not None:
        provider.client_secret = seal(settings.secret_key, _SEAL_PURPOSE, secret) if secret else ""
    _check_kind(provider)
    await session.flush()
    await audit.record(
        session=session,
        action="identity_provider.update",
        origin=origin,
        principal=principal,
        target_type="identity_provider",
        target_id=provider.id,
        detail={"fields": sorted([*changes, *(["client_secret"] if secret is not None else [])])},
    )
    return provider


async def delete_provider(*, session: AsyncSession, principal: Principal, provider_id: uuid.UUID, origin: Origin) -> None:
    """Remove a provider and every link to it (those users sign in with their other ways)."""
    provider = await get_provider(session=session, provider_id=provider_id)
    await audit.record(
        session=session,
        action="identity_provider.delete",
        origin=origin,
        principal=principal,
        target_type="identity_provider",
        target_id=provider.id,
        detail={"slug": provider.slug},
    )
    await session.execute(delete(FederatedIdentity).where(FederatedIdentity.provider_id == provider.id))
    await session.delete(provider)
    await session.flush()


async def enabled_providers(*, session: AsyncSession) -> list[IdentityProvider]:
    """The providers the sign-in page offers."""
    return list(
        await session.scalars(select(IdentityProvider).where(IdentityProvider.enabled.is_(True)).order_by(IdentityProvider.name))
    )


async def provider_for_flow(*, session: AsyncSession, slug: str, kind: str) -> IdentityProvider:
    """The enabled provider of this kind a sign-in goes through, or 404."""
    provider = await session.scalar(select(IdentityProvider).where(IdentityProvider.slug == slug))
    if provider is None or not provider.enabled or provider.kind != kind:
        raise NotFound("No such sign-in provider, or it is turned off; sign in another way.")
    return provider


def redirect_uri(settings: Settings, base_url: str, slug: str) -> str:
    """The callback address this server gives the provider (register it there)."""
    return f"{settings.public_url or base_url.rstrip('/')}/api/auth/providers/{slug}/callback"


# --- outbound HTTP ---------------------------------------------------------------------------------


def _client(**kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=HTTP_TIMEOUT, **kwargs)


_JSON = {"Accept": "application/json"}


async def _read_json(answer: httpx.Response, what: str, *, any_status: bool = False) -> dict[str, Any]:
    data = bytearray()
    async for chunk in answer.aiter_bytes():
        data += chunk
        if len(data) > MAX_ANSWER:
            raise ProviderUnavailable(f"The {what} is larger than {MAX_ANSWER // 1024} KiB.")
    if not any_status and not 200 <= answer.status_code < 300:
        raise ProviderUnavailable(f"The {what} could not be read (HTTP {answer.status_code}).")
    try:
        document = json.loads(bytes(data))
    except ValueError:
        raise ProviderUnavailable(f"The {what} is not JSON.") from None
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"The {what} is not a JSON object.")
    return document


async def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        async with _client() as client, client.stream("GET", url, headers={"Accept": "application/json"}) as answer:
            return await _read_json(answer, what)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # InvalidURL: a name IDNA refuses, for one
        raise ProviderUnavailable(f"The {what} could not be fetched: {type(exc).__name__}.") from None


@dataclass(frozen=True, slots=True)
class Endpoints:
    """What an issuer's discovery document says."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    token_auth_methods: tuple[str, ...] = ()


_discovered: dict[str, tuple[float, Endpoints]] = {}
_jwks: dict[str, tuple[float, dict[str, Any]]] = {}


async def discover(issuer: str, *, fresh: bool = False) -> Endpoints:
    """The issuer's endpoints from its discovery document (cached a few minutes); its `issuer` must be the same."""
    issuer = issuer.rstrip("/")
    cached = _discovered.get(issuer)
    if cached and not fresh and cached[0] > time.monotonic():
        return cached[1]
    document = await _get_json(f"{issuer}/.well-known/openid-configuration", "discovery document")
    if document.get("issuer") != issuer:
        raise ProviderUnavailable(f"The discovery document names another issuer ({str(document.get('issuer'))[:200]!r}).")
    try:
        endpoints = Endpoints(
            issuer=issuer,
            authorization_endpoint=_url(document["authorization_endpoint"]),
            token_endpoint=_url(document["token_endpoint"]),
            jwks_uri=_url(document["jwks_uri"]),
            userinfo_endpoint=_url(document["userinfo_endpoint"]) if document.get("userinfo_endpoint") else "",
            token_auth_methods=tuple(str(m) for m in document.get("token_endpoint_auth_methods_supported") or ()),
        )
    except (KeyError, ValueError) as exc:
        raise ProviderUnavailable(f"The discovery document lacks a usable {exc}.") from None
    _discovered[issuer] = (time.monotonic() + DISCOVERY_TTL, endpoints)
    return endpoints


def _url(value: object) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s]+$", value) or len(value) > 1000:
        raise ValueError("endpoint URL")
    return value


async def test_discovery(*, issuer: str) -> DiscoveryRead:
    """Fetch an issuer's discovery document now: its endpoints, or why it failed."""
    try:
        found = await discover(issuer, fresh=True)
    except ProviderUnavailable as exc:
        return DiscoveryRead(ok=False, issuer=issuer, error=exc.detail or exc.title)
    return DiscoveryRead(
        ok=True,
        issuer=found.issuer,
        authorization_endpoint=found.authorization_endpoint,
        token_endpoint=found.token_endpoint,
        userinfo_endpoint=found.userinfo_endpoint,
        jwks_uri=found.jwks_uri,
    )


async def _key_set(jwks_uri: str, *, fresh: bool) -> KeySet:
    cached = _jwks.get(jwks_uri)
    if cached is None or fresh or cached[0] <= time.monotonic():
        cached = (time.monotonic() + DISCOVERY_TTL, await _get_json(jwks_uri, "key set (JWKS)"))
        _jwks[jwks_uri] = cached
    try:
        return KeySet.import_key_set(cached[1])  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        raise ProviderUnavailable("The provider's key set (JWKS) cannot be read.") from None


# --- the flow: button → provider → callback ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flow:
    """One sign-in or link in progress, sealed into a short-lived httpOnly cookie of the browser that started it."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    next: str
    expires: int
    intent: Literal["sign-in", "link"] = "sign-in"
    session_id: str = ""  # link: the session that asked, and only it may finish


def safe_next(value: str | None) -> str:
    """A path on this server to land on; anything else (another site, a scheme, `//host`) becomes `/`."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 500:
        return "/"
    if any(ord(char) < 0x20 or char == "\\" for char in value):
        return "/"
    return value


def seal_flow(settings: Settings, flow: Flow) -> str:
    """The cookie value of a flow (encrypted and authenticated with the server secret)."""
    return seal(settings.secret_key, _FLOW_PURPOSE, json.dumps(asdict(flow)))


def open_flow(settings: Settings, value: str) -> Flow | None:
    """The flow of a cookie, or None when it is missing, forged or expired."""
    if not value or len(value) > 4000:
        return None
    try:
        flow = Flow(**json.loads(unseal(settings.secret_key, _FLOW_PURPOSE, value)))
    except (SealError, ValueError, TypeError):
        return None
    return flow if flow.expires > time.time() else None


async def start(
    *,
    session: AsyncSession,
    settings: Settings,
    base_url: str,
    slug: str,
    next_path: str | None,
    principal: Principal | None = None,
) -> tuple[str, Flow]:
    """The provider's authorize URL (state, nonce, PKCE S256) and the flow to keep in the browser's cookie."""
    provider = await provider_for_flow(session=session, slug=slug, kind="oidc")
    if principal is not None and not _tenant_allowed(provider, principal.tenant_id):
        raise NotFound("No such sign-in provider for your organization.")
    endpoints = await discover(provider.issuer)
    flow = Flow(
        provider=provider.slug,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(48),
        next=safe_next(next_path),
        expires=int(time.time()) + FLOW_TTL,
        intent="link" if principal else "sign-in",
        session_id=str(principal.session_id) if principal and principal.session_id else "",
    )
    url = add_params_to_uri(
        endpoints.authorization_endpoint,
        [
            ("response_type", "code"),
            ("client_id", provider.client_id),
            ("redirect_uri", redirect_uri(settings, base_url, provider.slug)),
            ("scope", provider.scopes),
            ("state", flow.state),
            ("nonce", flow.nonce),
            ("code_challenge", create_s256_code_challenge(flow.code_verifier)),
            ("code_challenge_method", "S256"),
        ],
    )
    return url, flow


@dataclass(frozen=True, slots=True)
class Claims:
    """What the provider says about the person, mapped through the provider's claim names."""

    subject: str
    username: str = ""
    email: str = ""
    email_verified: bool = False
    name: str = ""
    groups: tuple[str, ...] = ()
    tenant: str = ""
    raw_keys: tuple[str, ...] = field(default=())


def map_claims(provider: IdentityProvider, values: dict[str, Any]) -> Claims:
    """The claims Nubes uses, read with the provider's mapping; bounded and typed whatever the provider sent."""

    def text(name: str, limit: int) -> str:
        value = values.get(name) if name else None
        return value[:limit] if isinstance(value, str) else ""

    subject = values.get("sub", values.get("subject"))
    if isinstance(subject, int):
        subject = str(subject)
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise FederationRefused("The provider did not say who you are (no usable subject); try again or ask an admin.")
    groups = values.get(provider.groups_claim) if provider.groups_claim else None
    names = tuple(g[:100] for g in groups[:200] if isinstance(g, str) and g) if isinstance(groups, list) else ()
    return Claims(
        subject=subject,
        username=text(provider.username_claim, 150),
        email=text(provider.email_claim, 320).strip().lower(),
        email_verified=values.get("email_verified") is True,
        name=text(provider.name_claim, 200),
        groups=names,
        tenant=text(provider.tenant_claim, 63),
        raw_keys=tuple(sorted(values))[:50],
    )


async def spend(session: AsyncSession, secret: str, what: str) -> None:
    """Mark a state or ticket used; the second use of the same one is refused (replay)."""
    now = utcnow()
    await session.execute(delete(SpentFederationToken).where(SpentFederationToken.expires_at < now))
    try:
        async with session.begin_nested():
            session.add(SpentFederationToken(token_hash=hash_token(f"{what}:{secret}"), expires_at=now + timedelta(days=1)))
    except IntegrityError:
        raise FederationRefused(f"This {what} was already used; start signing in again.", keep_changes=True) from None


async def refuse(
    *,
    session: AsyncSession,
    provider: IdentityProvider | None,
    origin: Origin,
    reason: str,
    message: str,
    user: User | None = None,
    subject: str = "",
) -> FederationRefused:
    """Audit a refused external sign-in or link; the error to raise."""
    await audit.record(
        session=session,
        action="auth.federation",
        origin=origin,
        tenant_id=user.tenant_id if user else None,
        actor_id=user.id if user else None,
        actor_name=user.username if user else subject[:150],
        outcome="denied",
        target_type="identity_provider",
        target_id=provider.id if provider else "",
        detail={"reason": reason, "provider": provider.slug if provider else ""},
    )
    return FederationRefused(message, keep_changes=True)


async def exchange_code(
    *, settings: Settings, provider: IdentityProvider, base_url: str, flow: Flow, code: str
) -> dict[str, Any]:
    """Trade the code (with the PKCE verifier) for tokens; the ID token checked (signature, iss, aud, exp, nonce)."""
    endpoints = await discover(provider.issuer)
    secret = unseal(settings.secret_key, _SEAL_PURPOSE, provider.client_secret) if provider.client_secret else ""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(settings, base_url, provider.slug),
        "code_verifier": flow.code_verifier,
        "client_id": provider.client_id,
    }
    auth: httpx.Auth | None = None
    if secret and (not endpoints.token_auth_methods or "client_secret_basic" in endpoints.token_auth_methods):
        auth = httpx.BasicAuth(quote(provider.client_id, safe=""), quote(secret, safe=""))  # RFC 6749 2.3.1
    elif secret:
        form["client_secret"] = secret
    try:
        async with _client() as client:
            async with client.stream("POST", endpoints.token_endpoint, data=form, headers=_JSON, auth=auth) as answer:
                if answer.status_code in {400, 401}:
                    problem = await _read_json(answer, "token answer", any_status=True)
                    reason = str(problem.get("error", answer.status_code))[:100]
                    raise FederationRefused(f"The provider refused the sign-in ({reason}); start again.")
                token = await _read_json(answer, "token answer")
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise FederationRefused("The provider sent no ID token; check that the scopes include openid.")
            claims = await verify_id_token(provider=provider, endpoints=endpoints, id_token=id_token, nonce=flow.nonce)
            access_token = token.get("access_token")
            if endpoints.userinfo_endpoint and isinstance(access_token, str):
                claims = await _with_userinfo(client, endpoints.userinfo_endpoint, access_token, claims)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise ProviderUnavailable(f"The provider's token endpoint failed: {type(exc).__name__}.") from None
    return claims


async def _with_userinfo(client: httpx.AsyncClient, url: str, access_token: str, claims: dict[str, Any]) -> dict[str, Any]:
    """The ID token's claims completed by userinfo (groups often live there); the ID token alone when it fails."""
    headers = {**_JSON, "Authorization": f"Bearer {access_token}"}
    try:
        async with client.stream("GET", url, headers=headers) as answer:
            info = await _read_json(answer, "userinfo answer")
    except ProviderUnavailable as exc:
        log.info("federation.userinfo_skipped", reason=exc.detail)
        return claims
    if info.get("sub") != claims.get("sub"):
        return claims
    return {**info, **claims}  # the signed ID token wins where both speak


async def _decode(jwks_uri: str, id_token: str, *, fresh: bool) -> jwt.Token:
    return jwt.decode(id_token, await _key_set(jwks_uri, fresh=fresh), algorithms=ID_TOKEN_ALGORITHMS)


async def verify_id_token(*, provider: IdentityProvider, endpoints: Endpoints, id_token: str, nonce: str) -> dict[str, Any]:
    """The claims of an ID token whose signature (the issuer's JWKS), iss, aud, exp and nonce are right; else refused."""
    try:
        decoded = await _decode(endpoints.jwks_uri, id_token, fresh=False)
    except (JoseError, ValueError):
        # A key the cached set lacks: the provider may have rotated its keys; fetch them once more.
        try:
            decoded = await _decode(endpoints.jwks_uri, id_token, fresh=True)
        except (JoseError, ValueError) as exc:
            log.info("federation.id_token_refused", provider=provider.slug, reason=type(exc).__name__)
            raise FederationRefused("The provider's ID token did not verify (signature); start again.") from None
    registry = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": endpoints.issuer},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(decoded.claims)
    except JoseError as exc:
        raise FederationRefused(f"The provider's ID token was refused ({exc.description or exc.error}); start again.") from None
    return dict(decoded.claims)


async def exchange_ticket(*, settings: Settings, provider: IdentityProvider, ticket: str) -> dict[str, Any]:
    """A partner's ticket traded server-to-server (client id and secret, timeout, size cap) for the person's claims."""
    secret = unseal(settings.secret_key, _SEAL_PURPOSE, provider.client_secret) if provider.client_secret else ""
    try:
        async with (
            _client(auth=httpx.BasicAuth(provider.client_id, secret)) as client,
            client.stream("POST", provider.ticket_url, json={"ticket": ticket}, headers={"Accept": "application/json"}) as answer,
        ):
            if answer.status_code in {400, 401, 403, 404, 409, 410}:
                raise FederationRefused("The partner did not accept this ticket (used, expired or forged); start again there.")
            return await _read_json(answer, "ticket answer")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise ProviderUnavailable(f"The partner could not be reached: {type(exc).__name__}.") from None


async def _me(session: AsyncSession, principal: Principal) -> User:
    user = await session.get(User, principal.user_id)
    if user is None:
        raise NotFound("Your account is gone; sign in again.")
    return user


# --- after the provider vouched: find, link or provision, then sign in -----------------------------


def _tenant_allowed(provider: IdentityProvider, tenant_id: uuid.UUID) -> bool:
    return str(tenant_id) in provider.allowed_tenant_ids


async def find_link(*, session: AsyncSession, provider: IdentityProvider, subject: str) -> FederatedIdentity | None:
    """The account link of this provider's subject, if any."""
    return await session.scalar(
        select(FederatedIdentity).where(FederatedIdentity.provider_id == provider.id, FederatedIdentity.subject == subject)
    )


async def sign_in(
    *, session: AsyncSession, settings: Settings, provider: IdentityProvider, claims: Claims, origin: Origin
) -> User:
    """The user the provider's subject is linked to (or, with JIT provisioning, a new one), checked and synced."""
    link = await find_link(session=session, provider=provider, subject=claims.subject)
    user = await session.get(User, link.user_id) if link else None
    if user is None:
        user, link = await _provision(session, settings, provider, claims, origin)
    elif not _tenant_allowed(provider, user.tenant_id):
        raise await refuse(
            session=session,
            provider=provider,
            origin=origin,
            reason="tenant_not_allowed",
            message=f"{provider.name} may not sign in to your organization; sign in with your password.",
            user=user,
        )
    await sessions_service.check_can_sign_in(session=session, user=user, origin=origin)
    if link is None:
        raise NotFound("The account link is gone; sign in again.")
    link.last_login_at = utcnow()
    if provider.group_sync:
        await _sync_groups(session, user, link, claims.groups)
    await audit.record(
        session=session,
        action="auth.federation.login",
        origin=origin,
        tenant_id=user.tenant_id,
        actor_id=user.id,
        actor_name=user.username,
        target_type="identity_provider",
        target_id=provider.id,
        detail={"provider": provider.slug},
    )
    return user


async def _provision_tenant(session: AsyncSession, provider: IdentityProvider, claims: Claims, origin: Origin) -> Tenant:
    """The tenant a new account goes to: the only allowed one, or the one the tenant claim names (if allowed)."""
    tenant: Tenant | None = None
    if len(provider.allowed_tenant_ids) == 1:
        tenant = await session.get(Tenant, uuid.UUID(provider.allowed_tenant_ids[0]))
    elif claims.tenant:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == claims.tenant.lower()))
        if tenant is not None and not _tenant_allowed(provider, tenant.id):
            tenant = None
    if tenant is None or tenant.status != "active":
        raise await refuse(
            session=session,
            provider=provider,
            origin=origin,
            reason="tenant_not_allowed",
            subject=claims.subject,
            message=f"{provider.name} may not make accounts in that organization; ask an admin.",
        )
    return tenant


def _username_base(claims: Claims) -> str:
    wanted = (claims.username or claims.email.split("@")[0]).lower()
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", wanted).strip("-._")[:55]
    if not re.match(USERNAME_PATTERN, cleaned):
        cleaned = "user-" + hash_token(claims.subject)[:10]
    return cleaned


async def _provision(
    session: AsyncSession, settings: Settings, provider: IdentityProvider, claims: Claims, origin: Origin
) -> tuple[User, FederatedIdentity]:
    if not provider.jit_provisioning:
        raise await refuse(
            session=session,
            provider=provider,
            origin=origin,
            reason="not_linked",
            subject=claims.subject,
            message=f"No Nubes account is linked to this {provider.name} account. Sign in with your password, then "
            f"link {provider.name} on your account page.",
        )
    tenant = await _provision_tenant(session, provider, claims, origin)
    base = _username_base(claims)
    username = ""
    for attempt in range(1, 6):
        candidate = base if attempt == 1 else f"{base}-{attempt}"
        if not await session.scalar(select(User.id).where(User.username == candidate)):
            username = candidate
            break
    if not username:
        raise await refuse(
            session=session,
            provider=provider,
            origin=origin,
            reason="username_taken",
            subject=claims.subject,
            message=f"The username {base!r} is taken; ask an admin to make your account.",
        )
    # An address another account holds stays with that account: the new one gets none (never a link by e-mail).
    email: str | None = claims.email or None
    if email and (len(email) > 320 or "@" not in email or await session.scalar(select(User.id).where(User.email == email))):
        email = None
    roles = await roles_by_name(session, tenant.id, [provider.jit_role])
    now = utcnow()
    user = User(
        tenant_id=tenant.id,
        username=username,
        email=email,
        display_name=claims.name,
        password_hash="",  # no password: this account signs in through its provider (or a passkey added later)
        email_verified_at=now if email and claims.email_verified else None,
    )
    session.add(user)
    await session.flush()
    session.add_all(UserRole(user_id=user.id, role_id=role.id) for role in roles)
    link = FederatedIdentity(tenant_id=tenant.id, user_id=user.id, provider_id=provider.id, subject=claims.subject)
    session.add(link)
    await session.flush()
    await bump_roles_version(session=session, tenant_id=tenant.id)
    await audit.record(
        session=session,
        action="user.create",
        origin=origin,
        tenant_id=tenant.id,
        actor_name=f"{provider.slug} (just-in-time)",
        target_type="user",
        target_id=user.id,
        detail={"username": username, "provider": provider.slug, "roles": [role.name for role in roles]},
    )
    return user, link


async def _sync_groups(session: AsyncSession, user: User, link: FederatedIdentity, names: tuple[str, ...]) -> None:
    """Membership of the tenant's existing groups the claim names; groups are never created from a claim."""
    wanted = (
        set(await session.scalars(select(Group.id).where(Group.tenant_id == user.tenant_id, Group.name.in_(names))))
        if names
        else set()
    )
    current = set(await session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user.id)))
    previously = {uuid.UUID(value) for value in link.synced_group_ids}
    to_add = wanted - current
    to_remove = (previously - wanted) & current
    if to_add or to_remove:
        owners = await owner_ids(session, user.tenant_id)
        session.add_all(GroupMember(group_id=group_id, user_id=user.id) for group_id in to_add)
        if to_remove:
            await session.execute(delete(GroupMember).where(GroupMember.user_id == user.id, GroupMember.group_id.in_(to_remove)))
        await keep_an_owner(session, user.tenant_id, owners)
        await bump_roles_version(session=session, tenant_id=user.tenant_id)
    link.synced_group_ids = sorted(str(group_id) for group_id in (previously | to_add) - to_remove if group_id in wanted)


async def link(
    *, session: AsyncSession, principal: Principal, provider: IdentityProvider, claims: Claims, origin: Origin
) -> FederatedIdentity:
    """Link the provider's subject to the signed-in user; a subject linked to someone else stays theirs."""
    user = await _me(session, principal)
    existing = await find_link(session=session, provider=provider, subject=claims.subject)
    if existing is not None and existing.user_id != user.id:
        raise await refuse(
            session=session,
            provider=provider,
            origin=origin,
            reason="linked_to_another_account",
            user=user,
            message=f"This {provider.name} account is already linked to another Nubes account.",
        )
    if existing is not None:
        return existing
    if not _tenant_allowed(provider, user.tenant_id):
        raise await refuse(
            session=session,
            provider=provider,
            origin=origin,
            reason="tenant_not_allowed",
            user=user,
            message=f"{provider.name} is not available for your organization.",
        )
    mine = await session.scalar(
        select(FederatedIdentity).where(FederatedIdentity.provider_id == provider.id, FederatedIdentity.user_id == user.id)
    )
    if mine is not None:
        raise await refuse(
            session=session,
            provider=provider,
            origin=origin,
            reason="already_linked",
            user=user,
            message=f"Your account is linked to another {provider.name} account; unlink it first.",
        )
    created = FederatedIdentity(tenant_id=user.tenant_id, user_id=user.id, provider_id=provider.id, subject=claims.subject)
    session.add(created)
    await session.flush()
    await audit.record(
        session=session,
        action="auth.federation.link",
        origin=origin,
        principal=principal,
        target_type="identity_provider",
        target_id=provider.id,
        detail={"provider": provider.slug},
    )
    return created


async def list_links(*, session: AsyncSession, principal: Principal) -> list[tuple[IdentityProvider, FederatedIdentity | None]]:
    """The providers of the principal's tenant (enabled), and those the account is linked to, with the link."""
    links = {
        row.provider_id: row
        for row in await session.scalars(select(FederatedIdentity).where(FederatedIdentity.user_id == principal.user_id))
    }
    found = []
    for provider in await list_providers(session=session):
        mine = links.get(provider.id)
        offered = provider.enabled and provider.kind == "oidc" and _tenant_allowed(provider, principal.tenant_id)
        if mine is not None or offered:
            found.append((provider, mine))
    return found


async def unlink(*, session: AsyncSession, principal: Principal, slug: str, origin: Origin) -> None:
    """Remove the account's link to a provider, unless it is the last way to sign in (no password, passkey or link)."""
    row = await session.scalar(
        select(FederatedIdentity)
        .join(IdentityProvider, IdentityProvider.id == FederatedIdentity.provider_id)
        .where(FederatedIdentity.user_id == principal.user_id, IdentityProvider.slug == slug)
    )
    if row is None:
        raise NotFound("Your account is not linked to that provider.")
    user = await _me(session, principal)
    others = await session.scalar(
        select(FederatedIdentity.id).where(FederatedIdentity.user_id == user.id, FederatedIdentity.id != row.id).limit(1)
    )
    passkey = await session.scalar(select(Passkey.id).where(Passkey.user_id == user.id).limit(1))
    if not user.password_hash and others is None and passkey is None:
        raise Conflict("This is your only way to sign in: add a passkey or link another provider first.")
    await session.delete(row)
    await session.flush()
    await audit.record(
        session=session,
        action="auth.federation.unlink",
        origin=origin,
        principal=principal,
        target_type="identity_provider",
        target_id=row.provider_id,
        detail={"provider": slug},
    )


def error_location(page: str, message: str) -> str:
    """Where a refused external sign-in lands: `page`, the reason in the fragment (never sent to servers)."""
    return f"{page}#federation_error=" + quote(message[:300], safe="")
