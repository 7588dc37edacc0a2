/** /files/shared: what others shared with you, directly or through your groups, with who shared it and how. */
import { Link } from "react-router";

import { contentUrl } from "../../api/files";
import { useSharedWithMe } from "../../api/filesQueries";
import { PERMISSION_LABELS } from "../../api/sharing";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { EmptyState } from "../../components/EmptyState";
import { Alert } from "../../components/Form";
import { DocumentIcon, FolderIcon, UsersIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { describeTimestamp } from "../../lib/format";

const th = "px-4 py-3 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400";
const td = "px-4 py-3 align-middle";

export function SharedWithMePage() {
  useDocumentTitle("Shared with me");
  const { data, error, isFetching: loading } = useSharedWithMe();
  return (
    <div>
      <PageHeader
        title="Shared with me"
        description="Files and folders others shared with you or with your groups."
        actions={
          <Link className={buttonClass.secondary} to="/files">
            My files
          </Link>
        }
      />
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      {loading && data === undefined ? (
        <Skeleton className="h-32 w-full" />
      ) : data?.length ? (
        <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
          <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800">
            <thead>
              <tr>
                <th className={th}>Name</th>
                <th className={th}>Shared by</th>
                <th className={th}>Permission</th>
                <th className={th}>Shared</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {data.map((item) => (
                <tr key={item.node.id} data-testid="shared-row" data-name={item.node.name}>
                  <td className={td}>
                    <span className="flex items-center gap-2">
                      {item.node.kind === "file" ? <DocumentIcon className="size-4 text-slate-400" /> : <FolderIcon className="size-4 text-sky-600" />}
                      {item.node.kind === "file" ? (
                        <a className="font-medium text-slate-900 hover:underline dark:text-white" href={contentUrl(item.node.id)}>
                          {item.node.name}
                        </a>
                      ) : (
                        <Link className="font-medium text-slate-900 hover:underline dark:text-white" to={`/files?folder=${encodeURIComponent(item.node.id)}`}>
                          {item.node.name}
                        </Link>
                      )}
                    </span>
                  </td>
                  <td className={td}>
                    {item.shared_by?.name ?? "—"}
                    {item.via_groups.length > 0 && (
                      <span className="ml-2 inline-flex items-center gap-1 text-xs text-slate-500">
                        <UsersIcon className="size-3.5" /> via {item.via_groups.map((group) => group.name).join(", ")}
                      </span>
                    )}
                  </td>
                  <td className={td}>
                    <Badge tone={item.permission === "view" ? "neutral" : "brand"}>{PERMISSION_LABELS[item.permission]}</Badge>
                  </td>
                  <td className={td} title={describeTimestamp(item.shared_at).title}>
                    {describeTimestamp(item.shared_at).text}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <EmptyState icon={UsersIcon} title="Nothing shared with you yet">
          When someone shares a file or folder with you or one of your groups, it shows here.
        </EmptyState>
      )}
    </div>
  );
}
