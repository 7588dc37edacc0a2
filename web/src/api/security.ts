/**
 * Account security: what the sign-in page offers, sign-up and mailed links, the second sign-in step,
 * passkeys (WebAuthn in the browser, checked by the server), TOTP with recovery codes, and the
 * registration policy (super-admins).
 */
import { api, unwrap, unwrapEmpty } from "./client";
import { ApiError } from "./problem";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type AuthOptions = Schemas["AuthOptions"];
export type RegisterRequest = Schemas["RegisterRequest"];
export type TotpStatus = Schemas["TotpStatus"];
export type TotpEnrollment = Schemas["TotpEnrollmentRead"];
export type Passkey = Schemas["PasskeyRead"];
export type RegistrationSettings = Schemas["RegistrationSettings"];

const MFA_REQUIRED = "urn:nubes:problem:mfa-required";
const EMAIL_UNVERIFIED = "urn:nubes:problem:email-unverified";

// --- public: the sign-in page, sign-up, mailed links ----------------------------------------------

export function getAuthOptions(signal?: AbortSignal): Promise<AuthOptions> {
  return unwrap(api.GET("/api/auth/options", { signal }));
}

export async function register(account: RegisterRequest): Promise<void> {
  await unwrap(api.POST("/api/auth/register", { body: account }));
}

export function verifyEmail(token: string): Promise<void> {
  return unwrapEmpty(api.POST("/api/auth/verify-email", { body: { token } }));
}

/** Answers the same whether or not an account uses the address. */
export function requestVerificationEmail(email: string): Promise<void> {
  return unwrapEmpty(api.POST("/api/auth/verify-email/request", { body: { email } }));
}

/** Answers the same whether or not an account uses the address. */
export function requestPasswordReset(email: string): Promise<void> {
  return unwrapEmpty(api.POST("/api/auth/password-reset/request", { body: { email } }));
}

/** Every session of the account ends; the user signs in again with the new password. */
export function resetPassword(token: string, newPassword: string): Promise<void> {
  return unwrapEmpty(api.POST("/api/auth/password-reset", { body: { token, new_password: newPassword } }));
}

/** The token of a mailed link: `/verify-email#token=…` (a fragment never reaches a server log). */
export function tokenFromHash(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, "")).get("token");
  return token === null || token === "" ? null : token;
}

// --- the second sign-in step ------------------------------------------------------------------

export interface MfaChallenge {
  mfaToken: string;
  methods: string[];
}

/** When a refused sign-in only wants a second factor: the token for the next step, and what it accepts. */
export function mfaChallenge(error: ApiError): MfaChallenge | null {
  // The problem body carries extra members on this type; ApiError keeps the whole parsed body.
  const problem: Schemas["MfaRequiredProblem"] | null = error.problem;
  if (problem?.type !== MFA_REQUIRED || typeof problem.mfa_token !== "string") return null;
  return { mfaToken: problem.mfa_token, methods: problem.methods ?? ["totp"] };
}

/** The password was right but the address was never confirmed. */
export function isEmailUnverified(error: ApiError): boolean {
  return error.problem?.type === EMAIL_UNVERIFIED;
}

/** Finish signing in with a code; like sign-in, the tokens in the body are dropped (cookies hold them). */
export async function signInWithCode(mfaToken: string, code: string): Promise<void> {
  await unwrap(api.POST("/api/auth/login/mfa", { body: { mfa_token: mfaToken, code } }));
}

// --- passkeys in the browser ------------------------------------------------------------------

/** Whether this browser can use passkeys at all (and parse the server's JSON options). */
export function passkeysSupported(): boolean {
  return (
    typeof window.PublicKeyCredential === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function"
  );
}

/** What the browser said when the person cancelled or no passkey fits: a readable message, not a stack. */
function passkeyError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof DOMException) {
    if (error.name === "NotAllowedError" || error.name === "AbortError") {
      return new ApiError("unexpected", "No passkey was used: the request was cancelled or timed out. Try again, or sign in with your password.");
    }
    if (error.name === "InvalidStateError") return new ApiError("unexpected", "This device already holds a passkey for your account.");
    if (error.name === "SecurityError") return new ApiError("unexpected", "This address cannot use passkeys; open Nubes by its host name, not an IP address.");
    return new ApiError("unexpected", `The browser refused the passkey: ${error.message}`);
  }
  return new ApiError("unexpected", error instanceof Error ? error.message : "Something went wrong with the passkey.");
}

type CredentialJson = Record<string, unknown>;

function credentialJson(credential: Credential | null): CredentialJson {
  if (!(credential instanceof PublicKeyCredential)) throw new ApiError("unexpected", "The browser did not return a passkey.");
  return credential.toJSON() as CredentialJson;
}

/** Sign in with a passkey this device (or a phone, a security key) holds; no username needed. */
export async function signInWithPasskey(): Promise<void> {
  const { token, public_key } = await unwrap(api.POST("/api/auth/passkeys/options"));
  let credential: CredentialJson;
  try {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(public_key as unknown as PublicKeyCredentialRequestOptionsJSON);
    credential = credentialJson(await navigator.credentials.get({ publicKey }));
  } catch (error) {
    throw passkeyError(error);
  }
  await unwrap(api.POST("/api/auth/passkeys/login", { body: { token, credential } }));
}

/** Create a passkey for the signed-in user on this device and register it under `name`. */
export async function addPasskey(name: string): Promise<Passkey> {
  const { token, public_key } = await unwrap(api.POST("/api/users/me/passkeys/options"));
  let credential: CredentialJson;
  try {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(public_key as unknown as PublicKeyCredentialCreationOptionsJSON);
    credential = credentialJson(await navigator.credentials.create({ publicKey }));
  } catch (error) {
    throw passkeyError(error);
  }
  return unwrap(api.POST("/api/users/me/passkeys", { body: { token, name, credential } }));
}

export function listMyPasskeys(signal?: AbortSignal): Promise<Passkey[]> {
  return unwrap(api.GET("/api/users/me/passkeys", { signal }));
}

export function renamePasskey(passkeyId: string, name: string): Promise<Passkey> {
  return unwrap(api.PATCH("/api/users/me/passkeys/{passkey_id}", { params: { path: { passkey_id: passkeyId } }, body: { name } }));
}

export function removePasskey(passkeyId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/users/me/passkeys/{passkey_id}", { params: { path: { passkey_id: passkeyId } } }));
}

// --- sudo mode: confirm it's you before changing credentials ------------------------------------

/** Confirm it's you with your password; credential changes are then allowed for a few minutes. */
export async function confirmWithPassword(password: string): Promise<void> {
  await unwrap(api.POST("/api/auth/sudo", { body: { password } }));
}

/** Confirm it's you with one of your passkeys (the browser asks which). */
export async function confirmWithPasskey(): Promise<void> {
  const { token, public_key } = await unwrap(api.POST("/api/auth/sudo/passkey-options"));
  let credential: CredentialJson;
  try {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(public_key as unknown as PublicKeyCredentialRequestOptionsJSON);
    credential = credentialJson(await navigator.credentials.get({ publicKey }));
  } catch (error) {
    throw passkeyError(error);
  }
  await unwrap(api.POST("/api/auth/sudo", { body: { passkey: { token, credential } } }));
}

/** Confirm it's you with a code from your authenticator app (or a recovery code). */
export async function confirmWithCode(code: string): Promise<void> {
  await unwrap(api.POST("/api/auth/sudo", { body: { code } }));
}

// --- the signed-in user: email, TOTP, recovery codes ---------------------------------------------

export function sendMyVerificationEmail(): Promise<void> {
  return unwrapEmpty(api.POST("/api/users/me/email/verify"));
}

export function getMyTotp(signal?: AbortSignal): Promise<TotpStatus> {
  return unwrap(api.GET("/api/users/me/totp", { signal }));
}

/** A new secret to scan; two-factor sign-in is on only once a code from it is confirmed. */
export function beginTotp(): Promise<TotpEnrollment> {
  return unwrap(api.POST("/api/users/me/totp"));
}

/** Turns two-factor sign-in on and answers the recovery codes, shown this once. */
export async function confirmTotp(code: string): Promise<string[]> {
  return (await unwrap(api.POST("/api/users/me/totp/confirm", { body: { code } }))).codes;
}

export function disableTotp(password: string): Promise<void> {
  return unwrapEmpty(api.POST("/api/users/me/totp/disable", { body: { password } }));
}

/** New recovery codes; the old ones stop working. */
export async function regenerateRecoveryCodes(password: string): Promise<string[]> {
  return (await unwrap(api.POST("/api/users/me/recovery-codes", { body: { password } }))).codes;
}

// --- super-admins: the registration policy -------------------------------------------------------

export function getRegistrationSettings(signal?: AbortSignal): Promise<RegistrationSettings> {
  return unwrap(api.GET("/api/admin/settings/registration", { signal }));
}

export function updateRegistrationSettings(settings: RegistrationSettings): Promise<RegistrationSettings> {
  return unwrap(api.PUT("/api/admin/settings/registration", { body: settings }));
}
