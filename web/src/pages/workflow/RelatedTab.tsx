import { useEffect, useState, type ReactNode } from "react";
import { Link } from "react-router";
import { analyticsApi, type PersonaVersionChange, type PersonaVersionUse, type RelatedPersona, type RelatedResponse, type RelatedRun, type RelatedWorkflow } from "../../api/analytics";
import { type Column, EmptyState, LoadFailed, Loading, Table, Time } from "../../components";
import { formatCount, formatDuration, formatRate, formatUsd } from "../analytics/format";
import { useWorkflow } from "./WorkflowPage";

/**
 * What the workflow is connected to (GET …/workflows/{id}/related): the personas it names or its runs used, with
 * how each version did; its skills and event types; the workflows it starts and that start it; its recent runs
 * with the persona versions they used; and the runs where a persona's version changed, to trace a change in results.
 */
export function RelatedTab() {
  const { workspace, workflow } = useWorkflow();
  const [data, setData] = useState<RelatedResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    analyticsApi.related(workspace, workflow.id, abort.signal)
      .then((r) => { setData(r); setError(null); })
      .catch((e: unknown) => { if (!abort.signal.aborted) setError(e); });
    return () => abort.abort();
  }, [workspace, workflow.id, workflow.version, reload]);

  if (error != null) {
    return (
      <LoadFailed error={error} onRetry={() => setReload((n) => n + 1)} />
    );
  }
  if (!data) return <Loading label="Loading what this workflow is connected to…" />;

  const w = encodeURIComponent(workspace);
  const personaNames = new Map(data.personas.map((p) => [p.id, p.name]));
  const personaLabel = (id: string, name: string | null | undefined) =>
    name ? <Link to={`/w/${w}/personas/${encodeURIComponent(name)}`}>{name}</Link> : <span className="muted" title={id}>{id} (deleted)</span>;
  const nothing = data.personas.length + data.skills.length + data.eventTypes.length + data.childWorkflows.length
    + data.parentWorkflows.length + data.recentRuns.length === 0;

  if (nothing) {
    return (
      <EmptyState title="Not connected to anything yet">
        <p>
          This tab shows the personas this workflow's steps use (and how each of their versions did), its skills, the event
          types that start it or that it emits, the workflows it starts or is started by, and its recent runs.
          Give a step a persona, a trigger or a <code>run_workflow</code> step, or start a run, and it fills in.
        </p>
      </EmptyState>
    );
  }

  const runColumns: Column<RelatedRun>[] = [
    { key: "run", header: "Run", cell: (r) => <Link to={`/w/${w}/runs/${encodeURIComponent(r.id)}`}>{r.displayId}</Link> },
    { key: "status", header: "Status", cell: (r) => <span className={`status status-${r.status}`}>{r.status}</span> },
    { key: "created", header: "Started", cell: (r) => <Time value={r.createdAt} /> },
    { key: "finished", header: "Finished", cell: (r) => <Time value={r.finishedAt} /> },
    { key: "cost", header: "Cost", cell: (r) => formatUsd(r.costUsd) },
    {
      key: "personas", header: "Persona versions", cell: (r) => r.personas.length === 0 ? <span className="muted">—</span> : (
        <ul className="chip-list">
          {r.personas.map((p) => <li key={`${p.personaId}@${p.version}`} className="chip">{personaNames.get(p.personaId) ?? p.personaId} v{p.version}</li>)}
        </ul>
      ),
    },
  ];

  const changeColumns: Column<PersonaVersionChange>[] = [
    { key: "persona", header: "Persona", cell: (c) => personaLabel(c.personaId, c.personaName) },
    { key: "change", header: "Version", cell: (c) => <>v{c.fromVersion} → <strong>v{c.toVersion}</strong></> },
    { key: "run", header: "First run on it", cell: (c) => <Link to={`/w/${w}/runs/${encodeURIComponent(c.runId)}`}>{c.runDisplayId}</Link> },
    { key: "at", header: "When", cell: (c) => <Time value={c.at} /> },
    { key: "rate", header: "Success before → after", cell: (c) => `${formatRate(c.before?.successRate)} → ${formatRate(c.after?.successRate)}` },
    { key: "cost", header: "Cost a run before → after", cell: (c) => `${costPerRun(c.before)} → ${costPerRun(c.after)}` },
  ];

  return (
    <div className="stack">
      <section className="insight-section" aria-labelledby="related-personas">
        <h2 id="related-personas">Personas</h2>
        {data.personas.length === 0 ? <p className="muted">No step names a persona, and no run has used one.</p> : data.personas.map((p) => (
          <PersonaCard key={p.id} persona={p} label={personaLabel(p.id, p.name)} />
        ))}
      </section>

      {data.versionChanges.length > 0 && (
        <section className="insight-section" aria-labelledby="related-changes">
          <h2 id="related-changes">Persona version changes</h2>
          <p className="muted">Runs that used another version of a persona than the run before them: where an edit reached this workflow, and how results moved.</p>
          <Table caption="Persona version changes" columns={changeColumns} rows={data.versionChanges} rowKey={(c) => `${c.runId}-${c.personaId}`} />
        </section>
      )}

      <div className="insight-grid">
        <section className="insight-card" aria-labelledby="related-skills">
          <h2 id="related-skills">Skills</h2>
          {data.skills.length === 0 ? <p className="muted">None.</p> : (
            <ul className="chip-list">{data.skills.map((s) => <li key={s}><Link className="chip" to={`/w/${w}/skills`}>{s}</Link></li>)}</ul>
          )}
        </section>
        <section className="insight-card" aria-labelledby="related-events">
          <h2 id="related-events">Event types</h2>
          {data.eventTypes.length === 0 ? <p className="muted">None: no event starts it, and it emits or waits for none.</p> : (
            <ul className="chip-list">
              {data.eventTypes.map((t) => <li key={t}><Link className="chip" to={`/w/${w}/events?type=${encodeURIComponent(t)}`}>{t}</Link></li>)}
            </ul>
          )}
        </section>
        <WorkflowList title="Workflows it starts" id="related-children" workspace={workspace} rows={data.childWorkflows} none="No run_workflow step." />
        <WorkflowList title="Workflows that start it" id="related-parents" workspace={workspace} rows={data.parentWorkflows} none="No other workflow's run_workflow step names it." />
      </div>

      <section className="insight-section" aria-labelledby="related-runs">
        <h2 id="related-runs">Recent runs</h2>
        {data.recentRuns.length === 0 ? <p className="muted">No runs yet.</p>
          : <Table caption="Recent runs" columns={runColumns} rows={data.recentRuns} rowKey={(r) => r.id} />}
      </section>
    </div>
  );
}

function costPerRun(use: PersonaVersionUse | null): string {
  return use && use.runs > 0 ? formatUsd(use.costUsd / use.runs) : "—";
}

function PersonaCard({ persona, label }: { persona: RelatedPersona; label: ReactNode }) {
  const columns: Column<PersonaVersionUse>[] = [
    { key: "version", header: "Version", cell: (v) => <>v{v.version}{v.version === persona.currentVersion && <span className="badge">current</span>}</> },
    { key: "runs", header: "Runs", cell: (v) => formatCount(v.runs) },
    { key: "rate", header: "Success", cell: (v) => formatRate(v.successRate) },
    { key: "duration", header: "Avg duration", cell: (v) => formatDuration(v.averageDurationSeconds) },
    { key: "cost", header: "Cost", cell: (v) => formatUsd(v.costUsd) },
    { key: "calls", header: "Model calls", cell: (v) => formatCount(v.modelCalls) },
    { key: "first", header: "First seen", cell: (v) => <Time value={v.firstSeen} /> },
    { key: "last", header: "Last seen", cell: (v) => <Time value={v.lastSeen} /> },
  ];
  return (
    <article className="insight-card stack" aria-label={`Persona ${persona.name ?? persona.id}`}>
      <div>
        <strong>{label}</strong>
        {persona.currentVersion != null && <span className="muted"> · version {persona.currentVersion} now</span>}
        {persona.named ? <span className="badge">named by a step</span> : <span className="badge">used by runs only</span>}
      </div>
      {persona.versions.length === 0 ? <p className="muted">No run has used it yet.</p>
        : <Table caption={`Versions of ${persona.name ?? persona.id} in this workflow's runs`} columns={columns} rows={persona.versions} rowKey={(v) => String(v.version)} />}
    </article>
  );
}

function WorkflowList({ title, id, workspace, rows, none }: { title: string; id: string; workspace: string; rows: RelatedWorkflow[]; none: string }) {
  return (
    <section className="insight-card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {rows.length === 0 ? <p className="muted">{none}</p> : (
        <ul>
          {rows.map((r) => (
            <li key={r.id}>
              <Link to={`/w/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(r.name)}`}>{r.name}</Link>
              <span className="muted"> · step {r.steps.join(", ")}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
