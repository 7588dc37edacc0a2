/** Nextcloud clients' sign-in requests (Login Flow v2): what the grant page reads and answers. */
import { api, unwrap } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type LoginFlow = Schemas["LoginFlowRead"];
export type LoginFlowAnswered = Schemas["LoginFlowAnswered"];

/** The waiting request the login URL names (a 404 once it is answered or expired). */
export function getLoginFlow(loginToken: string, signal?: AbortSignal): Promise<LoginFlow> {
  return unwrap(api.GET("/api/files/nextcloud/login-flows/{login_token}", { params: { path: { login_token: loginToken } }, signal }));
}

/** Make an app password for the client (it collects it once); may ask to confirm it's you first. */
export function grantLoginFlow(loginToken: string): Promise<LoginFlowAnswered> {
  return unwrap(api.POST("/api/files/nextcloud/login-flows/{login_token}/grant", { params: { path: { login_token: loginToken } } }));
}

export function denyLoginFlow(loginToken: string): Promise<LoginFlowAnswered> {
  return unwrap(api.POST("/api/files/nextcloud/login-flows/{login_token}/deny", { params: { path: { login_token: loginToken } } }));
}
