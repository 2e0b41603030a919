// A workflow's runs, newest first: status (filter in the address), start, duration, cost; pages by the API's cursor.
// While a run shown is still going, the page is read again every few seconds, so its row moves on by itself.
import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import type { Page } from "../../api/client";
import { formatCost, formatDuration, isFinished, runStatuses, runsApi, type RunSummary } from "../../api/runs";
import { useCanOperate } from "../../app/permissions";
import { Button, type Column, EmptyState, LoadFailed, Loading, Select, Table, Time } from "../../components";
import { StartRunDialog } from "../runs/StartRunDialog";
import { StatusBadge } from "../runs/status";
import { useWorkflow } from "./WorkflowPage";

const pollEvery = 3000;
const idleEvery = 15000;

export function RunsTab() {
  const { workspace, workflow } = useWorkflow();
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const [link, setLink] = useState<string | null>(null);
  const [page, setPage] = useState<Page<RunSummary> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const [starting, setStarting] = useState(false);
  const canOperate = useCanOperate(workspace);
  // A refresh by the timer reads quietly: no busy state, so the table does not flicker every few seconds.
  const quiet = useRef(false);

  useEffect(() => { setLink(null); }, [status, workflow.id]);

  useEffect(() => {
    const abort = new AbortController();
    if (!quiet.current) setLoading(true);
    quiet.current = false;
    runsApi.listOfWorkflow(workspace, workflow.id, { status: status || undefined, limit: 25, link }, abort.signal)
      .then((result) => { setPage(result); setError(null); setLoading(false); setNow(Date.now()); })
      .catch((e: unknown) => { if (!abort.signal.aborted) { setError(e); setLoading(false); } });
    return () => abort.abort();
  }, [workspace, workflow.id, status, link, tick]);

  // Live refresh: often while a run shown is in progress; now and then on the first page, for new runs.
  const going = page?.results.some((r) => !isFinished(r.status)) ?? false;
  useEffect(() => {
    if (!page || (!going && link)) return;
    const timer = window.setTimeout(() => { quiet.current = true; setTick((n) => n + 1); }, going ? pollEvery : idleEvery);
    return () => window.clearTimeout(timer);
  }, [page, going, link]);

  const base = `/w/${encodeURIComponent(workspace)}`;
  const columns: Column<RunSummary>[] = [
    { key: "run", header: "Run", cell: (r) => <Link className="strong" to={`${base}/runs/${encodeURIComponent(r.id)}`}>{r.displayId}</Link> },
    { key: "status", header: "Status", cell: (r) => <StatusBadge status={r.status} /> },
    { key: "trigger", header: "Trigger", cell: (r) => <span className="badge">{r.trigger.type}</span> },
    { key: "started", header: "Started", cell: (r) => <Time value={r.startedAt ?? r.createdAt} /> },
    { key: "duration", header: "Duration", cell: (r) => (r.startedAt ? formatDuration(r.startedAt, r.finishedAt, now) : <span className="muted">not started</span>) },
    { key: "cost", header: "Cost", className: "cell-number", cell: (r) => (r.usage ? formatCost(r.usage.costUsd) : <span className="muted">—</span>) },
    { key: "version", header: "Version", className: "cell-number", cell: (r) => r.workflowVersion },
  ];

  const statusOptions = [{ value: "", label: "All statuses" }, ...runStatuses.map((s) => ({ value: s, label: s }))];

  return (
    <section aria-labelledby="runs-heading" className="stack">
      <div className="page-header">
        <div>
          <h2 id="runs-heading">Runs</h2>
          {page && <p className="muted" aria-live="polite">{page.count === 1 ? "1 run" : `${page.count} runs`}{status && ` ${status}`}</p>}
        </div>
        <div className="page-actions">
          <Select label="Status" value={status} options={statusOptions} className="field-compact"
            onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {}, { replace: true })} />
          <Button onClick={() => setTick((n) => n + 1)} busy={loading && page != null}>Refresh</Button>
        </div>
      </div>

      {error != null && (
        <LoadFailed error={error} onRetry={() => setTick((n) => n + 1)} />
      )}

      {error == null && loading && !page && <Loading label="Loading runs…" />}

      {error == null && page && page.results.length === 0 && !status && (
        <EmptyState title="No runs yet" action={canOperate && workflow.status !== "deleted" && <Button variant="primary" onClick={() => setStarting(true)}>Start the first run</Button>}>
          <p>
            Each time this workflow is triggered — by hand, an event, a webhook or its schedule — a run records every step,
            attempt, model answer and cost. Runs appear here, newest first, and move on live while they work.
          </p>
        </EmptyState>
      )}

      {error == null && page && page.results.length === 0 && status && (
        <EmptyState title={`No ${status} runs`} action={<Button onClick={() => setParams({}, { replace: true })}>Show all runs</Button>}>
          <p>None of this workflow's runs is {status}.</p>
        </EmptyState>
      )}

      {error == null && page && page.results.length > 0 && (
        <div aria-busy={loading}>
          <Table caption={`Runs of ${workflow.name}`} columns={columns} rows={page.results} rowKey={(r) => r.id} />
          <nav className="pager" aria-label="Pages">
            <Button disabled={!page.previous || loading} onClick={() => setLink(page.previous)}>← Previous</Button>
            <Button disabled={!page.next || loading} onClick={() => setLink(page.next)}>Next →</Button>
          </nav>
        </div>
      )}

      <StartRunDialog workspace={workspace} workflow={workflow} open={starting} onClose={() => setStarting(false)} />
    </section>
  );
}
