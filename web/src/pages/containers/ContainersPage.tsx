/** /containers/*: the tenant's containers with their live state (filter by name and state), the create wizard and each container's page. */
import { lazy, Suspense, useState } from "react";
import { Link, Route, Routes } from "react-router";

import { useContainers } from "../../api/containerQueries";
import { deleteContainer, powerContainer, type Container } from "../../api/containers";
import { useInvalidate } from "../../api/queryClient";
import { containerKeys } from "../../api/queryKeys";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { EmptyState } from "../../components/EmptyState";
import { Alert, inputClass } from "../../components/Form";
import { ContainerIcon, PlusIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useAction } from "../../lib/useAction";
import { NotFoundPage } from "../NotFoundPage";
import { actionsFor, CONTAINER_STATES } from "./containerState";
import { StateBadge } from "./containerUi";
import { CreateContainerWizard } from "./CreateContainerWizard";

const REFRESH_MS = 3000;
// The detail page carries xterm.js: loaded when a container is opened, not with the app.
const ContainerDetailPage = lazy(() => import("./ContainerDetailPage").then((module) => ({ default: module.ContainerDetailPage })));

function ContainerRow({ container, onChanged }: { container: Container; onChanged: () => void }) {
  const { run: act, error } = useAction((call: () => Promise<unknown>) => call(), onChanged);
  return (
    <tr className="border-t border-slate-200 dark:border-slate-800" data-testid={`container-${container.name}`}>
      <td className="py-3 pr-4 font-medium">
        <Link to={`/containers/${container.id}`} className="text-sky-700 hover:underline dark:text-sky-300">
          {container.name}
        </Link>
      </td>
      <td className="py-3 pr-4">
        <StateBadge state={container.state} />
        {container.state_reason && <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">{container.state_reason}</p>}
        {error !== null && <p className="mt-1 text-xs text-rose-700 dark:text-rose-300">{error.message}</p>}
      </td>
      <td className="py-3 pr-4 text-sm text-slate-600 dark:text-slate-400">{(container.ports ?? []).map((port) => `${port.ip}:${port.port}`).join(", ")}</td>
      <td className="py-3 pr-4 text-sm text-slate-600 dark:text-slate-400">
        {container.memory_mb} MiB · {container.cpu}% CPU
      </td>
      <td className="py-3">
        <div className="flex flex-wrap gap-2">
          {actionsFor(container.state)
            .filter((action) => action !== "kill")
            .map((action) => (
              <button key={action} type="button" className={buttonClass.small} onClick={() => void act(() => powerContainer(container.id, action))}>
                {action}
              </button>
            ))}
          {container.state !== "deleting" && (
            <button type="button" className={buttonClass.smallDanger} onClick={() => void act(() => deleteContainer(container.id))}>
              delete
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}

function ContainerList() {
  useDocumentTitle("Containers");
  const containers = useContainers(REFRESH_MS);
  const invalidate = useInvalidate();
  const [query, setQuery] = useState("");
  const [state, setState] = useState("");

  const items = containers.data?.items ?? [];
  const shown = items.filter((item) => (state === "" || item.state === state) && item.name.toLowerCase().includes(query.trim().toLowerCase()));

  return (
    <div className="space-y-6">
      <PageHeader
        title="Containers"
        description="Servers made from eggs, placed on your platform's nodes. States refresh every few seconds."
        actions={
          <Link to="/containers/new" className={buttonClass.primary}>
            <PlusIcon className="size-4" /> New container
          </Link>
        }
      />
      {containers.error !== null && <Alert tone="danger">{containers.error.message}</Alert>}
      {containers.data?.items.length === 0 ? (
        <EmptyState
          icon={ContainerIcon}
          title="No containers yet"
          actions={
            <Link to="/containers/new" className={buttonClass.primary}>
              New container
            </Link>
          }
        >
          Pick an egg, fill in its variables, and Nubes installs and starts it on a node with room.
        </EmptyState>
      ) : (
        <Card>
          <div className="mb-4 flex flex-wrap gap-3" role="search">
            <input className={`${inputClass} max-w-xs`} aria-label="Filter by name" placeholder="Filter by name" value={query} onChange={(e) => { setQuery(e.target.value); }} />
            <select className={`${inputClass} max-w-[12rem]`} aria-label="Filter by state" value={state} onChange={(e) => { setState(e.target.value); }}>
              <option value="">Every state</option>
              {CONTAINER_STATES.map((item) => (
                <option key={item} value={item}>
                  {item.replace("_", " ")}
                </option>
              ))}
            </select>
            <span className="self-center text-sm text-slate-500">
              {shown.length} of {items.length}
            </span>
          </div>
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-slate-500 uppercase dark:text-slate-400">
              <tr>
                <th className="pb-2">Name</th>
                <th className="pb-2">State</th>
                <th className="pb-2">Address</th>
                <th className="pb-2">Limits</th>
                <th className="pb-2">Actions</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((container) => (
                <ContainerRow key={container.id} container={container} onChanged={() => void invalidate(containerKeys.instances)} />
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}

export function ContainersPage() {
  return (
    <Routes>
      <Route index element={<ContainerList />} />
      <Route path="new" element={<CreateContainerWizard />} />
      <Route
        path=":containerId"
        element={
          <Suspense fallback={<Skeleton className="h-10 w-64" />}>
            <ContainerDetailPage />
          </Suspense>
        }
      />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
