import type { ReactNode } from "react";
import type { WorkspaceRole } from "../api/types";
import { EmptyState } from "../components";
import { useHasRole, useWorkspaceRole } from "./permissions";

const whoMay: Record<WorkspaceRole, string> = {
  viewer: "every member", operator: "operators, editors, admins and owners", editor: "editors, admins and owners", admin: "admins and owners", owner: "owners",
};

/**
 * A page for `least` and above. Anyone else (who reached it by its address: the sidebar does not link it) sees its
 * title and a plain "no access" message; the page itself is not rendered, so it never asks the API for what the
 * API would refuse (each refusal is an `access.denied` entry in the audit log).
 */
export function RequireRole({ workspace, least, title, why, children }: {
  workspace: string;
  least: WorkspaceRole;
  title: string;
  /** What the page holds and why it is kept to those roles. */
  why: string;
  children: ReactNode;
}) {
  const allowed = useHasRole(workspace, least);
  const role = useWorkspaceRole(workspace);
  if (allowed) return <>{children}</>;
  return (
    <div className="page">
      <header className="page-header"><h1>{title}</h1></header>
      <EmptyState title="You don't have access to this page">
        <p>{why}</p>
        <p>
          {role ? <>Your role in this workspace is <strong>{role}</strong>; </> : <>You are not a member of this workspace; </>}
          this page is for {whoMay[least]}. An admin or owner of the workspace can change your role.
        </p>
      </EmptyState>
    </div>
  );
}
