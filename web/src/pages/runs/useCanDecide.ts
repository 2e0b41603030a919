import { useCallback, useEffect, useState } from "react";
import { runsApi, type Approval } from "../../api/runs";
import { useCanOperate } from "../../app/permissions";
import { useSignedIn } from "../../app/session";

/**
 * Whether the person may decide an approval: an operator (or above) among its approvers, directly or through a team,
 * who has not decided it yet. Anyone else would be refused (403, or 409 for a second decision), so the cards offer
 * Approve and Reject only then. The approvers are resolved by the API (`approver=me`, the pending ones of `run` or of
 * the workspace), asked again whenever `changed` does; until it answers, nobody may decide.
 */
export function useCanDecide(workspace: string, changed: unknown, run?: string): (approval: Approval) => boolean {
  const canOperate = useCanOperate(workspace);
  const { me } = useSignedIn();
  // null: not known yet; "all": more than a page of them, so every pending approval is offered and the API decides.
  const [mine, setMine] = useState<Set<string> | "all" | null>(null);

  useEffect(() => {
    if (!canOperate) return;
    const abort = new AbortController();
    runsApi.approvals(workspace, { status: "pending", approver: "me", run, limit: 100 }, abort.signal)
      .then((page) => setMine(page.next ? "all" : new Set(page.results.map((a) => a.id))))
      .catch(() => { if (!abort.signal.aborted) setMine("all"); });
    return () => abort.abort();
  }, [workspace, run, canOperate, changed]);

  return useCallback((approval: Approval) => canOperate && approval.status === "pending"
    && (mine === "all" || (mine?.has(approval.id) ?? false))
    && !approval.decisions.some((d) => d.by === me.user?.id), [canOperate, mine, me.user?.id]);
}
