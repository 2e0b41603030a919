import { useState } from "react";
import { Navigate, NavLink, Outlet, useLocation, useNavigate, useParams } from "react-router";
import { Button, Loading, ProblemBanner, ThemeToggle, useToast } from "../components";
import { useIsAdmin } from "./permissions";
import { useSession, useSignedIn } from "./session";

/** Sends people who are not signed in to sign-in (or set-up), keeping where they were going. */
export function RequireSignedIn() {
  const { state, refresh } = useSession();
  const location = useLocation();
  switch (state.status) {
    case "loading":
      return <Loading label="Loading Cadre…" />;
    case "error":
      return (
        <main className="centered">
          <ProblemBanner error={state.error} />
          <Button onClick={() => void refresh()}>Try again</Button>
        </main>
      );
    case "setup":
      return <Navigate to="/setup" replace />;
    case "signedOut":
      return <Navigate to={state.bySignOut ? "/login" : `/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
    default:
      return <Layout />;
  }
}

function Layout() {
  const { me, workspaces, signOut } = useSignedIn();
  const { workspace } = useParams();
  const navigate = useNavigate();
  const toast = useToast();
  const [signingOut, setSigningOut] = useState(false);

  const switchTo = (name: string) => navigate(`/w/${encodeURIComponent(name)}/workflows`);
  const onSignOut = async () => {
    setSigningOut(true);
    try {
      await signOut(); // RequireSignedIn then leads to the sign-in page.
    } catch (error) {
      toast.error(error);
      setSigningOut(false);
    }
  };

  return (
    <div className="shell">
      <a href="#main" className="skip-link">Skip to content</a>
      <header className="topbar">
        <NavLink to="/" className="brand">Cadre</NavLink>
        {workspaces.length > 0 && (
          <label className="workspace-switcher">
            <span className="visually-hidden">Workspace</span>
            <select value={workspace ?? ""} onChange={(e) => switchTo(e.target.value)} aria-label="Workspace">
              {!workspace && <option value="" disabled>Choose a workspace</option>}
              {workspaces.map((w) => <option key={w.id} value={w.name}>{w.displayName || w.name}</option>)}
            </select>
          </label>
        )}
        <div className="topbar-end">
          <ThemeToggle />
          {me.instanceRole && <NavLink to="/admin/users" className="topbar-link">Instance</NavLink>}
          <NavLink to="/account" className="whoami" title={`Your account (${me.user?.email ?? me.actor.name})`}>{me.user?.displayName ?? me.actor.name}</NavLink>
          <Button variant="ghost" busy={signingOut} onClick={() => void onSignOut()}>Sign out</Button>
        </div>
      </header>
      <div className="shell-body">
        {workspace && <Sections workspace={workspace} />}
        <main id="main" className="content" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </div>
  );
}

/** The workspace's sections; the admin ones only for those who may use them. */
function Sections({ workspace }: { workspace: string }) {
  const isAdmin = useIsAdmin(workspace);
  const base = `/w/${encodeURIComponent(workspace)}`;
  const link = (path: string, label: string) => <li><NavLink to={`${base}/${path}`}>{label}</NavLink></li>;
  return (
    <nav aria-label="Sections" className="sidebar">
      <ul>
        {link("workflows", "Workflows")}
        {link("personas", "Personas")}
        {link("approvals", "Approvals")}
        {link("events", "Events")}
        {link("files", "Files")}
        {link("analytics", "Analytics")}
      </ul>
      <div className="sidebar-heading" aria-hidden="true">Building blocks</div>
      <ul aria-label="Building blocks">
        {link("skills", "Skills")}
        {link("guardrails", "Guardrails")}
        {link("providers", "Providers")}
        {link("webhooks", "Webhooks")}
      </ul>
      {isAdmin && (
        <>
          <div className="sidebar-heading" aria-hidden="true">Administration</div>
          <ul aria-label="Administration">
            {link("secrets", "Secrets")}
            {link("keys", "API keys")}
            {link("members", "Members")}
            {link("audit", "Audit log")}
            {link("settings", "Settings")}
          </ul>
        </>
      )}
    </nav>
  );
}
