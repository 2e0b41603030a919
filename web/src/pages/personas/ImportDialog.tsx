import { useEffect, useState, type FormEvent } from "react";
import { personasApi, type ImportResponse } from "../../api/personas";
import { Button, Dialog, ProblemBanner, Select, useSubmission } from "../../components";

/**
 * Uploads a JSON or CSV export to the import endpoint and shows its report item by item. A dry run
 * first is offered, because an import changes personas one by one and does not roll back.
 */
export function ImportDialog({ workspace, open, onClose, onImported }: { workspace: string; open: boolean; onClose: () => void; onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [mode, setMode] = useState("create-only");
  const [dryRun, setDryRun] = useState(false);
  const { busy, error, setError, run } = useSubmission();
  const [report, setReport] = useState<ImportResponse | null>(null);

  useEffect(() => { if (open) { setFile(null); setMode("create-only"); setDryRun(false); setError(null); setReport(null); } }, [open]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    setReport(null);
    await run(async () => {
      const text = await file.text();
      const csv = file.name.toLowerCase().endsWith(".csv") || file.type === "text/csv";
      const result = await personasApi.import(workspace, { text, csv }, { mode, dryRun });
      setReport(result);
      if (!result.dryRun && result.summary.create + result.summary.update > 0) onImported();
    });
  };

  return (
    <Dialog open={open} title="Import personas" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {error != null && <ProblemBanner error={error} />}
        <div className="field">
          <label htmlFor="persona-import-file">File</label>
          <input id="persona-import-file" type="file" accept=".json,.csv,application/json,text/csv" aria-describedby="persona-import-hint"
            onChange={(e) => { setFile(e.target.files?.[0] ?? null); setReport(null); }} />
          <div id="persona-import-hint" className="field-hint">A JSON or CSV export of Cadre (or a JSON array of personas). IDs, versions and times in it are ignored.</div>
        </div>
        <Select label="When a name exists" value={mode} onChange={(e) => setMode(e.target.value)} options={[
          { value: "create-only", label: "Report it as an error (create only)" },
          { value: "upsert", label: "Update it to the imported definition (upsert)" },
        ]} />
        <label className="checkbox"><input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run: report what would change, change nothing</label>
        {report && <ImportReport report={report} />}
        <div className="dialog-actions">
          <Button onClick={onClose}>{report ? "Close" : "Cancel"}</Button>
          <Button type="submit" variant="primary" busy={busy} disabled={!file}>{dryRun ? "Check" : "Import"}</Button>
        </div>
      </form>
    </Dialog>
  );
}

function ImportReport({ report }: { report: ImportResponse }) {
  const { summary } = report;
  return (
    <section className="import-report" aria-label="Import report">
      <p role="status">
        {report.dryRun ? "Would " : ""}
        {report.dryRun ? `create ${summary.create}, update ${summary.update}` : `Created ${summary.create}, updated ${summary.update}`}
        , {summary.unchanged} unchanged, {summary.error} {summary.error === 1 ? "error" : "errors"}{report.dryRun ? " (nothing was changed)." : "."}
      </p>
      <ul className="import-results">
        {report.results.map((r) => (
          <li key={r.index} className={r.error ? "import-error" : undefined}>
            <span className="muted">#{r.index + 1}</span> <strong>{r.name ?? "(no name)"}</strong>: {r.action}
            {r.changes && r.changes.length > 0 && <span className="muted"> ({r.changes.map((c) => c.path).join(", ")})</span>}
            {r.error && (
              <div>
                {r.error.detail || r.error.title}
                {r.error.errors && (
                  <ul>{Object.entries(r.error.errors).map(([field, messages]) => <li key={field}><code>{field}</code>: {messages.join(" ")}</li>)}</ul>
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
