import { diffLines, diffWords } from "diff";
import { useEffect, useState } from "react";
import type { Page } from "../../api/client";
import { personasApi, type Persona, type PersonaDiff, type PersonaVersionSummary } from "../../api/personas";
import { Button, Dialog, Loading, ProblemBanner, Select, Table, Time, useSubmission, useToast, type Column } from "../../components";

function show(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

/** A before/after of one field: long texts line by line, short values word by word. */
function ValueDiff({ before, after }: { before: unknown; after: unknown }) {
  const a = show(before);
  const b = show(after);
  const parts = a.includes("\n") || b.includes("\n") ? diffLines(a, b) : diffWords(a, b);
  return (
    <pre className="text-diff">
      {parts.map((p, i) => (p.added
        ? <ins key={i}>{p.value}</ins>
        : p.removed ? <del key={i}>{p.value}</del> : <span key={i}>{p.value}</span>))}
    </pre>
  );
}

/** The persona's history: every version, what changed between two, and reverting to one. */
export function VersionsTab({ workspace, persona, canEdit, onReverted }: {
  workspace: string; persona: Persona; canEdit: boolean; onReverted: (persona: Persona) => void;
}) {
  const [page, setPage] = useState<Page<PersonaVersionSummary> | null>(null);
  const [link, setLink] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [from, setFrom] = useState(Math.max(1, persona.version - 1));
  const [to, setTo] = useState(persona.version);
  const [diff, setDiff] = useState<PersonaDiff | null>(null);
  const [diffError, setDiffError] = useState<unknown>(null);
  const [reverting, setReverting] = useState<number | null>(null);
  const { busy, error: revertError, setError: setRevertError, run } = useSubmission();
  const toast = useToast();

  useEffect(() => { setTo(persona.version); setFrom(Math.max(1, persona.version - 1)); }, [persona.version]);

  useEffect(() => {
    let live = true;
    personasApi.versions(workspace, persona.id, link)
      .then((p) => { if (live) { setPage(p); setError(null); } })
      .catch((e: unknown) => { if (live) setError(e); });
    return () => { live = false; };
  }, [workspace, persona.id, persona.version, link]);

  useEffect(() => {
    if (from === to) { setDiff({ from, to, changes: [] }); setDiffError(null); return; }
    let live = true;
    personasApi.diff(workspace, persona.id, from, to)
      .then((d) => { if (live) { setDiff(d); setDiffError(null); } })
      .catch((e: unknown) => { if (live) setDiffError(e); });
    return () => { live = false; };
  }, [workspace, persona.id, from, to]);

  const revert = async () => {
    if (reverting === null) return;
    await run(async () => {
      const result = await personasApi.revert(workspace, persona.id, reverting, persona.version);
      setReverting(null);
      toast.success(`Version ${reverting} published again as version ${result.version}.`);
      onReverted(result);
    });
  };

  const versionOptions = Array.from({ length: persona.version }, (_, i) => persona.version - i).map((v) => ({ value: String(v), label: `Version ${v}` }));
  const columns: Column<PersonaVersionSummary>[] = [
    { key: "version", header: "Version", cell: (v) => <span className="strong">v{v.version}{v.version === persona.version && <span className="badge badge-current">current</span>}</span> },
    { key: "change", header: "Change", cell: (v) => <span className={`badge change-${v.change}`}>{v.change}</span> },
    { key: "by", header: "By", cell: (v) => v.createdBy?.name ?? <span className="muted">—</span> },
    { key: "at", header: "When", cell: (v) => <Time value={v.createdAt} /> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, cell: (v) => (
        <div className="row-actions">
          {v.version > 1 && <Button variant="ghost" onClick={() => { setFrom(v.version - 1); setTo(v.version); }} aria-label={`Show what version ${v.version} changed`}>What changed</Button>}
          {canEdit && v.version !== persona.version && <Button variant="ghost" onClick={() => { setRevertError(null); setReverting(v.version); }} aria-label={`Revert to version ${v.version}`}>Revert to this</Button>}
        </div>
      ),
    },
  ];

  return (
    <div className="stack">
      <section aria-labelledby="diff-heading" className="stack">
        <div className="diff-controls">
          <h2 id="diff-heading">Compare versions</h2>
          <Select label="From" value={String(from)} options={versionOptions} onChange={(e) => setFrom(Number(e.target.value))} />
          <Select label="To" value={String(to)} options={versionOptions} onChange={(e) => setTo(Number(e.target.value))} />
        </div>
        {diffError != null && <ProblemBanner error={diffError} />}
        {diffError == null && !diff && <Loading label="Comparing…" />}
        {diffError == null && diff && diff.changes.length === 0 && <p className="muted">{from === to ? "Pick two different versions." : `Versions ${from} and ${to} are the same.`}</p>}
        {diffError == null && diff && diff.changes.length > 0 && (
          <ul className="diff-list" aria-label={`Changes from version ${diff.from} to ${diff.to}`}>
            {diff.changes.map((c) => (
              <li key={`${c.op}:${c.path}`} className={`diff-item diff-${c.op}`}>
                <div><code className="strong">{c.path}</code> <span className="badge">{c.op}</span></div>
                <ValueDiff before={c.before} after={c.after} />
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="history-heading" className="stack">
        <h2 id="history-heading">History</h2>
        {error != null && <ProblemBanner error={error} />}
        {error == null && !page && <Loading label="Loading versions…" />}
        {page && (
          <>
            <Table caption="Versions" columns={columns} rows={page.results} rowKey={(v) => String(v.version)} />
            {(page.next || page.previous) && (
              <nav className="pager" aria-label="Version pages">
                <Button disabled={!page.previous} onClick={() => setLink(page.previous)}>← Newer</Button>
                <Button disabled={!page.next} onClick={() => setLink(page.next)}>Older →</Button>
              </nav>
            )}
          </>
        )}
      </section>

      <Dialog open={reverting !== null} title={`Revert to version ${reverting ?? ""}?`} onClose={() => setReverting(null)}>
        <div className="stack">
          {revertError != null && <ProblemBanner error={revertError} />}
          <p>Version {reverting}'s definition is published as version {persona.version + 1}. Version {persona.version} stays in the history.</p>
          <div className="dialog-actions">
            <Button onClick={() => setReverting(null)}>Cancel</Button>
            <Button variant="primary" busy={busy} onClick={() => void revert()}>Revert</Button>
          </div>
        </div>
      </Dialog>
    </div>
  );
}
