/**
 * Query keys of all server state the UI caches, one object per domain. Every key of a domain starts with the
 * domain's name, and a key that names one object starts with the key of its list, so invalidating a prefix
 * (`identityKeys.all`, `filesKeys.all`, `containerKeys.nodes`) refreshes everything below it.
 */

/** Identity and access: users, roles, groups, tenants, the audit log, registration, and the signed-in user's own credentials. */
export const identityKeys = {
  all: ["identity"] as const,
  users: ["identity", "users"] as const,
  userPage: (query: { q?: string; limit: number; offset: number }) => ["identity", "users", query] as const,
  roles: ["identity", "roles"] as const,
  permissions: ["identity", "permissions"] as const,
  groups: ["identity", "groups"] as const,
  groupMembers: (groupId: string) => ["identity", "groups", groupId, "members"] as const,
  tenants: ["identity", "tenants"] as const,
  audit: ["identity", "audit"] as const,
  auditPage: (query: object) => ["identity", "audit", query] as const,
  registration: ["identity", "registration"] as const,
  authOptions: ["identity", "auth-options"] as const,
  /** The signed-in user's own sessions, tokens, passkeys and two-factor state (the account page). */
  sessions: ["identity", "me", "sessions"] as const,
  tokens: ["identity", "me", "tokens"] as const,
  appPasswords: ["identity", "me", "app-passwords"] as const,
  passkeys: ["identity", "me", "passkeys"] as const,
  totp: ["identity", "me", "totp"] as const,
};

/** Files and sharing: listings (a folder, recent, favorites, search), trash, quota, versions, shares, links, settings. */
export const filesKeys = {
  all: ["files"] as const,
  listings: ["files", "listing"] as const,
  listing: (view: string, folderId: string | null, query: string) => ["files", "listing", view, folderId, query] as const,
  trash: ["files", "trash"] as const,
  quota: ["files", "quota"] as const,
  versions: (fileId: string) => ["files", "versions", fileId] as const,
  shares: (nodeId: string) => ["files", "shares", nodeId] as const,
  sharedWithMe: ["files", "shared-with-me"] as const,
  directory: (q: string) => ["files", "directory", q] as const,
  links: (nodeId: string) => ["files", "links", nodeId] as const,
  linkPolicy: ["files", "link-policy"] as const,
  adminLinkPolicy: ["files", "admin", "link-policy"] as const,
  settings: (tenantId: string) => ["files", "admin", "settings", tenantId] as const,
  /** What a public link shows (no sign-in; its own prefix, outside the signed-in user's files). */
  publicLink: (token: string, folderId: string | null) => ["public-link", token, folderId] as const,
};

/**
 * Documents: list pages (one key per query), each document (with its text and history below it), and the
 * vocabularies (types, correspondents, tags, categories, each with counts of your documents).
 */
export const documentsKeys = {
  all: ["documents"] as const,
  lists: ["documents", "list"] as const,
  list: (query: object) => ["documents", "list", query] as const,
  document: (id: string) => ["documents", "document", id] as const,
  /** The text as of one extraction (a new one is a new key, so a finished reading loads its text). */
  text: (id: string, extraction: string) => ["documents", "document", id, "text", extraction] as const,
  history: (id: string) => ["documents", "document", id, "history"] as const,
  /** The suggestions (each extraction's under its own key below, like the text). */
  suggestions: (id: string) => ["documents", "document", id, "suggestions"] as const,
  /** Full-text search (under documents: a change to any document may change what it finds). */
  search: (q: string) => ["documents", "search", q] as const,
  settings: ["documents", "settings"] as const,
  vocabularies: ["documents", "vocabulary"] as const,
  terms: (kind: string) => ["documents", "vocabulary", kind] as const,
  tags: ["documents", "vocabulary", "tags"] as const,
  categories: ["documents", "vocabulary", "categories"] as const,
};

/** The container platform: clusters, nodes (+ allocations), eggs and categories, containers (+ jobs, files). */
export const containerKeys = {
  all: ["containers"] as const,
  clusters: ["containers", "clusters"] as const,
  nodes: ["containers", "nodes"] as const,
  node: (nodeId: string) => ["containers", "nodes", nodeId] as const,
  allocations: (nodeId: string) => ["containers", "nodes", nodeId, "allocations"] as const,
  eggs: ["containers", "eggs"] as const,
  eggCategories: ["containers", "egg-categories"] as const,
  instances: ["containers", "instances"] as const,
  instance: (containerId: string) => ["containers", "instances", containerId] as const,
  jobs: (containerId: string) => ["containers", "instances", containerId, "jobs"] as const,
  job: (jobId: string) => ["containers", "jobs", jobId] as const,
  files: (containerId: string, path: string) => ["containers", "instances", containerId, "files", path] as const,
};

/** The service registry: the apps the caller may open, registered services (+ health checks, settings, grants). */
export const appServiceKeys = {
  all: ["app-services"] as const,
  apps: ["app-services", "apps"] as const,
  services: ["app-services", "services"] as const,
  service: (serviceId: string) => ["app-services", "services", serviceId] as const,
  checks: (serviceId: string, hours: number) => ["app-services", "services", serviceId, "checks", hours] as const,
  settings: (serviceId: string) => ["app-services", "services", serviceId, "settings"] as const,
  permissions: (serviceId: string) => ["app-services", "services", serviceId, "permissions"] as const,
};

/** The Settings area: the overview of settings groups, the feature flags and each flag's tenant overrides. */
export const settingsKeys = {
  all: ["settings"] as const,
  overview: ["settings", "overview"] as const,
  flags: ["settings", "flags"] as const,
  overrides: (key: string) => ["settings", "flags", key, "tenants"] as const,
};
