/** The overview card's live line for Documents: how many documents you have. */
import { useDocumentCount } from "../../api/documentsQueries";
import { can, useMe } from "../../auth/session";
import { Skeleton } from "../../components/Card";

export function DocumentsSummary() {
  const me = useMe();
  const readable = can(me, "documents.read");
  const { data: count, error } = useDocumentCount(readable);
  if (!readable || error !== null) return null;
  if (count === undefined) return <Skeleton className="h-5 w-28" />;
  return (
    <span data-testid="documents-count">
      {count === 0 ? "No documents yet" : `${count} ${count === 1 ? "document" : "documents"}`}
    </span>
  );
}
