import { useCallback, useEffect, useState } from "react";
import { Outlet, useOutletContext, useParams } from "react-router";
import { http } from "../../api/client";
import type { Workflow } from "../../api/types";
import { useCanOperate } from "../../app/permissions";
import { Button, LoadFailed, Loading, Tabs } from "../../components";
import { StartRunDialog } from "../runs/StartRunDialog";
import { ExportDialog } from "./ExportDialog";

/** What a workflow's tabs share: the workflow as last read, a way to replace it after a save, and a re-read. */
export interface WorkflowContext {
  workspace: string;
  workflow: Workflow;
  setWorkflow: (workflow: Workflow) => void;
  reload: () => void;
}

export const useWorkflow = () => useOutletContext<WorkflowContext>();

export const workflowPath = (workspace: string, workflow: string) =>
  `/api/v1/workspaces/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(workflow)}`;

/** A workflow with its tabs: configuration, builder, runs, analytics, related, versions. */
export function WorkflowPage() {
  const { workspace = "", workflow: name = "" } = useParams();
  const [workflow, setWorkflow] = useState<Workflow | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reloads, setReloads] = useState(0);
  const [starting, setStarting] = useState(false);
  const [exporting, setExporting] = useState(false);
  const canOperate = useCanOperate(workspace);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    const abort = new AbortController();
    http.get<Workflow>(workflowPath(workspace, name), { signal: abort.signal })
      .then((w) => { setWorkflow(w); setError(null); })
      .catch((e: unknown) => { if (!abort.signal.aborted) setError(e); });
    return () => abort.abort();
  }, [workspace, name, reloads]);

  if (error != null && !workflow) {
    return (
      <LoadFailed error={error} onRetry={reload} />
    );
  }
  if (!workflow) return <Loading label="Loading the workflow…" />;

  const base = `/w/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(name)}`;
  const context: WorkflowContext = { workspace, workflow, setWorkflow, reload };
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>{workflow.title || workflow.name}</h1>
          <p className="muted">
            <code>{workflow.name}</code> · version {workflow.version}
            {workflow.status === "deleted" ? " · in the bin" : workflow.isActive ? " · active" : " · inactive"}
          </p>
        </div>
        <div className="page-actions">
          <Button onClick={() => setExporting(true)}>Export</Button>
          {canOperate && workflow.status !== "deleted" && <Button variant="primary" onClick={() => setStarting(true)}>Start run</Button>}
        </div>
      </header>
      <Tabs label="Workflow" tabs={[
        { to: base, label: "Configuration", end: true },
        { to: `${base}/builder`, label: "Builder" },
        { to: `${base}/runs`, label: "Runs" },
        { to: `${base}/analytics`, label: "Analytics" },
        { to: `${base}/related`, label: "Related" },
        { to: `${base}/versions`, label: "Versions" },
      ]} />
      <Outlet context={context} />
      <StartRunDialog workspace={workspace} workflow={workflow} open={starting} onClose={() => setStarting(false)} />
      <ExportDialog workspace={workspace} open={exporting} onClose={() => setExporting(false)} target={{ workflow: workflow.name, label: workflow.title || workflow.name }} />
    </div>
  );
}
