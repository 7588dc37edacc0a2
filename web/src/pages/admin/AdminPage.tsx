/** /admin/*: the admin console — an index, Users, Roles, Groups, the Audit log, the public link policy, Files settings, the apps' Services and (super-admins) Tenants, Registration and the container platform's Nodes, Clusters and Eggs — for users holding an admin.* permission. */
import type { ReactNode } from "react";
import { Link, NavLink, Route, Routes } from "react-router";

import { can, canAny, useMe } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { EmptyState } from "../../components/EmptyState";
import { ShieldIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { NotFoundPage } from "../NotFoundPage";
import { AdminIndexPage } from "./AdminIndexPage";
import { AuditLogPage } from "../identity/admin/AuditLogPage";
import { BackupsPage } from "./backups/BackupsPage";
import { SettingsPage } from "./settings/SettingsPage";
import { ClustersPage } from "../containers/admin/ClustersPage";
import { EggsPage } from "../containers/admin/EggsPage";
import { FilesSettingsPage } from "../files/admin/FilesSettingsPage";
import { GroupsPage } from "../identity/admin/GroupsPage";
import { IdentityProvidersPage } from "../identity/admin/IdentityProvidersPage";
import { LinkPolicyPage } from "../files/admin/LinkPolicyPage";
import { NodeAllocationsPage } from "../containers/admin/NodeAllocationsPage";
import { NodesPage } from "../containers/admin/NodesPage";
import { OAuthClientsPage } from "../apps/admin/OAuthClientsPage";
import { RegistrationPage } from "../identity/admin/RegistrationPage";
import { RolesPage } from "../identity/admin/RolesPage";
import { ServicePage } from "../apps/admin/ServicePage";
import { ServicesPage } from "../apps/admin/ServicesPage";
import { TenantsPage } from "../identity/admin/TenantsPage";
import { UsersPage } from "../identity/admin/UsersPage";

function tabClass({ isActive }: { isActive: boolean }): string {
  const base = "rounded-md px-3 py-1.5 text-sm font-medium transition-colors";
  return isActive
    ? `${base} bg-white text-slate-900 shadow-sm ring-1 ring-slate-200 dark:bg-slate-800 dark:text-white dark:ring-slate-700`
    : `${base} text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-white`;
}

function NoAccess({ permission }: { permission: string }) {
  useDocumentTitle("Admin");
  return (
    <>
      <PageHeader title="Admin" />
      <EmptyState
        icon={ShieldIcon}
        title="You do not have access to this"
        actions={
          <Link to="/" className={buttonClass.secondary}>
            Back to overview
          </Link>
        }
      >
        <p>
          This needs the <code className="font-mono text-xs">{permission}</code> permission. Ask an admin of your tenant if you should have it.
        </p>
      </EmptyState>
    </>
  );
}

/** Renders `children` only when the user holds `permission`. */
function Gate({ permission, children }: { permission: string; children: ReactNode }) {
  const me = useMe();
  return can(me, permission) ? children : <NoAccess permission={permission} />;
}

export function AdminPage() {
  const me = useMe();
  if (!canAny(me, "admin.")) return <NoAccess permission="admin.*" />;
  return (
    <>
      <nav aria-label="Admin" className="mb-6 inline-flex flex-wrap gap-1 rounded-lg bg-slate-100 p-1 dark:bg-slate-900">
        <NavLink to="/admin" end className={tabClass}>
          Overview
        </NavLink>
        {can(me, "admin.users") && (
          <NavLink to="/admin/users" className={tabClass}>
            Users
          </NavLink>
        )}
        {can(me, "admin.roles") && (
          <NavLink to="/admin/roles" className={tabClass}>
            Roles
          </NavLink>
        )}
        {can(me, "admin.groups") && (
          <NavLink to="/admin/groups" className={tabClass}>
            Groups
          </NavLink>
        )}
        {can(me, "admin.audit") && (
          <NavLink to="/admin/audit" className={tabClass}>
            Audit log
          </NavLink>
        )}
        {can(me, "admin.settings") && (
          <NavLink to="/admin/links" className={tabClass}>
            Public links
          </NavLink>
        )}
        {can(me, "tenant.manage") && (
          <NavLink to="/admin/files" className={tabClass}>
            Files
          </NavLink>
        )}
        {can(me, "apps.manage") && (
          <NavLink to="/admin/services" className={tabClass}>
            Services
          </NavLink>
        )}
        {can(me, "apps.manage") && (
          <NavLink to="/admin/oauth-clients" className={tabClass}>
            OAuth clients
          </NavLink>
        )}
        {can(me, "admin.settings") && (
          <NavLink to="/admin/settings" className={tabClass}>
            Settings
          </NavLink>
        )}
        {me.user.is_superadmin && (
          <NavLink to="/admin/backups" className={tabClass}>
            Backups
          </NavLink>
        )}
        {me.user.is_superadmin && (
          <NavLink to="/admin/tenants" className={tabClass}>
            Tenants
          </NavLink>
        )}
        {me.user.is_superadmin && (
          <NavLink to="/admin/registration" className={tabClass}>
            Registration
          </NavLink>
        )}
        {me.user.is_superadmin && (
          <NavLink to="/admin/sign-in-providers" className={tabClass}>
            Sign-in providers
          </NavLink>
        )}
        {me.user.is_superadmin && (
          <NavLink to="/admin/nodes" className={tabClass}>
            Nodes
          </NavLink>
        )}
        {me.user.is_superadmin && (
          <NavLink to="/admin/clusters" className={tabClass}>
            Clusters
          </NavLink>
        )}
        {me.user.is_superadmin && (
          <NavLink to="/admin/eggs" className={tabClass}>
            Eggs
          </NavLink>
        )}
      </nav>
      <Routes>
        <Route index element={<AdminIndexPage />} />
        <Route
          path="users"
          element={
            <Gate permission="admin.users">
              <UsersPage />
            </Gate>
          }
        />
        <Route
          path="roles"
          element={
            <Gate permission="admin.roles">
              <RolesPage />
            </Gate>
          }
        />
        <Route
          path="groups"
          element={
            <Gate permission="admin.groups">
              <GroupsPage />
            </Gate>
          }
        />
        <Route
          path="audit"
          element={
            <Gate permission="admin.audit">
              <AuditLogPage />
            </Gate>
          }
        />
        <Route
          path="links"
          element={
            <Gate permission="admin.settings">
              <LinkPolicyPage />
            </Gate>
          }
        />
        <Route
          path="files"
          element={
            <Gate permission="tenant.manage">
              <FilesSettingsPage />
            </Gate>
          }
        />
        <Route
          path="services"
          element={
            <Gate permission="apps.manage">
              <ServicesPage />
            </Gate>
          }
        />
        <Route
          path="oauth-clients"
          element={
            <Gate permission="apps.manage">
              <OAuthClientsPage />
            </Gate>
          }
        />
        <Route
          path="services/:serviceId"
          element={
            <Gate permission="apps.manage">
              <ServicePage />
            </Gate>
          }
        />
        <Route
          path="settings/*"
          element={
            <Gate permission="admin.settings">
              <SettingsPage />
            </Gate>
          }
        />
        <Route path="backups/*" element={me.user.is_superadmin ? <BackupsPage /> : <NoAccess permission="super-admin" />} />
        <Route path="tenants" element={me.user.is_superadmin ? <TenantsPage /> : <NoAccess permission="super-admin" />} />
        <Route path="registration" element={me.user.is_superadmin ? <RegistrationPage /> : <NoAccess permission="super-admin" />} />
        <Route path="sign-in-providers" element={me.user.is_superadmin ? <IdentityProvidersPage /> : <NoAccess permission="super-admin" />} />
        <Route path="nodes" element={me.user.is_superadmin ? <NodesPage /> : <NoAccess permission="super-admin" />} />
        <Route path="nodes/:nodeId" element={me.user.is_superadmin ? <NodeAllocationsPage /> : <NoAccess permission="super-admin" />} />
        <Route path="clusters" element={me.user.is_superadmin ? <ClustersPage /> : <NoAccess permission="super-admin" />} />
        <Route path="eggs" element={me.user.is_superadmin ? <EggsPage /> : <NoAccess permission="super-admin" />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </>
  );
}
