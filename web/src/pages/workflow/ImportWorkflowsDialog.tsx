import { useEffect, useId, useMemo, useRef, useState, type ChangeEvent } from "react";
import { Link } from "react-router";
import { admin } from "../../api/admin";
import { personasApi } from "../../api/personas";
import type { FieldChange, ImportItemResult, ImportResponse } from "../../api/types";
import { workflowsApi, type ImportMode } from "../../api/workflows";
import { Button, type Column, Dialog, ProblemBanner, Select, Table, TextArea, useSubmission } from "../../components";
import { compactMapping, documentFormat, mappingKinds, references, withMapping, type MappingKind } from "./transfer";

interface Row {
  key: number;
  from: string;
  to: string;
  /** Offered from the document and not touched since: it goes again when the document stops naming it. */
  offered: boolean;
}

type Rows = Record<MappingKind, Row[]>;

const kindNames: Record<MappingKind, { plural: string; one: string }> = {
  personas: { plural: "Personas", one: "Persona" },
  secrets: { plural: "Secrets", one: "Secret" },
  teams: { plural: "Teams", one: "Team" },
};

const noRows = (): Rows => ({ personas: [], secrets: [], teams: [] });
let nextKey = 1;

/**
 * Imports an export document into this workspace (the dev → prod promotion path): a file read in the browser or
 * pasted text, JSON or YAML; a mapping of the source workspace's persona, secret and team names to this one's; the
 * mode; *Check* (the API's dry run) and *Import*, each answered with the API's report per workflow.
 */
export function ImportWorkflowsDialog({ workspace, open, onClose, onImported }: { workspace: string; open: boolean; onClose: () => void; onImported: () => void }) {
  const [text, setText] = useState("");
  const [file, setFile] = useState<string | null>(null);
  const [mode, setMode] = useState<ImportMode>("create-only");
  const [rows, setRows] = useState<Rows>(noRows);
  const [report, setReport] = useState<ImportResponse | null>(null);
  const [pending, setPending] = useState<"check" | "import" | null>(null);
  const [suggestions, setSuggestions] = useState<Record<MappingKind, string[]>>({ personas: [], secrets: [], teams: [] });
  const { busy, error, setError, reset, run } = useSubmission();

  useEffect(() => {
    if (!open) return;
    setText(""); setFile(null); setMode("create-only"); setRows(noRows()); setReport(null); reset();
    // This workspace's names, offered in the mapping's right-hand column (the first page of each is enough to pick from).
    const abort = new AbortController();
    const names = (load: Promise<{ results: { name: string }[] }>) => load.then((p) => p.results.map((r) => r.name)).catch(() => []);
    void Promise.all([
      names(personasApi.list(workspace, {}, { limit: 100 }, abort.signal)),
      names(admin.secrets(workspace, {}, abort.signal)),
      names(admin.teams(workspace, null, abort.signal)),
    ]).then(([personas, secrets, teams]) => { if (!abort.signal.aborted) setSuggestions({ personas, secrets, teams }); });
    return () => abort.abort();
  }, [open, workspace, reset]);

  // The names the document references are offered as rows to map; the document's own mapping (JSON) fills them in.
  const found = useMemo(() => references(text), [text]);
  const foundKey = JSON.stringify(found);
  useEffect(() => {
    setRows((current) => {
      const next = noRows();
      for (const kind of mappingKinds) {
        const named = new Set([...found.names[kind], ...Object.keys(found.mapping[kind])]);
        next[kind] = current[kind].filter((r) => !r.offered || named.has(r.from));
        for (const from of named) {
          if (!next[kind].some((r) => r.from === from)) next[kind].push({ key: nextKey++, from, to: found.mapping[kind][from] ?? "", offered: true });
        }
      }
      return next;
    });
    // foundKey stands for found: the rows follow what the document names, not each new parse of the same text.
  }, [foundKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const changed = () => setReport(null);
  const editRows = (kind: MappingKind, update: (rows: Row[]) => Row[]) => { setRows((current) => ({ ...current, [kind]: update(current[kind]) })); changed(); };

  const readFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const chosen = event.target.files?.[0];
    if (!chosen) return;
    try {
      setText(await chosen.text());
      setFile(chosen.name);
      setError(null);
      changed();
    } catch (e) {
      setError(e);
    }
  };

  const submit = async (dryRun: boolean) => {
    setPending(dryRun ? "check" : "import");
    setReport(null);
    await run(async () => {
      const body = withMapping(text, compactMapping(rows));
      const result = await workflowsApi.import(workspace, { text: body, format: documentFormat(body) }, { mode, dryRun });
      setReport(result);
      if (!result.dryRun && result.summary.create + result.summary.update > 0) onImported();
    });
    setPending(null);
  };

  const empty = text.trim() === "";
  return (
    <Dialog open={open} title="Import workflows" onClose={onClose}>
      <form className="stack form-wide" onSubmit={(e) => { e.preventDefault(); void submit(true); }}>
        <div className="field">
          <label htmlFor="workflow-import-file">File</label>
          <input id="workflow-import-file" type="file" accept=".json,.yaml,.yml,application/json,application/yaml"
            aria-describedby="workflow-import-file-hint" onChange={(e) => void readFile(e)} />
          <div id="workflow-import-file-hint" className="field-hint">
            An export of Cadre, JSON or YAML (a workspace's list or one workflow). It is read here, in the browser, into the document below.
          </div>
        </div>
        <TextArea label="Document" className="field-code" rows={10} spellCheck={false} value={text}
          hint={file ? `From ${file}; edit it here if you need to.` : "Or paste the export here."}
          onChange={(e) => { setText(e.target.value); setFile(null); changed(); }} />

        <fieldset className="fieldset">
          <legend>Mapping</legend>
          <p className="field-hint">
            Names in the document that are called something else in {workspace}: the import renames them before anything is checked.
            A row left blank on the right keeps its name.
          </p>
          {mappingKinds.map((kind) => (
            <MappingRows key={kind} kind={kind} workspace={workspace} rows={rows[kind]} suggestions={suggestions[kind]} onChange={(update) => editRows(kind, update)} />
          ))}
        </fieldset>

        <Select label="When a workflow of the same name exists" value={mode} onChange={(e) => { setMode(e.target.value as ImportMode); changed(); }} options={[
          { value: "create-only", label: "Report it as an error (create only)" },
          { value: "upsert", label: "Update it to the imported definition (upsert)" },
        ]} />

        {report && <ImportReport workspace={workspace} report={report} />}
        {/* Next to the buttons, where the eye is after pressing one; the dialog is taller than most screens. */}
        {error != null && <ProblemBanner error={error} />}

        <div className="dialog-actions">
          <Button onClick={onClose}>{report && !report.dryRun ? "Close" : "Cancel"}</Button>
          <Button type="submit" busy={busy && pending === "check"} disabled={empty || busy}>Check</Button>
          <Button variant="primary" busy={busy && pending === "import"} disabled={empty || busy} onClick={() => void submit(false)}>Import</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** One kind's rows of the mapping: the name in the document → the name here, with this workspace's names offered. */
function MappingRows({ kind, workspace, rows, suggestions, onChange }: {
  kind: MappingKind;
  workspace: string;
  rows: Row[];
  suggestions: string[];
  onChange: (update: (rows: Row[]) => Row[]) => void;
}) {
  const { plural, one } = kindNames[kind];
  const listId = `${useId()}-names`;
  const set = (key: number, member: "from" | "to", value: string) =>
    onChange((all) => all.map((r) => (r.key === key ? { ...r, [member]: value, offered: false } : r)));
  return (
    <div className="mapping-kind" role="group" aria-label={plural}>
      <div className="mapping-kind-header">
        <h3>{plural}</h3>
        <Button variant="ghost" onClick={() => onChange((all) => [...all, { key: nextKey++, from: "", to: "", offered: false }])}>Add {one.toLowerCase()}</Button>
      </div>
      {rows.length === 0
        ? <p className="muted">No names to map.</p>
        : (
          <ul className="mapping-rows">
            {rows.map((r, i) => {
              const name = `${one} ${r.from || i + 1}`;
              return (
                <li key={r.key} className="mapping-row">
                  <input type="text" value={r.from} spellCheck={false} aria-label={`${one} ${i + 1}: name in the document`}
                    onChange={(e) => set(r.key, "from", e.target.value)} />
                  <span aria-hidden="true">→</span>
                  <input type="text" value={r.to} spellCheck={false} list={listId} placeholder="the same name" aria-label={`${name}: name in ${workspace}`}
                    onChange={(e) => set(r.key, "to", e.target.value)} />
                  <Button variant="ghost" aria-label={`Remove ${name.toLowerCase()}`} onClick={() => onChange((all) => all.filter((x) => x.key !== r.key))}>Remove</Button>
                </li>
              );
            })}
          </ul>
        )}
      <datalist id={listId}>{suggestions.map((s) => <option key={s} value={s} />)}</datalist>
    </div>
  );
}

const actionText: Record<ImportItemResult["action"], { done: string; would: string }> = {
  create: { done: "created", would: "create" },
  update: { done: "updated", would: "update" },
  unchanged: { done: "unchanged", would: "unchanged" },
  error: { done: "error", would: "error" },
};

const show = (value: unknown) => (value === undefined ? "—" : JSON.stringify(value));

/** The API's report: the counts, then each workflow with its action, its field changes, or its problem. */
function ImportReport({ workspace, report }: { workspace: string; report: ImportResponse }) {
  const { summary } = report;
  const ref = useRef<HTMLElement>(null);
  useEffect(() => { ref.current?.scrollIntoView({ block: "nearest" }); }, [report]);
  const columns: Column<FieldChange>[] = [
    { key: "path", header: "Field", cell: (c) => <code>{c.path}</code> },
    { key: "op", header: "Change", cell: (c) => c.op },
    { key: "before", header: "Before", cell: (c) => <code className="diff-remove">{show(c.before)}</code> },
    { key: "after", header: "After", cell: (c) => <code className="diff-add">{show(c.after)}</code> },
  ];
  return (
    <section ref={ref} className="import-report" aria-label="Import report" tabIndex={0}>
      <p role="status">
        {report.dryRun
          ? `Would create ${summary.create}, update ${summary.update}`
          : `Created ${summary.create}, updated ${summary.update}`}
        , {summary.unchanged} unchanged, {summary.error} {summary.error === 1 ? "error" : "errors"}{report.dryRun ? " (nothing was changed yet)." : "."}
      </p>
      <ul className="import-results workflow-import-results">
        {report.results.map((r) => (
          <li key={r.index} className={r.error ? "import-error" : undefined}>
            <span className={`badge import-action import-action-${r.action}`}>{report.dryRun ? actionText[r.action].would : actionText[r.action].done}</span>{" "}
            {!report.dryRun && r.action !== "error" && r.name
              ? <Link className="strong" to={`/w/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(r.name)}`}>{r.name}</Link>
              : <strong>{r.name ?? `Item ${r.index + 1}`}</strong>}
            {r.changes && r.changes.length > 0 && (
              <Table caption={`Changes to ${r.name ?? `item ${r.index + 1}`}`} columns={columns} rows={r.changes} rowKey={(c) => `${c.op}:${c.path}`} />
            )}
            {r.error && (
              <div className="import-problem">
                <span className="strong">{r.error.title}</span>{r.error.detail && <>: {r.error.detail}</>}
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
