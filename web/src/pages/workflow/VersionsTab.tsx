import { diffLines } from "diff";
import { useEffect, useMemo, useState } from "react";
import type { Page } from "../../api/client";
import type { Workflow } from "../../api/types";
import { workflowsApi, type FieldChange, type WorkflowDiff, type WorkflowVersion, type WorkflowVersionSummary } from "../../api/workflows";
import { useCanEdit } from "../../app/permissions";
import { Button, Dialog, Loading, ProblemBanner, Select, Table, Time, useSubmission, useToast, type Column } from "../../components";
import { useWorkflow } from "./WorkflowPage";

const changeLabels: Record<string, string> = {
  created: "Created", updated: "Updated", renamed: "Renamed", activated: "Activated", deactivated: "Deactivated",
  reverted: "Reverted", imported: "Imported",
};

const show = (value: unknown) => (value === undefined ? "—" : JSON.stringify(value));

/** Every saved version of the workflow: look at one, compare two (the API's field diff and a line diff), revert to one. */
export function VersionsTab() {
  const { workspace, workflow, setWorkflow } = useWorkflow();
  const canEdit = useCanEdit(workspace) && workflow.status !== "deleted";
  const toast = useToast();
  const [link, setLink] = useState<string | null>(null);
  const [page, setPage] = useState<Page<WorkflowVersionSummary> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const [viewing, setViewing] = useState<number | null>(null);
  const [reverting, setReverting] = useState<WorkflowVersionSummary | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    workflowsApi.versions(workspace, workflow.id, link, abort.signal)
      .then((result) => { setPage(result); setError(null); })
      .catch((e: unknown) => { if (!abort.signal.aborted) setError(e); });
    return () => abort.abort();
  }, [workspace, workflow.id, workflow.version, link]);

  // Compare the latest version with the one before it until the person picks others.
  useEffect(() => {
    setTo(workflow.version);
    setFrom(workflow.version > 1 ? workflow.version - 1 : null);
    setViewing(null);
  }, [workflow.version]);

  const columns: Column<WorkflowVersionSummary>[] = [
    {
      key: "version", header: "Version", cell: (v) => (
        <span>v{v.version}{v.version === workflow.version && <span className="version-current">current</span>}</span>
      ),
    },
    { key: "change", header: "Change", cell: (v) => changeLabels[v.change] ?? v.change },
    { key: "name", header: "Name", cell: (v) => <span>{v.title}{v.title !== v.name && <code className="muted"> {v.name}</code>}</span> },
    { key: "by", header: "By", cell: (v) => v.createdBy?.name ?? <span className="muted">—</span> },
    { key: "at", header: "When", cell: (v) => <Time value={v.createdAt} /> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, cell: (v) => (
        <div className="row-actions">
          <Button variant="ghost" aria-label={`View version ${v.version}`} onClick={() => setViewing(v.version)}>View</Button>
          {v.version > 1 && (
            <Button variant="ghost" aria-label={`Compare version ${v.version} with the one before`} onClick={() => { setFrom(v.version - 1); setTo(v.version); setViewing(null); }}>Diff</Button>
          )}
          {canEdit && v.version !== workflow.version && (
            <Button variant="ghost" aria-label={`Revert to version ${v.version}`} onClick={() => setReverting(v)}>Revert…</Button>
          )}
        </div>
      ),
    },
  ];

  const numbers = Array.from({ length: workflow.version }, (_, i) => workflow.version - i);
  const options = numbers.map((n) => ({ value: String(n), label: `v${n}${n === workflow.version ? " (current)" : ""}` }));

  return (
    <div className="versions">
      <section aria-label="Versions" className="stack">
        <p className="muted">Every change saves a version; a revert saves an old version's definition again as the newest, so nothing is lost.</p>
        {error != null && <ProblemBanner error={error} />}
        {!page && error == null && <Loading label="Loading versions…" />}
        {page && (
          <>
            <Table caption="Versions" columns={columns} rows={page.results} rowKey={(v) => String(v.version)} />
            {(page.next || page.previous) && (
              <nav className="pager" aria-label="Pages of versions">
                <Button disabled={!page.previous} onClick={() => setLink(page.previous)}>← Newer</Button>
                <Button disabled={!page.next} onClick={() => setLink(page.next)}>Older →</Button>
              </nav>
            )}
          </>
        )}
      </section>

      <section aria-label={viewing ? `Version ${viewing}` : "Compare versions"} className="stack">
        {viewing ? (
          <VersionView version={viewing} onClose={() => setViewing(null)} />
        ) : workflow.version < 2 ? (
          <p className="muted">There is only one version so far. Change the workflow (in the builder or the configuration) to compare versions here.</p>
        ) : (
          <>
            <div className="diff-controls">
              <Select label="From" value={String(from ?? "")} options={options} onChange={(e) => setFrom(Number(e.target.value))} />
              <Select label="To" value={String(to ?? "")} options={options} onChange={(e) => setTo(Number(e.target.value))} />
            </div>
            {from != null && to != null && <DiffView from={from} to={to} />}
          </>
        )}
      </section>

      <RevertDialog target={reverting} onClose={() => setReverting(null)} onReverted={(saved, target) => {
        setReverting(null);
        setWorkflow(saved);
        toast.success(`Reverted to version ${target}: saved as version ${saved.version}.`);
      }} />
    </div>
  );
}

function VersionView({ version, onClose }: { version: number; onClose: () => void }) {
  const { workspace, workflow } = useWorkflow();
  const [found, setFound] = useState<WorkflowVersion | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const abort = new AbortController();
    setFound(null);
    workflowsApi.version(workspace, workflow.id, version, abort.signal)
      .then((v) => { setFound(v); setError(null); })
      .catch((e: unknown) => { if (!abort.signal.aborted) setError(e); });
    return () => abort.abort();
  }, [workspace, workflow.id, version]);
  return (
    <>
      <div className="page-header">
        <h2>Version {version}</h2>
        <Button onClick={onClose}>Back to the comparison</Button>
      </div>
      {error != null && <ProblemBanner error={error} />}
      {!found && error == null && <Loading label="Loading the version…" />}
      {found && (
        <>
          <p className="muted">{changeLabels[found.change] ?? found.change}{found.createdBy && ` by ${found.createdBy.name}`} · <Time value={found.createdAt} /></p>
          <pre className="code" aria-label={`Definition of version ${version}`}>{JSON.stringify(found.definition, null, 2)}</pre>
        </>
      )}
    </>
  );
}

function DiffView({ from, to }: { from: number; to: number }) {
  const { workspace, workflow } = useWorkflow();
  const [diff, setDiff] = useState<WorkflowDiff | null>(null);
  const [texts, setTexts] = useState<[string, string] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const abort = new AbortController();
    setDiff(null);
    setTexts(null);
    setError(null);
    Promise.all([
      workflowsApi.diff(workspace, workflow.id, from, to, abort.signal),
      workflowsApi.version(workspace, workflow.id, from, abort.signal),
      workflowsApi.version(workspace, workflow.id, to, abort.signal),
    ]).then(([d, a, b]) => {
      setDiff(d);
      setTexts([JSON.stringify(a.definition, null, 2), JSON.stringify(b.definition, null, 2)]);
    }).catch((e: unknown) => { if (!abort.signal.aborted) setError(e); });
    return () => abort.abort();
  }, [workspace, workflow.id, from, to]);

  if (error != null) return <ProblemBanner error={error} />;
  if (!diff || !texts) return <Loading label="Comparing…" />;
  const columns: Column<FieldChange>[] = [
    { key: "path", header: "Field", cell: (c) => <code>{c.path}</code> },
    { key: "op", header: "Change", cell: (c) => c.op },
    { key: "before", header: `v${from}`, cell: (c) => <code className="diff-remove">{show(c.before)}</code> },
    { key: "after", header: `v${to}`, cell: (c) => <code className="diff-add">{show(c.after)}</code> },
  ];
  return (
    <>
      <h2>v{from} → v{to}</h2>
      {diff.changes.length === 0
        ? <p className="muted">These versions have the same definition.</p>
        : <Table caption={`Changes from version ${from} to ${to}`} columns={columns} rows={diff.changes} rowKey={(c) => `${c.op}:${c.path}`} />}
      <details>
        <summary>The whole definition, line by line</summary>
        <LineDiff before={texts[0]} after={texts[1]} />
      </details>
    </>
  );
}

/** A unified line diff with three lines of context around each change. */
function LineDiff({ before, after }: { before: string; after: string }) {
  const lines = useMemo(() => {
    const out: { kind: "add" | "remove" | "same"; text: string }[] = [];
    for (const part of diffLines(before, after)) {
      const kind = part.added ? "add" : part.removed ? "remove" : "same";
      for (const text of part.value.replace(/\n$/, "").split("\n")) out.push({ kind, text });
    }
    const near = out.map((_, i) => out.slice(Math.max(0, i - 3), i + 4).some((l) => l.kind !== "same"));
    const shown: ({ kind: "add" | "remove" | "same"; text: string } | { kind: "gap"; text: string })[] = [];
    out.forEach((line, i) => {
      if (near[i]) shown.push(line);
      else if (shown.at(-1)?.kind !== "gap") shown.push({ kind: "gap", text: "…" });
    });
    return shown;
  }, [before, after]);
  return (
    <pre className="diff-lines" aria-label="Line diff">
      {lines.map((l, i) => (
        <span key={i} className={`diff-line${l.kind === "add" ? " diff-add" : l.kind === "remove" ? " diff-remove" : l.kind === "gap" ? " diff-gap" : ""}`}>
          {l.kind === "add" ? "+ " : l.kind === "remove" ? "- " : "  "}{l.text}
        </span>
      ))}
    </pre>
  );
}

function RevertDialog({ target, onClose, onReverted }: {
  target: WorkflowVersionSummary | null;
  onClose: () => void;
  onReverted: (saved: Workflow, target: number) => void;
}) {
  const { workspace, workflow } = useWorkflow();
  const { busy, error, setError, run } = useSubmission();
  useEffect(() => { setError(null); }, [target]);
  const revert = async () => {
    if (!target) return;
    await run(async () => {
      onReverted(await workflowsApi.revert(workspace, workflow.id, target.version, workflow.version), target.version);
    });
  };
  return (
    <Dialog open={target != null} title={`Revert to version ${target?.version ?? ""}?`} onClose={onClose}>
      <div className="stack">
        {error != null && <ProblemBanner error={error} />}
        <p>
          Version {target?.version}'s definition becomes the workflow's again, saved as version {workflow.version + 1}.
          The versions in between stay in the history, so this can be undone by reverting again.
        </p>
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" busy={busy} onClick={() => void revert()}>Revert</Button>
        </div>
      </div>
    </Dialog>
  );
}
