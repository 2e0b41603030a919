// What the signed-in person may do in a workspace, from /me: the UI hides what the API would refuse,
// and the API still decides (a stale page's action is answered with the API's 403).
import type { WorkspaceRole } from "../api/types";
import { useSignedIn } from "./session";

const rank: Record<WorkspaceRole, number> = { viewer: 0, operator: 1, editor: 2, admin: 3, owner: 4 };

/** The person's role in the workspace; instance owners and admins act as the workspace's owner. */
export function useWorkspaceRole(workspace: string): WorkspaceRole | null {
  const { me } = useSignedIn();
  if (me.instanceRole === "owner" || me.instanceRole === "admin") return "owner";
  return me.workspaces.find((w) => w.name === workspace)?.role ?? null;
}

/** Whether the person's role is at least `least` (viewer < operator < editor < admin < owner). */
export function useHasRole(workspace: string, least: WorkspaceRole): boolean {
  const role = useWorkspaceRole(workspace);
  return role !== null && rank[role] >= rank[least];
}

/** Editors and above change definitions (workflows, personas, skills…). */
export const useCanEdit = (workspace: string) => useHasRole(workspace, "editor");

/** Operators and above start, halt and resume runs and decide approvals. */
export const useCanOperate = (workspace: string) => useHasRole(workspace, "operator");

/** Admins and above manage keys, secrets, members and settings. */
export const useIsAdmin = (workspace: string) => useHasRole(workspace, "admin");
