/** The route table: the shell around the overview, one route per section, and the not-found fallback. */
import { BrowserRouter, Route, Routes } from "react-router";

import { AppShell } from "./components/AppShell";
import { ComingSoonPage } from "./pages/ComingSoonPage";
import { HomePage } from "./pages/home/HomePage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { sections } from "./sections";

export function App() {
  return (
    <BrowserRouter>
      <Routes>
        <Route element={<AppShell />}>
          <Route index element={<HomePage />} />
          {sections.map((section) => {
            const Page = section.page;
            return <Route key={section.id} path={`${section.path}/*`} element={Page ? <Page /> : <ComingSoonPage section={section} />} />;
          })}
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </BrowserRouter>
  );
}
