import type { WorkspaceRole } from "../../api/types";
import { workspaceRoles } from "../../api/admin";

const rank: Record<WorkspaceRole, number> = { viewer: 0, operator: 1, editor: 2, admin: 3, owner: 4 };

/** What each role may do, in a phrase, for the role pickers. */
export const roleSummary: Record<WorkspaceRole, string> = {
  owner: "Owner — everything, including deleting the workspace",
  admin: "Admin — members, keys, secrets, providers and settings",
  editor: "Editor — workflows, personas, skills and guardrails",
  operator: "Operator — starts and stops runs, decides approvals",
  viewer: "Viewer — reads everything, changes nothing",
};

/** The roles someone with `mine` may give (never above their own); the API decides in the end. */
export function grantableRoles(mine: WorkspaceRole | null): { value: string; label: string }[] {
  return workspaceRoles.filter((r) => mine !== null && rank[r] <= rank[mine]).map((r) => ({ value: r, label: roleSummary[r] }));
}

export const atMost = (role: WorkspaceRole, mine: WorkspaceRole | null) => mine !== null && rank[role] <= rank[mine];
