/** App data: the collections apps keep in your account (per app: documents, size, last change), and deleting one. */
import { useState } from "react";

import { appDataKeys, deleteDataCollection, useDataCollections, type DataCollection } from "../../api/appData";
import { useInvalidate } from "../../api/queryClient";
import { useMe } from "../../auth/session";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { ConfirmDialog } from "../../components/Dialog";
import { Alert } from "../../components/Form";
import { describeTimestamp } from "../../lib/format";
import { useConfirm } from "../../lib/useAction";
import { formatBytes } from "../files/fileKinds";

/** The collections by the app that made them; yours (made without an app) first. */
function byApp(collections: DataCollection[]): [string, DataCollection[]][] {
  const groups = new Map<string, DataCollection[]>();
  for (const collection of collections) {
    const app = collection.client_id ?? "";
    groups.set(app, [...(groups.get(app) ?? []), collection]);
  }
  return [...groups.entries()].sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)));
}

function CollectionRow({ collection, canDelete, onDelete }: { collection: DataCollection; canDelete: boolean; onDelete: () => void }) {
  const changed = describeTimestamp(collection.updated_at);
  return (
    <li data-testid="app-data-collection" className="flex items-center gap-4 py-3">
      <div className="min-w-0 flex-1">
        <p className="flex items-center gap-2 text-sm font-medium text-slate-900 dark:text-white">
          <span className="truncate font-mono">{collection.name}</span>
          {collection.space === "shared" && <Badge tone="brand">shared</Badge>}
        </p>
        <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
          {collection.documents} {collection.documents === 1 ? "document" : "documents"}
          <span aria-hidden="true"> · </span>
          {formatBytes(collection.bytes)}
          <span aria-hidden="true"> · </span>
          Last change <span title={changed.title}>{changed.text}</span>
        </p>
      </div>
      {canDelete && (
        <button type="button" aria-label={`Delete collection ${collection.name}`} className={buttonClass.smallDanger} onClick={onDelete}>
          Delete collection
        </button>
      )}
    </li>
  );
}

export function AppDataCard() {
  const me = useMe();
  const { data: collections, error: loadError, isFetching: loading } = useDataCollections();
  const invalidate = useInvalidate();
  const [notice, setNotice] = useState<string | null>(null);
  const remove = useConfirm(deleteDataCollection, (_done, collection) => {
    setNotice(`The collection ${collection.name} and everything in it are deleted.`);
    void invalidate(appDataKeys.collections);
  });
  const manages = me.permissions.includes("apps.manage");

  return (
    <Card title={`App data${collections ? ` (${collections.length})` : ""}`}>
      <p className="text-sm text-slate-600 dark:text-slate-400">What apps store in your account, by app. Its size counts in your storage quota.</p>
      {notice !== null && (
        <div className="mt-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      )}
      {loadError !== null && (
        <div className="mt-4">
          <Alert tone="danger">{loadError.message}</Alert>
        </div>
      )}
      {collections === undefined && loading && (
        <div className="mt-4" aria-busy="true">
          <Skeleton className="h-12 w-full" />
        </div>
      )}
      {collections?.length === 0 && <p className="mt-4 text-sm text-slate-500 dark:text-slate-400">No app stores data here yet. When an app you connect saves something, it appears here.</p>}
      {collections !== undefined &&
        byApp(collections).map(([app, group]) => (
          <section key={app} className="mt-4" aria-label={app === "" ? "Made by you" : `Made by ${app}`}>
            <h3 className="text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">{app === "" ? "Made by you" : app}</h3>
            <ul className="divide-y divide-slate-100 dark:divide-slate-800">
              {group.map((collection) => (
                <CollectionRow
                  key={collection.id}
                  collection={collection}
                  canDelete={collection.space === "me" || manages}
                  onDelete={() => {
                    setNotice(null);
                    remove.ask(collection);
                  }}
                />
              ))}
            </ul>
          </section>
        ))}
      <ConfirmDialog title={`Delete the collection ${remove.target?.name ?? ""}?`} confirmLabel="Delete collection" {...remove.dialog}>
        <p>
          Every document and attachment in it is deleted for good, and apps that use it start from nothing. Its {formatBytes(remove.target?.bytes ?? 0)} go back to your quota.
        </p>
      </ConfirmDialog>
    </Card>
  );
}
