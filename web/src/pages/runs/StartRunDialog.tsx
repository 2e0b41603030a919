import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { filesApi, formatSize, type StoredFile } from "../../api/files";
import { newIdempotencyKey, runsApi, type StartRunRequest } from "../../api/runs";
import type { Workflow } from "../../api/types";
import { Button, Dialog, Input, JsonField, ProblemBanner, TextArea, parseJson, useSubmission } from "../../components";

/** What the dialog knows of the input a workflow expects. */
interface InputHints {
  source: "schema" | "templates";
  fields: { name: string; type: string; required: boolean; description?: string }[];
  example: Record<string, unknown>;
}

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; required?: string[]; description?: string; example?: unknown; examples?: unknown[]; default?: unknown; enum?: unknown[]; items?: Schema };

/** An example value for a JSON Schema: its own example or default, else a placeholder of its type. */
function exampleOf(schema: Schema | undefined): unknown {
  if (!schema) return "";
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, exampleOf(v)]));
    case "array": return schema.items ? [exampleOf(schema.items)] : [];
    case "integer":
    case "number": return 0;
    case "boolean": return false;
    default: return "";
  }
}

/**
 * The input hints of a workflow. A workflow has no input schema of its own in the API, so the dialog reads one
 * from `metadata.inputSchema` (a JSON Schema, where teams can keep it), else lists the `context.body.<field>`
 * names the steps' templates read.
 */
export function inputHints(workflow: Workflow): InputHints | null {
  const metadata = workflow.metadata as { inputSchema?: Schema } | null | undefined;
  const schema = metadata?.inputSchema;
  if (schema && typeof schema === "object" && schema.properties) {
    const required = new Set(schema.required ?? []);
    return {
      source: "schema",
      fields: Object.entries(schema.properties).map(([name, s]) => ({
        name, type: (Array.isArray(s.type) ? s.type.join(" | ") : s.type) ?? "any", required: required.has(name), description: s.description,
      })),
      example: exampleOf({ ...schema, type: "object" }) as Record<string, unknown>,
    };
  }
  const names = new Set<string>();
  const text = JSON.stringify(workflow.steps ?? []) + JSON.stringify(workflow.annotations ?? []);
  for (const match of text.matchAll(/context\.body\.([A-Za-z_][A-Za-z0-9_]*)/g)) if (match[1]) names.add(match[1]);
  if (names.size === 0) return null;
  return {
    source: "templates",
    fields: [...names].map((name) => ({ name, type: "any", required: false })),
    example: Object.fromEntries([...names].map((name) => [name, ""])),
  };
}

interface Attachment {
  key: string;
  name: string;
  contentType: string;
  size: number;
  state: "uploading" | "ready" | "failed";
  file?: StoredFile;
  error?: unknown;
  reference: boolean;
}

/** Starts a run of a workflow (input, prompt, files, per-run config and repository) and opens its run view. */
export function StartRunDialog({ workspace, workflow, open, onClose }: { workspace: string; workflow: Workflow; open: boolean; onClose: () => void }) {
  const navigate = useNavigate();
  const hints = useMemo(() => inputHints(workflow), [workflow]);
  const [input, setInput] = useState("{}");
  const [prompt, setPrompt] = useState("");
  const [config, setConfig] = useState("");
  const [repo, setRepo] = useState("");
  const [branch, setBranch] = useState("");
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const { busy, error, setError, fieldErrors, run } = useSubmission();
  const fileInput = useRef<HTMLInputElement>(null);
  // One key per opening: a start retried after a lost answer finds the run it made instead of starting another.
  const idempotencyKey = useRef(newIdempotencyKey());
  const filesId = useId();
  const parsed = parseJson(input);
  const parsedConfig = parseJson(config);
  const uploading = attachments.some((a) => a.state === "uploading");

  useEffect(() => {
    if (!open) return;
    setError(null);
    setInput(JSON.stringify(hints?.example ?? {}, null, 2));
    setPrompt("");
    setConfig("");
    setRepo("");
    setBranch("");
    setAttachments([]);
    idempotencyKey.current = newIdempotencyKey();
  }, [open, hints]);

  const addFiles = (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const key = `${file.name}-${file.size}-${Math.random()}`;
      setAttachments((all) => [...all, { key, name: file.name, contentType: file.type || "application/octet-stream", size: file.size, state: "uploading", reference: false }]);
      filesApi.upload(workspace, file)
        .then((stored) => setAttachments((all) => all.map((a) => (a.key === key ? { ...a, state: "ready", file: stored } : a))))
        .catch((e: unknown) => setAttachments((all) => all.map((a) => (a.key === key ? { ...a, state: "failed", error: e } : a))));
    }
    if (fileInput.current) fileInput.current.value = "";
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!parsed.ok || !parsedConfig.ok || uploading) return;
    const ready = attachments.filter((a) => a.state === "ready" && a.file);
    const request: StartRunRequest = {
      input: parsed.value ?? {},
      prompt: prompt.trim() || undefined,
      attachments: ready.length ? ready.map((a) => ({ storageId: a.file!.id })) : undefined,
      referenceImageIds: ready.some((a) => a.reference) ? ready.filter((a) => a.reference).map((a) => a.file!.id) : undefined,
      config: (parsedConfig.value as Record<string, unknown> | undefined) ?? undefined,
      githubRepoUrl: repo.trim() || undefined,
      branchName: branch.trim() || undefined,
    };
    await run(async () => {
      const started = await runsApi.start(workspace, workflow.id, request, idempotencyKey.current);
      onClose();
      navigate(`/w/${encodeURIComponent(workspace)}/runs/${encodeURIComponent(started.id)}`);
    });
  };

  const attachmentErrors = Object.entries(fieldErrors).filter(([k]) => k.startsWith("attachments") || k.startsWith("referenceImageIds"));

  return (
    <Dialog open={open} title={`Start ${workflow.title || workflow.name}`} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack start-run-form">
        {error != null && <ProblemBanner error={error} />}
        {hints && (
          <div className="input-hints">
            <p className="field-hint">
              {hints.source === "schema" ? "The workflow's input schema (metadata.inputSchema):" : "Fields the steps read from the input (context.body):"}
            </p>
            <ul className="input-hint-list" aria-label="Input fields">
              {hints.fields.map((f) => (
                <li key={f.name}>
                  <code>{f.name}</code>{f.type !== "any" && <span className="muted"> {f.type}</span>}
                  {f.required && <span className="input-required"> required</span>}
                  {f.description && <span className="muted"> — {f.description}</span>}
                </li>
              ))}
            </ul>
          </div>
        )}
        <JsonField label="Input" value={input} onChange={setInput} errors={fieldErrors.input} rows={7}
          hint="JSON the steps read as context.body." />
        <TextArea label="Prompt" rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} errors={fieldErrors.prompt}
          hint="Optional: an instruction agent steps read as context.prompt." />

        <div className="field">
          <label htmlFor={filesId}>Attachments</label>
          <input id={filesId} ref={fileInput} type="file" multiple onChange={(e) => addFiles(e.target.files)} aria-describedby={`${filesId}-hint`} />
          <div id={`${filesId}-hint`} className="field-hint">Uploaded to the workspace's files; steps read them as context.attachments, and model steps see images.</div>
          {attachments.length > 0 && (
            <ul className="attachment-list" aria-label="Attached files">
              {attachments.map((a) => (
                <li key={a.key} className={`attachment attachment-${a.state}`}>
                  <span className="attachment-name">{a.name}</span>
                  <span className="muted"> {formatSize(a.size)}</span>
                  <span className="attachment-state" role="status">
                    {a.state === "uploading" ? " uploading…" : a.state === "ready" ? " ready" : " failed"}
                  </span>
                  {a.state === "ready" && a.contentType.startsWith("image/") && (
                    <label className="attachment-reference">
                      <input type="checkbox" checked={a.reference}
                        onChange={(e) => setAttachments((all) => all.map((x) => (x.key === a.key ? { ...x, reference: e.target.checked } : x)))} />
                      {" "}reference image
                    </label>
                  )}
                  <Button variant="ghost" aria-label={`Remove ${a.name}`} onClick={() => setAttachments((all) => all.filter((x) => x.key !== a.key))}>×</Button>
                  {a.state === "failed" && a.error != null && <ProblemBanner error={a.error} />}
                </li>
              ))}
            </ul>
          )}
          {attachmentErrors.length > 0 && (
            <ul className="field-errors">{attachmentErrors.map(([k, m]) => <li key={k}><code>{k}</code>: {m.join(" ")}</li>)}</ul>
          )}
        </div>

        <details className="advanced">
          <summary>Config and repository</summary>
          <div className="stack">
            <JsonField label="Config" value={config} onChange={setConfig} errors={fieldErrors.config} rows={4}
              hint="Optional JSON object of per-run settings, read as context.config." />
            <Input label="Repository URL" value={repo} onChange={(e) => setRepo(e.target.value)} errors={fieldErrors.githubRepoUrl}
              placeholder="https://github.com/acme/app" hint="Read as context.repo.url; the workflow's repository when empty." />
            <Input label="Branch" value={branch} onChange={(e) => setBranch(e.target.value)} errors={fieldErrors.branchName} />
          </div>
        </details>

        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy} disabled={!parsed.ok || !parsedConfig.ok || uploading}>
            {uploading ? "Uploading…" : "Start run"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
