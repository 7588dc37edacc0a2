/**
 * The route table: /login and the other pages before signing in (sign-up, forgot and reset password,
 * confirming an email address) and the public link page (/s/:token) on their own; inside the shell, the public status page, and everything else
 * behind the sign-in guard (overview, one route per section, the account page, not-found).
 */
import { BrowserRouter, Route, Routes } from "react-router";

import { AuthProvider } from "./auth/AuthProvider";
import { RequireAuth } from "./auth/RequireAuth";
import { AppShell } from "./components/AppShell";
import { AccountPage } from "./pages/account/AccountPage";
import { LoginFlowPage } from "./pages/account/LoginFlowPage";
import { ConsentPage } from "./pages/apps/ConsentPage";
import { ComingSoonPage } from "./pages/ComingSoonPage";
import { HomePage } from "./pages/home/HomePage";
import { LoginPage } from "./pages/login/LoginPage";
import { ForgotPasswordPage, RegisterPage, ResetPasswordPage, VerifyEmailPage } from "./pages/login/PublicPages";
import { SharedWithMePage } from "./pages/files/SharedWithMePage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { PublicLinkPage } from "./pages/public/PublicLinkPage";
import { sections, type Section } from "./sections";

function sectionRoute(section: Section) {
  const Page = section.page;
  return <Route key={section.id} path={`${section.path}/*`} element={Page ? <Page /> : <ComingSoonPage section={section} />} />;
}

export function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route path="/register" element={<RegisterPage />} />
          <Route path="/forgot-password" element={<ForgotPasswordPage />} />
          <Route path="/reset-password" element={<ResetPasswordPage />} />
          <Route path="/verify-email" element={<VerifyEmailPage />} />
          <Route path="/s/:token" element={<PublicLinkPage />} />
          <Route element={<AppShell />}>
            {sections.filter((section) => section.public).map(sectionRoute)}
            <Route element={<RequireAuth />}>
              <Route index element={<HomePage />} />
              <Route path="/files/shared" element={<SharedWithMePage />} />
              {sections.filter((section) => !section.public).map(sectionRoute)}
              <Route path="/account" element={<AccountPage />} />
              <Route path="/login/flow/:token" element={<LoginFlowPage />} />
              <Route path="/oauth/consent" element={<ConsentPage />} />
              <Route path="*" element={<NotFoundPage />} />
            </Route>
          </Route>
        </Routes>
      </AuthProvider>
    </BrowserRouter>
  );
}
