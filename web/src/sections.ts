/**
 * The one table of the platform's sections: the sidebar, the overview cards and the routes are built from it.
 * Adding a section is one entry here; giving it a real page is setting `page` (see README.md).
 */
import type { ComponentType } from "react";

import {
  AppsIcon,
  ChartIcon,
  CodeIcon,
  ContainerIcon,
  DocumentIcon,
  FolderIcon,
  MailIcon,
  PulseIcon,
  ShieldIcon,
  type IconComponent,
} from "./components/icons";
import { AdminPage } from "./pages/admin/AdminPage";
import { AppsPage } from "./pages/apps/AppsPage";
import { DocumentsPage } from "./pages/documents/DocumentsPage";
import { DocumentsSummary } from "./pages/documents/DocumentsSummary";
import { FilesPage } from "./pages/files/FilesPage";
import { MonitoringPage } from "./pages/monitoring/MonitoringPage";
import { ContainersPage } from "./pages/containers/ContainersPage";
import { StatusPage } from "./pages/status/StatusPage";

export interface Section {
  /** Stable id; also the folder name under src/pages/ once the section has pages. */
  id: string;
  /** The name in the sidebar, on the card and as the page heading. */
  name: string;
  /** The route; the section owns everything below it (`/files/*`). */
  path: string;
  /** One sentence on what the section does (or will do, while it has no page). */
  description: string;
  icon: IconComponent;
  /** Sidebar group: the work people do, or looking after the platform. */
  group: "workspace" | "system";
  /** The page to render; without one the section shows its "Coming soon" state. */
  page?: ComponentType;
  /** A live line on the overview card (how many documents you have), rendered for signed-in users. */
  summary?: ComponentType;
  /** Viewable without signing in (everything else sends the visitor to /login first). */
  public?: true;
  /** Listed only for users holding a permission that starts with this (e.g. "admin."). */
  permissionPrefix?: string;
}

export const sections: readonly Section[] = [
  {
    id: "files",
    name: "Files",
    path: "/files",
    description: "Upload, organize and download your files, with versions, a trash, shares, public links and resumable uploads; sync them with WebDAV and the Nextcloud clients.",
    icon: FolderIcon,
    group: "workspace",
    page: FilesPage,
  },
  {
    id: "documents",
    name: "Documents",
    path: "/documents",
    description: "File documents with types, correspondents, tags and a category tree; their text is read, scans and photos by OCR, searched in full and used for explained suggestions.",
    icon: DocumentIcon,
    group: "workspace",
    page: DocumentsPage,
    summary: DocumentsSummary,
  },
  {
    id: "apps",
    name: "Apps",
    path: "/apps",
    description: "Open the apps that run beside Nubes, signed in with your Nubes account, and see whether each one is up.",
    icon: AppsIcon,
    group: "workspace",
    page: AppsPage,
  },
  {
    id: "containers",
    name: "Containers",
    path: "/containers",
    description: "Run servers from eggs across many nodes: a create wizard, power actions, a live console, stats, files, settings and jobs.",
    icon: ContainerIcon,
    group: "workspace",
    page: ContainersPage,
  },
  {
    id: "workspaces",
    name: "Workspaces",
    path: "/workspaces",
    description: "Open a browser IDE with a terminal, backed by the container platform; workspaces are on the way.",
    icon: CodeIcon,
    group: "workspace",
  },
  {
    id: "mail",
    name: "Mail",
    path: "/mail",
    description: "Read and send mail from your IMAP and SMTP accounts; inboxes, threads and compose are on the way.",
    icon: MailIcon,
    group: "workspace",
  },
  {
    id: "monitoring",
    name: "Monitoring",
    path: "/monitoring",
    description: "Watch the platform, its nodes and containers over time, storage against quotas, and alerts that tell you when something needs you.",
    icon: ChartIcon,
    group: "system",
    page: MonitoringPage,
    permissionPrefix: "ops.monitor",
  },
  {
    id: "admin",
    name: "Admin",
    path: "/admin",
    description: "Manage the tenant's users, roles and groups, settings and feature flags, read the audit log, and (super-admins) run tenants and backups.",
    icon: ShieldIcon,
    group: "system",
    page: AdminPage,
    permissionPrefix: "admin.",
  },
  {
    id: "status",
    name: "Status",
    path: "/status",
    description: "Server health, database readiness and the running version, checked every few seconds.",
    icon: PulseIcon,
    group: "system",
    page: StatusPage,
    public: true,
  },
];

/** Whether a user with these permission codes (null: nobody signed in) gets the section in their navigation. */
export function isListedFor(section: Section, permissions: readonly string[] | null): boolean {
  if (section.permissionPrefix === undefined) return true;
  const prefix = section.permissionPrefix;
  return permissions?.some((code) => code.startsWith(prefix)) ?? false;
}
