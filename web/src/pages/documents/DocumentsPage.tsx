/** /documents/*: the documents list (with the open document), and Manage for the organization's vocabularies. */
import { Route, Routes } from "react-router";

import { NotFoundPage } from "../NotFoundPage";
import { DocumentsBrowser } from "./DocumentsBrowser";
import { ManagePage } from "./manage/ManagePage";

export function DocumentsPage() {
  return (
    <Routes>
      <Route index element={<DocumentsBrowser />} />
      <Route path="manage" element={<ManagePage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
