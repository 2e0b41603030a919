// The approvals inbox: the workspace's approvals by status (pending first), optionally only those the person may
// decide; each with its summary, run, step, when it was asked and when it is due, and Approve / Reject with a comment.
import { useEffect, useState } from "react";
import { useParams, useSearchParams } from "react-router";
import type { Page } from "../../api/client";
import { runsApi, type Approval } from "../../api/runs";
import { Button, EmptyState, LoadFailed, Loading, Select, useToast } from "../../components";
import { ApprovalCard } from "./ApprovalCard";
import { useCanDecide } from "./useCanDecide";

const statuses = ["pending", "approved", "rejected", "expired", "cancelled"] as const;
const pollEvery = 10000;

export function ApprovalsPage() {
  const { workspace = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "pending";
  const mine = params.get("mine") === "1";
  const [link, setLink] = useState<string | null>(null);
  const [page, setPage] = useState<Page<Approval> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const [runs, setRuns] = useState<Record<string, { displayId: string; workflow?: string }>>({});
  const canDecide = useCanDecide(workspace, page?.results.filter((a) => a.status === "pending").map((a) => a.id).join());
  const toast = useToast();

  useEffect(() => { setLink(null); }, [status, mine, workspace]);

  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    runsApi.approvals(workspace, { status: status === "all" ? undefined : status, approver: mine ? "me" : undefined, limit: 25, link }, abort.signal)
      .then((result) => { setPage(result); setError(null); setLoading(false); })
      .catch((e: unknown) => { if (!abort.signal.aborted) { setError(e); setLoading(false); } });
    return () => abort.abort();
  }, [workspace, status, mine, link, tick]);

  // New questions arrive while the inbox is open: read the pending page again now and then.
  useEffect(() => {
    if (status !== "pending" || !page) return;
    const timer = window.setTimeout(() => setTick((n) => n + 1), pollEvery);
    return () => window.clearTimeout(timer);
  }, [status, page]);

  // Each approval names its run; the run says which workflow and its readable ID.
  useEffect(() => {
    const missing = [...new Set((page?.results ?? []).map((a) => a.runId))].filter((id) => !(id in runs));
    if (missing.length === 0) return;
    let cancelled = false;
    // A run that cannot be read (deleted by retention meanwhile) is remembered by its ID, so it is asked for once.
    void Promise.all(missing.map((id) => runsApi.get(workspace, id)
      .then((r): [string, { displayId: string; workflow?: string }] => [id, { displayId: r.displayId, workflow: r.workflowName }])
      .catch((): [string, { displayId: string; workflow?: string }] => [id, { displayId: id }])))
      .then((found) => { if (!cancelled) setRuns((all) => ({ ...all, ...Object.fromEntries(found) })); });
    return () => { cancelled = true; };
  }, [page, runs, workspace]);

  const set = (next: { status?: string; mine?: boolean }) => {
    const s = next.status ?? status;
    const m = next.mine ?? mine;
    const query: Record<string, string> = {};
    if (s !== "pending") query.status = s;
    if (m) query.mine = "1";
    setParams(query, { replace: true });
  };

  const decided = (approval: Approval) => {
    setPage((p) => p && { ...p, results: p.results.map((a) => (a.id === approval.id ? approval : a)) });
    const verb = approval.decisions.at(-1)?.decision === "reject" ? "Rejected" : "Approved";
    toast.success(`${verb}: step ${approval.stepId}${approval.status !== "pending" ? ` (${approval.status})` : " (more approvals needed)"}.`);
  };

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Approvals</h1>
          {page && <p className="muted" aria-live="polite">{page.count === 1 ? "1 approval" : `${page.count} approvals`} {status === "all" ? "" : status}{mine ? " for you" : ""}</p>}
        </div>
        <div className="page-actions">
          <Select label="Status" value={status} className="field-compact" onChange={(e) => set({ status: e.target.value })}
            options={[...statuses.map((s) => ({ value: s, label: s[0]!.toUpperCase() + s.slice(1) })), { value: "all", label: "All" }]} />
          <label className="checkbox">
            <input type="checkbox" checked={mine} onChange={(e) => set({ mine: e.target.checked })} />
            Only mine to decide
          </label>
        </div>
      </header>

      {error != null && (
        <LoadFailed error={error} onRetry={() => setTick((n) => n + 1)} />
      )}

      {error == null && loading && !page && <Loading label="Loading approvals…" />}

      {error == null && page && page.results.length === 0 && (
        <EmptyState title={status === "pending" ? "Nothing waits for a decision" : `No ${status === "all" ? "" : `${status} `}approvals`}>
          <p>
            Approval steps (and agents' tools that need approval) ask people here before a run goes on: a deployment, a
            refund, an e-mail to a customer. {status === "pending" ? "When one asks, it appears here with what it wants to do." : ""}
          </p>
          {mine && <p>Only approvals naming you or one of your teams are shown; <button type="button" className="link-button" onClick={() => set({ mine: false })}>show everyone's</button>.</p>}
        </EmptyState>
      )}

      {error == null && page && page.results.length > 0 && (
        <div aria-busy={loading} className="stack">
          <div className="approval-list">
            {page.results.map((a) => (
              <ApprovalCard key={a.id} workspace={workspace} approval={a} canDecide={canDecide(a)} headingLevel={2}
                runLabel={runs[a.runId] ?? null} onDecided={decided} />
            ))}
          </div>
          <nav className="pager" aria-label="Pages">
            <Button disabled={!page.previous || loading} onClick={() => setLink(page.previous)}>← Previous</Button>
            <Button disabled={!page.next || loading} onClick={() => setLink(page.next)}>Next →</Button>
          </nav>
        </div>
      )}
    </div>
  );
}
