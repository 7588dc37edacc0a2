/** External sign-in providers: the sign-in page's buttons, the account's linked providers, and the super-admins' provider list. */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap, unwrapEmpty } from "./client";
import { asApiError } from "./queryClient";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type ProviderButton = Schemas["ProviderButton"];
export type IdentityProvider = Schemas["ProviderRead"];
export type IdentityProviderCreate = Schemas["ProviderCreate"];
export type IdentityProviderUpdate = Schemas["ProviderUpdate"];
export type Discovery = Schemas["DiscoveryRead"];
export type LinkedProvider = Schemas["LinkedProviderRead"];

export const federationKeys = {
  buttons: ["identity", "federation", "buttons"] as const,
  providers: ["identity", "federation", "providers"] as const,
  mine: ["identity", "me", "sign-in-providers"] as const,
};

/** Where a provider's button sends the browser (a full page load: the provider's sign-in page comes next). */
export function providerStartUrl(slug: string, next: string): string {
  return `/api/auth/providers/${encodeURIComponent(slug)}/start?next=${encodeURIComponent(next)}`;
}

export function listProviderButtons(signal?: AbortSignal): Promise<ProviderButton[]> {
  return unwrap(api.GET("/api/auth/providers", { signal }));
}

export function listMyProviders(signal?: AbortSignal): Promise<LinkedProvider[]> {
  return unwrap(api.GET("/api/users/me/sign-in-providers", { signal }));
}

/** Start linking: the answer says where to send the browser; the provider's answer links this session's account. */
export async function startLink(slug: string): Promise<string> {
  const started = await unwrap(
    api.POST("/api/users/me/sign-in-providers/{provider_slug}/link", { params: { path: { provider_slug: slug } }, body: { next: "/account" } }),
  );
  return started.authorize_url;
}

export function unlinkProvider(slug: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/users/me/sign-in-providers/{provider_slug}", { params: { path: { provider_slug: slug } } }));
}

export function listIdentityProviders(signal?: AbortSignal): Promise<IdentityProvider[]> {
  return unwrap(api.GET("/api/admin/identity-providers", { signal }));
}

export function createIdentityProvider(body: IdentityProviderCreate): Promise<IdentityProvider> {
  return unwrap(api.POST("/api/admin/identity-providers", { body }));
}

export function updateIdentityProvider(providerId: string, body: IdentityProviderUpdate): Promise<IdentityProvider> {
  return unwrap(api.PATCH("/api/admin/identity-providers/{provider_id}", { params: { path: { provider_id: providerId } }, body }));
}

export function deleteIdentityProvider(provider: IdentityProvider): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/admin/identity-providers/{provider_id}", { params: { path: { provider_id: provider.id } } }));
}

export function testDiscovery(issuer: string): Promise<Discovery> {
  return unwrap(api.POST("/api/admin/identity-provider-discovery", { body: { issuer } }));
}

export function useProviderButtons() {
  return useQuery({ queryKey: federationKeys.buttons, queryFn: ({ signal }) => asApiError(listProviderButtons(signal)) });
}

export function useMyProviders() {
  return useQuery({ queryKey: federationKeys.mine, queryFn: ({ signal }) => asApiError(listMyProviders(signal)) });
}

export function useIdentityProviders() {
  return useQuery({ queryKey: federationKeys.providers, queryFn: ({ signal }) => asApiError(listIdentityProviders(signal)) });
}

export interface FederationFragment {
  error: string | null;
  mfaToken: string | null;
  next: string | null;
}

/** What the page's fragment carries back from a provider: a refusal to show, or the second sign-in step to finish. */
export function readFederationFragment(): FederationFragment {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  return { error: fragment.get("federation_error"), mfaToken: fragment.get("mfa_token"), next: fragment.get("next") };
}

/** Drop the fragment once read: a reload or a copied address must not carry the token or the message again. */
export function clearFederationFragment(found: FederationFragment): void {
  if (found.error !== null || found.mfaToken !== null) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
}
