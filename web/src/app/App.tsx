import { lazy, Suspense, type ReactNode } from "react";
import { createBrowserRouter, createRoutesFromElements, Navigate, Outlet, Route, RouterProvider } from "react-router";
import { Loading, ToastProvider } from "../components";
import { AccountPage } from "../pages/account/AccountPage";
import { EncryptionPage } from "../pages/instance/EncryptionPage";
import { InstanceAuditPage } from "../pages/instance/InstanceAuditPage";
import { InstanceLayout } from "../pages/instance/InstanceLayout";
import { NodesPage } from "../pages/instance/NodesPage";
import { UsersPage } from "../pages/instance/UsersPage";
import { AcceptInvitationPage } from "../pages/admin/AcceptInvitationPage";
import { ResetPasswordPage } from "../pages/admin/ResetPasswordPage";
import { AuditPage } from "../pages/admin/AuditPage";
import { KeysPage } from "../pages/admin/KeysPage";
import { MembersPage } from "../pages/admin/MembersPage";
import { SecretsPage } from "../pages/admin/SecretsPage";
import { SettingsPage } from "../pages/admin/SettingsPage";
import { WorkspaceAnalyticsPage } from "../pages/analytics/WorkspaceAnalyticsPage";
import { GuardrailsPage } from "../pages/blocks/GuardrailsPage";
import { ProvidersPage } from "../pages/blocks/ProvidersPage";
import { SkillsPage } from "../pages/blocks/SkillsPage";
import { WebhooksPage } from "../pages/webhooks/WebhooksPage";
import { EventsPage } from "../pages/events/EventsPage";
import { FilesPage } from "../pages/files/FilesPage";
import { HomePage } from "../pages/HomePage";
import { LoginPage } from "../pages/LoginPage";
import { ErrorPage } from "../pages/ErrorPage";
import { NotFoundPage } from "../pages/NotFoundPage";
import { PersonaPage } from "../pages/personas/PersonaPage";
import { PersonasPage } from "../pages/personas/PersonasPage";
import { ApprovalsPage } from "../pages/runs/ApprovalsPage";
import { SetupPage } from "../pages/SetupPage";
import { AnalyticsTab } from "../pages/workflow/AnalyticsTab";
import { ConfigurationTab } from "../pages/workflow/ConfigurationTab";
import { RelatedTab } from "../pages/workflow/RelatedTab";
import { RunsTab } from "../pages/workflow/RunsTab";
import { VersionsTab } from "../pages/workflow/VersionsTab";
import { WorkflowPage } from "../pages/workflow/WorkflowPage";
import { WorkflowsPage } from "../pages/WorkflowsPage";
import { RequireSignedIn } from "./Layout";
import { SessionProvider } from "./session";

// The two pages that draw graphs load React Flow and dagre (about 80 kB gzipped) only when first opened.
const BuilderTab = lazy(() => import("../pages/workflow/BuilderTab").then((m) => ({ default: m.BuilderTab })));
const RunPage = lazy(() => import("../pages/runs/RunPage").then((m) => ({ default: m.RunPage })));

function OnDemand({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading label="Loading…" />}>{children}</Suspense>;
}

/** The providers every page shares: a data router takes its elements from routes, so they sit in a layout route. */
function Root() {
  return (
    <ToastProvider>
      <SessionProvider>
        <Outlet />
      </SessionProvider>
    </ToastProvider>
  );
}

// A data router, unlike <BrowserRouter>, can hold a navigation: the editors ask before unsaved changes are left behind.
const router = createBrowserRouter(createRoutesFromElements(
  <Route element={<Root />} errorElement={<ErrorPage />}>
    <Route path="/setup" element={<SetupPage />} />
    <Route path="/login" element={<LoginPage />} />
    <Route path="/invitations/accept" element={<AcceptInvitationPage />} />
    <Route path="/reset-password" element={<ResetPasswordPage />} />
    <Route element={<RequireSignedIn />}>
      <Route index element={<HomePage />} />
      <Route path="/account" element={<AccountPage />} />
      <Route path="/admin" element={<InstanceLayout />}>
        <Route index element={<Navigate to="users" replace />} />
        <Route path="users" element={<UsersPage />} />
        <Route path="nodes" element={<NodesPage />} />
        <Route path="encryption" element={<EncryptionPage />} />
        <Route path="audit" element={<InstanceAuditPage />} />
      </Route>
      <Route path="/w/:workspace">
        <Route path="workflows" element={<WorkflowsPage />} />
        <Route path="workflows/:workflow" element={<WorkflowPage />}>
          <Route index element={<ConfigurationTab />} />
          <Route path="builder" element={<OnDemand><BuilderTab /></OnDemand>} />
          <Route path="runs" element={<RunsTab />} />
          <Route path="analytics" element={<AnalyticsTab />} />
          <Route path="related" element={<RelatedTab />} />
          <Route path="versions" element={<VersionsTab />} />
        </Route>
        <Route path="runs/:run" element={<OnDemand><RunPage /></OnDemand>} />
        <Route path="approvals" element={<ApprovalsPage />} />
        <Route path="personas" element={<PersonasPage />} />
        <Route path="personas/:persona" element={<PersonaPage />} />
        <Route path="events" element={<EventsPage />} />
        <Route path="files" element={<FilesPage />} />
        <Route path="analytics" element={<WorkspaceAnalyticsPage />} />
        <Route path="skills" element={<SkillsPage />} />
        <Route path="guardrails" element={<GuardrailsPage />} />
        <Route path="providers" element={<ProvidersPage />} />
        <Route path="webhooks" element={<WebhooksPage />} />
        <Route path="secrets" element={<SecretsPage />} />
        <Route path="keys" element={<KeysPage />} />
        <Route path="members" element={<MembersPage />} />
        <Route path="audit" element={<AuditPage />} />
        <Route path="settings" element={<SettingsPage />} />
      </Route>
    </Route>
    <Route path="*" element={<NotFoundPage />} />
  </Route>,
));

export function App() {
  return <RouterProvider router={router} />;
}
