import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useParams } from "react-router";
import { blocks, guardrailKinds, redactableKinds, type Guardrail, type GuardrailRequest } from "../../api/blocks";
import { Button, Dialog, EmptyState, Input, JsonField, ProblemBanner, Select, Table, TextArea, Time, parseJson, useSubmission, useToast, type Column } from "../../components";
import { useCanEdit } from "../../app/permissions";
import { ConfirmDialog, ListView, errorsUnder, parseTags, plural, usePagedList } from "../admin/shared";

const kindLabels: Record<string, string> = {
  max_length: "Maximum length",
  deny_pattern: "Deny a pattern",
  require_pattern: "Require a pattern",
  deny_topic: "Deny a topic",
  json_schema: "JSON schema",
  pii: "Personal data (PII)",
  llm_judge: "LLM judge",
};

const piiTypes = [
  { value: "email", label: "E-mail addresses" },
  { value: "phone", label: "Phone numbers" },
  { value: "card", label: "Card numbers" },
];

/** What a guardrail's config says, in a few words, for the list. */
function summary(g: Guardrail): string {
  const c = g.config;
  switch (g.kind) {
    case "max_length": return `over ${String(c.max)} characters`;
    case "deny_pattern": case "require_pattern": return `/${String(c.pattern)}/`;
    case "deny_topic": return `“${String(c.phrase)}”`;
    case "pii": return Array.isArray(c.types) ? c.types.join(", ") : "email, phone, card";
    case "llm_judge": return `judged by ${String(c.persona)}`;
    case "json_schema": return "follows a schema";
    default: return "";
  }
}

/** The workspace's guardrails: checks on what goes into a model and what comes out, by kind, each blocking, redacting or warning. */
export function GuardrailsPage() {
  const { workspace = "" } = useParams();
  const canEdit = useCanEdit(workspace);
  const toast = useToast();
  const [editing, setEditing] = useState<Guardrail | "new" | null>(null);
  const [deleting, setDeleting] = useState<Guardrail | null>(null);
  const load = useCallback((link: string | null, signal: AbortSignal) => blocks.guardrails(workspace, link, signal), [workspace]);
  const list = usePagedList(load, workspace);

  const columns: Column<Guardrail>[] = [
    { key: "name", header: "Guardrail", cell: (g) => <div className="cell-name"><code className="strong">{g.name}</code>{g.description && <span className="muted">{g.description}</span>}</div> },
    { key: "kind", header: "Checks", cell: (g) => <div className="cell-name"><span>{kindLabels[g.kind] ?? g.kind}</span><span className="muted">{summary(g)}</span></div> },
    { key: "stage", header: "Stage", cell: (g) => <span className="badge">{g.stage}</span> },
    { key: "action", header: "Action", cell: (g) => <span className={`badge badge-action-${g.action}`}>{g.action}</span> },
    { key: "tags", header: "Tags", cell: (g) => (g.tags.length ? g.tags.map((t) => <span key={t} className="badge tag">{t}</span>) : <span className="muted">—</span>) },
    { key: "updated", header: "Updated", cell: (g) => <Time value={g.updatedAt} /> },
    ...(canEdit ? [{
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (g: Guardrail) => (
        <div className="row-actions">
          <Button onClick={() => setEditing(g)} aria-label={`Edit ${g.name}`}>Edit</Button>
          <Button variant="ghost" onClick={() => setDeleting(g)} aria-label={`Delete ${g.name}`}>Delete</Button>
        </div>
      ),
    }] : []),
  ];

  const newButton = canEdit && <Button variant="primary" onClick={() => setEditing("new")}>New guardrail</Button>;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Guardrails</h1>
          {list.page && <p className="muted" aria-live="polite">{plural(list.page.count, "guardrail")}</p>}
        </div>
        <div className="page-actions">{newButton}</div>
      </header>
      <p className="page-intro muted">
        Personas name guardrails in their settings, steps in their <code>guardrails</code>, and workflows select them by tag.
        A blocking finding fails the step with <code>guardrail_blocked</code>; every finding is a warning in the run's log.
      </p>

      <ListView list={list} label="guardrails" empty={(
        <EmptyState title="No guardrails yet" action={newButton}>
          <p>Guardrails check model input and output: stop personal data leaving, keep answers short, require valid JSON, or have another
            persona judge the answer.</p>
          {!canEdit && <p>Editors of this workspace can add them.</p>}
        </EmptyState>
      )}>
        {(rows) => <Table caption="Guardrails" columns={columns} rows={rows} rowKey={(g) => g.id} />}
      </ListView>

      <GuardrailDialog workspace={workspace} guardrail={editing} onClose={() => setEditing(null)}
        onSaved={(g, created) => { setEditing(null); toast.success(`Guardrail ${g.name} ${created ? "created" : "saved"}.`); list.reload(); }} />

      <ConfirmDialog open={deleting !== null} title="Delete the guardrail?" confirmLabel="Delete guardrail" onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await blocks.deleteGuardrail(workspace, deleting);
          toast.success(`Guardrail ${deleting.name} deleted.`);
          setDeleting(null);
          list.reload();
        }}>
        <p>Steps and personas that name <code>{deleting?.name}</code> will fail with <code>guardrail_not_found</code>.</p>
      </ConfirmDialog>
    </div>
  );
}

interface Draft {
  name: string;
  description: string;
  stage: string;
  kind: string;
  action: string;
  tags: string;
  max: string;
  pattern: string;
  phrase: string;
  schema: string;
  types: string[];
  persona: string;
  criteria: string;
}

function toDraft(g: Guardrail | null): Draft {
  const c = g?.config ?? {};
  return {
    name: g?.name ?? "",
    description: g?.description ?? "",
    stage: g?.stage ?? "output",
    kind: g?.kind ?? "pii",
    action: g?.action ?? "block",
    tags: g?.tags.join(", ") ?? "",
    max: c.max === undefined ? "" : String(c.max),
    pattern: typeof c.pattern === "string" ? c.pattern : "",
    phrase: typeof c.phrase === "string" ? c.phrase : "",
    schema: c.schema === undefined ? "" : JSON.stringify(c.schema, null, 2),
    types: Array.isArray(c.types) ? c.types.map(String) : ["email", "phone", "card"],
    persona: typeof c.persona === "string" ? c.persona : "",
    criteria: typeof c.criteria === "string" ? c.criteria : "",
  };
}

/** The config the kind reads, from the draft's fields (values as typed, so the API's messages explain what is wrong). */
function toConfig(d: Draft): Record<string, unknown> {
  switch (d.kind) {
    case "max_length": return { max: /^\d+$/.test(d.max.trim()) ? Number(d.max.trim()) : d.max.trim() || undefined };
    case "deny_pattern": case "require_pattern": return { pattern: d.pattern || undefined };
    case "deny_topic": return { phrase: d.phrase || undefined };
    case "json_schema": {
      const parsed = parseJson(d.schema);
      return { schema: parsed.ok ? parsed.value : undefined };
    }
    case "pii": return { types: d.types };
    case "llm_judge": return { persona: d.persona || undefined, criteria: d.criteria || undefined };
    default: return {};
  }
}

const kindFields: Record<string, string[]> = {
  max_length: ["max"], deny_pattern: ["pattern"], require_pattern: ["pattern"], deny_topic: ["phrase"], json_schema: ["schema"], pii: ["types"], llm_judge: ["persona", "criteria"],
};

function otherConfigErrors(errors: Record<string, string[]>, kind: string): string[] | undefined {
  const shown = new Set((kindFields[kind] ?? []).map((f) => `config.${f}`));
  const rest = Object.fromEntries(Object.entries(errors).filter(([key]) => !shown.has(key)));
  return errorsUnder(rest, "config");
}

function GuardrailDialog({ workspace, guardrail, onClose, onSaved }: {
  workspace: string;
  guardrail: Guardrail | "new" | null;
  onClose: () => void;
  onSaved: (guardrail: Guardrail, created: boolean) => void;
}) {
  const existing = guardrail !== "new" ? guardrail : null;
  const [draft, setDraft] = useState<Draft>(toDraft(null));
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });
  const set = (change: Partial<Draft>) => setDraft((d) => ({ ...d, ...change }));
  const canRedact = redactableKinds.includes(draft.kind);

  useEffect(() => {
    if (guardrail === null) return;
    setDraft(toDraft(guardrail === "new" ? null : guardrail));
    reset();
  }, [guardrail, reset]);

  // A kind that cannot redact falls back to blocking rather than keeping a choice the API would refuse.
  useEffect(() => { if (!canRedact && draft.action === "redact") set({ action: "block" }); }, [canRedact, draft.action]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (draft.kind === "json_schema" && !parseJson(draft.schema).ok) return;
    const body: GuardrailRequest = {
      description: draft.description,
      stage: draft.stage,
      kind: draft.kind,
      config: toConfig(draft),
      action: draft.action,
      tags: parseTags(draft.tags),
    };
    await run(async () => {
      const saved = existing ? await blocks.updateGuardrail(workspace, existing, body) : await blocks.createGuardrail(workspace, { ...body, name: draft.name });
      onSaved(saved, !existing);
    });
  };

  const config = (field: string) => errors[`config.${field}`];

  return (
    <Dialog open={guardrail !== null} title={existing ? `Edit ${existing.name}` : "New guardrail"} onClose={onClose}>
      <form className="stack form-wide" onSubmit={(e) => void submit(e)} noValidate>
        {error != null && <ProblemBanner error={error} />}
        <Input label="Name" value={draft.name} onChange={(e) => set({ name: e.target.value })} disabled={!!existing} autoFocus={!existing}
          errors={errors.name} spellCheck={false}
          hint={existing ? "A guardrail keeps its name: personas and steps refer to it." : "Lowercase letters, digits, dots, dashes or underscores, such as no-pii."} />
        <TextArea label="Description" value={draft.description} onChange={(e) => set({ description: e.target.value })} rows={2} errors={errors.description} />
        <div className="field-grid">
          <Select label="Kind" value={draft.kind} onChange={(e) => set({ kind: e.target.value })} errors={errors.kind}
            options={guardrailKinds.map((k) => ({ value: k, label: kindLabels[k] ?? k }))} />
          <Select label="Stage" value={draft.stage} onChange={(e) => set({ stage: e.target.value })} errors={errors.stage}
            options={[{ value: "input", label: "Input — the prompt" }, { value: "output", label: "Output — the answer" }, { value: "both", label: "Both" }]} />
          <Select label="Action" value={draft.action} onChange={(e) => set({ action: e.target.value })} errors={errors.action}
            options={[{ value: "block", label: "Block — fail the step" }, ...(canRedact ? [{ value: "redact", label: "Redact — cut it out" }] : []), { value: "warn", label: "Warn — only record it" }]} />
        </div>

        {draft.kind === "max_length" && (
          <Input label="Most characters" value={draft.max} onChange={(e) => set({ max: e.target.value })} inputMode="numeric" errors={config("max")}
            hint="1 to 1,000,000. Redact cuts the text there." />
        )}
        {(draft.kind === "deny_pattern" || draft.kind === "require_pattern") && (
          <Input label="Pattern" value={draft.pattern} onChange={(e) => set({ pattern: e.target.value })} className="field-code" spellCheck={false} errors={config("pattern")}
            hint={draft.kind === "deny_pattern" ? "A .NET regular expression; a match is a finding (redact writes [REDACTED])." : "A .NET regular expression the text must match."} />
        )}
        {draft.kind === "deny_topic" && (
          <Input label="Phrase" value={draft.phrase} onChange={(e) => set({ phrase: e.target.value })} errors={config("phrase")} hint="Found in any case." />
        )}
        {draft.kind === "json_schema" && (
          <JsonField label="JSON Schema" value={draft.schema} onChange={(schema) => set({ schema })} errors={config("schema")} rows={8}
            hint="The text must be JSON following this schema." />
        )}
        {draft.kind === "pii" && (
          <fieldset className="fieldset checkbox-group" aria-describedby={config("types") ? "pii-errors" : undefined}>
            <legend>Personal data to find</legend>
            {piiTypes.map((t) => (
              <label key={t.value} className="checkbox">
                <input type="checkbox" checked={draft.types.includes(t.value)}
                  onChange={(e) => set({ types: e.target.checked ? [...draft.types, t.value] : draft.types.filter((x) => x !== t.value) })} />
                {t.label}
              </label>
            ))}
            {config("types") && <ul id="pii-errors" className="field-errors">{config("types")!.map((m) => <li key={m}>{m}</li>)}</ul>}
          </fieldset>
        )}
        {draft.kind === "llm_judge" && (
          <>
            <Input label="Judge persona" value={draft.persona} onChange={(e) => set({ persona: e.target.value })} errors={config("persona")}
              hint="The persona (name or ID) whose verdict decides; its call is priced like any other." />
            <TextArea label="Criteria" value={draft.criteria} onChange={(e) => set({ criteria: e.target.value })} rows={3} errors={config("criteria")}
              hint="What the judge checks, such as “The answer gives no legal advice.”" />
          </>
        )}
        {/* Whatever the API said about the config that no field above shows (the whole config, or a member this form has no field for). */}
        {otherConfigErrors(errors, draft.kind) && <ul className="field-errors">{otherConfigErrors(errors, draft.kind)!.map((m) => <li key={m}>{m}</li>)}</ul>}

        <Input label="Tags" value={draft.tags} onChange={(e) => set({ tags: e.target.value })} errors={errors.tags} spellCheck={false}
          hint="Comma-separated; workflows select guardrails by these (guardrailTags)." />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Create guardrail"}</Button>
        </div>
      </form>
    </Dialog>
  );
}
