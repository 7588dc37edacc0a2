/** The OAuth provider: admins' OAuth clients, the consent screen's pending authorizations, and the account's connected apps. */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap, unwrapEmpty } from "./client";
import { asApiError } from "./queryClient";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type OAuthClient = Schemas["ClientRead"];
export type OAuthClientCreated = Schemas["ClientCreated"];
export type OAuthClientCreate = Schemas["ClientCreate"];
export type OAuthClientUpdate = Schemas["ClientUpdate"];
export type PendingAuthorization = Schemas["AuthorizationRead"];
export type ConnectedApp = Schemas["ConnectedAppRead"];

export const oauthKeys = {
  clients: ["apps", "oauth", "clients"] as const,
  connected: ["identity", "me", "apps"] as const,
  request: (id: string) => ["apps", "oauth", "requests", id] as const,
};

/** The discovery document's address, for admins to paste into an app's settings. */
export function discoveryUrl(): string {
  return `${window.location.origin}/.well-known/openid-configuration`;
}

export function listOAuthClients(signal?: AbortSignal): Promise<OAuthClient[]> {
  return unwrap(api.GET("/api/oauth/clients", { signal }));
}

export function createOAuthClient(body: OAuthClientCreate): Promise<OAuthClientCreated> {
  return unwrap(api.POST("/api/oauth/clients", { body }));
}

export function updateOAuthClient(clientId: string, body: OAuthClientUpdate): Promise<OAuthClient> {
  return unwrap(api.PATCH("/api/oauth/clients/{oauth_client_id}", { params: { path: { oauth_client_id: clientId } }, body }));
}

export function rotateOAuthClientSecret(clientId: string): Promise<OAuthClientCreated> {
  return unwrap(api.POST("/api/oauth/clients/{oauth_client_id}/secret", { params: { path: { oauth_client_id: clientId } } }));
}

export function deleteOAuthClient(client: OAuthClient): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/oauth/clients/{oauth_client_id}", { params: { path: { oauth_client_id: client.id } } }));
}

export function getAuthorization(id: string, signal?: AbortSignal): Promise<PendingAuthorization> {
  return unwrap(api.GET("/api/oauth/requests/{authorization_id}", { params: { path: { authorization_id: id } }, signal }));
}

/** Allow or refuse: the answer says where the browser goes next (the app, with a code or with access_denied). */
export async function decideAuthorization(id: string, allow: boolean): Promise<string> {
  const path = { params: { path: { authorization_id: id } } };
  const decided = allow
    ? await unwrap(api.POST("/api/oauth/requests/{authorization_id}/approve", path))
    : await unwrap(api.POST("/api/oauth/requests/{authorization_id}/deny", path));
  return decided.redirect_to;
}

export function listConnectedApps(signal?: AbortSignal): Promise<ConnectedApp[]> {
  return unwrap(api.GET("/api/users/me/apps", { signal }));
}

export function disconnectApp(app: ConnectedApp): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/users/me/apps/{oauth_client_id}", { params: { path: { oauth_client_id: app.id } } }));
}

export function useOAuthClients() {
  return useQuery({ queryKey: oauthKeys.clients, queryFn: ({ signal }) => asApiError(listOAuthClients(signal)) });
}

export function useConnectedApps() {
  return useQuery({ queryKey: oauthKeys.connected, queryFn: ({ signal }) => asApiError(listConnectedApps(signal)) });
}

export function useAuthorization(id: string) {
  return useQuery({ queryKey: oauthKeys.request(id), queryFn: ({ signal }) => asApiError(getAuthorization(id, signal)), retry: false });
}
