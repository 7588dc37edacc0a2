/**
 * /documents: your documents. The source panel (views, category tree) on the left, the filter chips, the upload
 * queue and the list (or, while the search box holds words, the full-text search's hits) in the middle, the open
 * document in a slide-over on the right. Uploads by the button or by dropping files anywhere on the list; the list
 * and the open document follow the reading of their text.
 *
 * The URL holds the view (useDocumentsLocation): filters, order, page and the open document survive a reload.
 */
import { useCallback, useRef, useState } from "react";
import { Link } from "react-router";

import type { Document } from "../../api/documents";
import { useDocuments, useSearch } from "../../api/documentsQueries";
import { useInvalidate } from "../../api/queryClient";
import { documentsKeys } from "../../api/queryKeys";
import { can, useMe } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { Alert } from "../../components/Form";
import { PageHeader } from "../../components/PageHeader";
import { Pagination } from "../../components/Pagination";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { DropZone } from "../files/DropZone";
import { SearchBox } from "../files/SearchBox";
import { useUploads } from "../files/uploadQueue";
import { UploadQueue } from "../files/UploadQueue";
import { BulkBar } from "./BulkBar";
import { DocumentPanel } from "./DocumentPanel";
import { DocumentsEmpty } from "./DocumentsEmpty";
import { DocumentTable } from "./DocumentTable";
import { asDocument } from "./documentUploads";
import { FilterChips } from "./FilterChips";
import { ColumnsMenu } from "./SavedViews";
import { SearchResults } from "./SearchResults";
import { SEARCH_SYNTAX, useSearchQuery } from "./searchQuery";
import { SourcePanel } from "./SourcePanel";
import { PAGE_SIZE, useDocumentsLocation } from "./useDocumentsLocation";

export function DocumentsBrowser() {
  useDocumentTitle("Documents");
  const me = useMe();
  const canEdit = can(me, "documents.write");
  const canManage = can(me, "documents.manage");
  const location = useDocumentsLocation();
  const { query, selected } = location;
  const searchQuery = useSearchQuery(location);
  const searching = searchQuery !== "";
  const documents = useDocuments(query, !searching);
  const hits = useSearch(searchQuery);
  const invalidate = useInvalidate();
  const refresh = useCallback(() => {
    void invalidate(documentsKeys.lists, documentsKeys.vocabularies);
  }, [invalidate]);
  const uploads = useUploads(refresh, asDocument);
  const picker = useRef<HTMLInputElement>(null);
  // The documents ticked for a bulk action, kept across pages (by id, with the copy the list showed).
  const [picked, setPicked] = useState<ReadonlyMap<string, Document>>(new Map());
  const pick = useCallback((documents: readonly Document[], on: boolean) => {
    setPicked((current) => {
      const next = new Map(current);
      for (const document of documents) {
        if (on) next.set(document.id, document);
        else next.delete(document.id);
      }
      return next;
    });
  }, []);
  const pickedIds = new Set(picked.keys());

  const page = documents.data;
  const items = page?.items ?? [];
  const openUpload = (): void => picker.current?.click();

  const list = searching ? (
    <SearchResults
      q={searchQuery}
      selected={selected}
      onOpen={(hit) => { location.select(hit.document_id === selected ? null : hit.document_id); }}
      onNarrow={(key, value) => { location.setFilter(key, key === "q" ? `${location.filters.q ?? ""} ${value}`.trim() : value); }}
    />
  ) :
    page === undefined ? (
      documents.error === null && <Skeleton className="h-40 w-full" />
    ) : items.length === 0 && page.total > 0 ? (
      // Past the last page (documents went meanwhile): back to the first.
      <p className="text-sm">
        <button type="button" className="text-sky-700 underline dark:text-sky-400" onClick={() => { location.setPage(1); }}>
          Back to the first page
        </button>
      </p>
    ) : items.length === 0 ? (
      <DocumentsEmpty shared={location.view === "shared"} filtered={location.filtered} canUpload={canEdit} canManage={canManage} onUpload={openUpload} onShowAll={location.showAll} />
    ) : (
      <DocumentTable
        documents={items}
        sort={location.sort}
        onSort={location.setSort}
        selected={selected}
        onOpen={(document) => { location.select(document.id === selected ? null : document.id); }}
        columns={location.columns ?? undefined}
        picked={pickedIds}
        onPick={pick}
        footer={
          page.total > PAGE_SIZE ? (
            <Pagination offset={page.offset} limit={page.limit} total={page.total} shown={items.length} onChange={(offset) => { location.setPage(offset / PAGE_SIZE + 1); }} />
          ) : undefined
        }
      />
    );

  return (
    <div>
      <PageHeader
        title="Documents"
        description="Your documents with their type, correspondent, tags and categories; Nubes reads their text, scans too."
        actions={
          <>
            <div className="flex flex-col gap-1">
              <SearchBox
                query={location.filters.q ?? ""}
                onSearch={(q) => { location.setFilter("q", q || null); }}
                label="Search documents"
                placeholder="Search their text…"
                describedBy="documents-search-syntax"
              />
              <p id="documents-search-syntax" className="max-w-56 text-[11px] leading-4 text-slate-500 dark:text-slate-400" data-testid="search-syntax">
                {SEARCH_SYNTAX.map((example, index) => (
                  <span key={example}>
                    {index > 0 && " · "}
                    <code>{example}</code>
                  </span>
                ))}
              </p>
            </div>
            {canManage && (
              <Link to="/documents/manage" className={buttonClass.secondary}>
                Manage
              </Link>
            )}
            {canEdit && (
              <>
                <button type="button" className={buttonClass.primary} onClick={openUpload}>
                  Upload
                </button>
                <input
                  ref={picker}
                  type="file"
                  multiple
                  className="hidden"
                  data-testid="document-upload-input"
                  onChange={(event) => {
                    if (event.target.files) uploads.add(event.target.files, null);
                    event.target.value = "";
                  }}
                />
              </>
            )}
          </>
        }
      />
      <div className="flex flex-col gap-6 lg:flex-row">
        <SourcePanel location={location} canManage={canManage} />
        <DropZone
          enabled={canEdit}
          folderName="Documents"
          label={
            <span className="px-6 text-center">
              Drop to add as documents
              <span className="mt-1 block text-sm font-normal">Nubes keeps them in your Documents folder and reads their text.</span>
            </span>
          }
          onFiles={(files) => { uploads.add(files, null); }}
        >
          <div className="flex items-start justify-between gap-3">
            <div className="min-w-0 flex-1">
              <FilterChips location={location} total={searching ? (hits.data?.total ?? null) : (page?.total ?? null)} />
            </div>
            {!searching && <ColumnsMenu location={location} />}
          </div>
          <BulkBar picked={[...picked.values()]} canEdit={canEdit} onClear={() => { setPicked(new Map()); }} />
          <UploadQueue items={uploads.items} onCancel={uploads.cancel} onRetry={uploads.retry} onClear={uploads.clearFinished} onUploadAnyway={uploads.uploadAnyway} />
          {documents.error !== null && (
            <div className="mb-4">
              <Alert tone="danger">{documents.error.message}</Alert>
            </div>
          )}
          {list}
        </DropZone>
      </div>
      {selected !== null && (
        <DocumentPanel
          key={selected}
          id={selected}
          initial={items.find((item) => item.id === selected)}
          canEdit={canEdit}
          canManage={canManage}
          onClose={() => { location.select(null); }}
        />
      )}
    </div>
  );
}
