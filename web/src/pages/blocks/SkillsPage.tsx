import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useParams } from "react-router";
import { blocks, type Skill, type SkillRequest } from "../../api/blocks";
import { Button, Dialog, EmptyState, Input, JsonField, ProblemBanner, Select, Table, TextArea, Time, parseJson, useSubmission, useToast, type Column } from "../../components";
import { useCanEdit } from "../../app/permissions";
import { ConfirmDialog, ListView, errorsUnder, parseTags, plural, usePagedList } from "../admin/shared";

const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

const pretty = (value: unknown) => (value === undefined || value === null ? "" : JSON.stringify(value, null, 2));

/** Where a skill's calls go, for the list. */
function target(s: Skill): string {
  const c = s.config;
  if (s.kind === "mcp") return typeof c.server === "string" ? `stdio server ${c.server}` : String(c.url ?? "");
  return `${String(c.method ?? "GET")} ${String(c.url ?? "")}`;
}

/** The workspace's skills: tools its agents may call — an HTTP request template, or an MCP server's tools. */
export function SkillsPage() {
  const { workspace = "" } = useParams();
  const canEdit = useCanEdit(workspace);
  const toast = useToast();
  const [editing, setEditing] = useState<Skill | "new" | null>(null);
  const [deleting, setDeleting] = useState<Skill | null>(null);
  const load = useCallback((link: string | null, signal: AbortSignal) => blocks.skills(workspace, link, signal), [workspace]);
  const list = usePagedList(load, workspace);

  const columns: Column<Skill>[] = [
    { key: "name", header: "Skill", cell: (s) => <div className="cell-name"><code className="strong">{s.name}</code><span className="muted clamp">{s.description}</span></div> },
    { key: "kind", header: "Kind", cell: (s) => <span className="badge">{s.kind === "mcp" ? "MCP server" : "HTTP request"}</span> },
    { key: "target", header: "Calls", cell: (s) => <code className="muted break">{target(s)}</code> },
    { key: "auth", header: "Auth", cell: (s) => (s.authHeader ? <code className="nowrap">{s.authHeader}: ••••</code> : <span className="muted">—</span>) },
    { key: "approval", header: "Approval", cell: (s) => (s.approval && Object.keys(s.approval).length ? "Required" : <span className="muted">—</span>) },
    { key: "tags", header: "Tags", cell: (s) => (s.tags.length ? s.tags.map((t) => <span key={t} className="badge tag">{t}</span>) : <span className="muted">—</span>) },
    { key: "updated", header: "Updated", cell: (s) => <Time value={s.updatedAt} /> },
    ...(canEdit ? [{
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (s: Skill) => (
        <div className="row-actions">
          <Button onClick={() => setEditing(s)} aria-label={`Edit ${s.name}`}>Edit</Button>
          <Button variant="ghost" onClick={() => setDeleting(s)} aria-label={`Delete ${s.name}`}>Delete</Button>
        </div>
      ),
    }] : []),
  ];

  const newButton = canEdit && <Button variant="primary" onClick={() => setEditing("new")}>New skill</Button>;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Skills</h1>
          {list.page && <p className="muted" aria-live="polite">{plural(list.page.count, "skill")}</p>}
        </div>
        <div className="page-actions">{newButton}</div>
      </header>
      <p className="page-intro muted">
        Agents use skills as tools. Give them to a persona, to an agent step (<code>skills</code>), or select them by tag from a workflow.
        Built-in tools need no entry here and win over a skill of the same name.
      </p>

      <ListView list={list} label="skills" empty={(
        <EmptyState title="No skills yet" action={newButton}>
          <p>A skill lets an agent act: look up an order over HTTP with the model's arguments filled into a request template, or use
            every tool of an MCP server.</p>
          {!canEdit && <p>Editors of this workspace can add them.</p>}
        </EmptyState>
      )}>
        {(rows) => <Table caption="Skills" columns={columns} rows={rows} rowKey={(s) => s.id} />}
      </ListView>

      <SkillDialog workspace={workspace} skill={editing} onClose={() => setEditing(null)}
        onSaved={(s, created) => { setEditing(null); toast.success(`Skill ${s.name} ${created ? "created" : "saved"}.`); list.reload(); }} />

      <ConfirmDialog open={deleting !== null} title="Delete the skill?" confirmLabel="Delete skill" onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await blocks.deleteSkill(workspace, deleting);
          toast.success(`Skill ${deleting.name} deleted.`);
          setDeleting(null);
          list.reload();
        }}>
        <p>Agents lose the tool <code>{deleting?.name}</code>; personas and steps that name it no longer find it.</p>
      </ConfirmDialog>
    </div>
  );
}

interface Draft {
  name: string;
  description: string;
  kind: "http" | "mcp";
  tags: string;
  method: string;
  url: string;
  headers: string;
  body: string;
  parameters: string;
  transport: "url" | "server";
  server: string;
  authHeader: string;
  authValue: string;
  removeAuth: boolean;
  approval: string;
}

const starterParameters = pretty({ type: "object", properties: { city: { type: "string", description: "The city to look up" } }, required: ["city"] });

function toDraft(s: Skill | null): Draft {
  const c = s?.config ?? {};
  return {
    name: s?.name ?? "",
    description: s?.description ?? "",
    kind: s?.kind === "mcp" ? "mcp" : "http",
    tags: s?.tags.join(", ") ?? "",
    method: typeof c.method === "string" ? c.method : "GET",
    url: typeof c.url === "string" ? c.url : "",
    headers: pretty(c.headers),
    body: pretty(c.body),
    parameters: s ? pretty(c.parameters) : starterParameters,
    transport: typeof c.server === "string" ? "server" : "url",
    server: typeof c.server === "string" ? c.server : "",
    authHeader: s?.authHeader ?? "",
    authValue: "",
    removeAuth: false,
    approval: s?.approval && Object.keys(s.approval).length ? pretty(s.approval) : "",
  };
}

function SkillDialog({ workspace, skill, onClose, onSaved }: {
  workspace: string;
  skill: Skill | "new" | null;
  onClose: () => void;
  onSaved: (skill: Skill, created: boolean) => void;
}) {
  const existing = skill !== "new" ? skill : null;
  const [draft, setDraft] = useState<Draft>(toDraft(null));
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });
  const set = (change: Partial<Draft>) => setDraft((d) => ({ ...d, ...change }));

  useEffect(() => {
    if (skill === null) return;
    setDraft(toDraft(skill === "new" ? null : skill));
    reset();
  }, [skill, reset]);

  const jsonTexts = draft.kind === "http" ? [draft.headers, draft.body, draft.parameters, draft.approval] : [draft.approval];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // The JSON fields already say what does not parse; nothing is sent until they do.
    if (jsonTexts.some((t) => !parseJson(t).ok)) return;
    const json = (text: string) => { const parsed = parseJson(text); return parsed.ok ? parsed.value : undefined; };
    const config: Record<string, unknown> = draft.kind === "http"
      ? { method: draft.method, url: draft.url || undefined, headers: json(draft.headers), body: json(draft.body), parameters: json(draft.parameters) }
      : draft.transport === "url" ? { url: draft.url || undefined } : { server: draft.server || undefined };
    const body: SkillRequest = { description: draft.description, config, tags: parseTags(draft.tags) };
    // The auth value is write-only: sent only when typed (or emptied on purpose, which removes the header).
    if (draft.removeAuth) body.auth = { header: existing?.authHeader ?? draft.authHeader, value: "" };
    else if (draft.authValue) body.auth = { header: draft.authHeader, value: draft.authValue };
    const approval = json(draft.approval) as SkillRequest["approval"];
    if (approval) body.approval = approval;
    else if (existing?.approval && Object.keys(existing.approval).length) body.approval = {};
    await run(async () => {
      const saved = existing ? await blocks.updateSkill(workspace, existing, body) : await blocks.createSkill(workspace, { ...body, name: draft.name, kind: draft.kind });
      onSaved(saved, !existing);
    });
  };

  const config = (field: string) => errorsUnder(errors, `config.${field}`);
  const shownConfig = draft.kind === "http" ? ["method", "url", "headers", "body", "parameters"] : ["url", "server"];
  const otherConfig = errorsUnder(Object.fromEntries(Object.entries(errors).filter(([k]) => !shownConfig.some((f) => k === `config.${f}` || k.startsWith(`config.${f}.`)))), "config");

  return (
    <Dialog open={skill !== null} title={existing ? `Edit ${existing.name}` : "New skill"} onClose={onClose}>
      <form className="stack form-wide" onSubmit={(e) => void submit(e)} noValidate>
        {error != null && <ProblemBanner error={error} />}
        <div className="field-grid">
          <Input label="Name" value={draft.name} onChange={(e) => set({ name: e.target.value })} disabled={!!existing} autoFocus={!existing}
            errors={errors.name} spellCheck={false}
            hint={existing ? "A skill keeps its name: personas and steps refer to it." : "What the model calls: lowercase letters, digits and _, such as get_weather."} />
          <Select label="Kind" value={draft.kind} onChange={(e) => set({ kind: e.target.value as Draft["kind"] })} disabled={!!existing} errors={errors.kind}
            options={[{ value: "http", label: "HTTP request" }, { value: "mcp", label: "MCP server" }]} />
        </div>
        <TextArea label="Description" value={draft.description} onChange={(e) => set({ description: e.target.value })} rows={2} errors={errors.description}
          hint={draft.kind === "http" ? "For the model: what the tool does and when to use it." : "For people and the model: what the server offers."} />

        {draft.kind === "http" ? (
          <>
            <div className="field-grid field-grid-method">
              <Select label="Method" value={draft.method} onChange={(e) => set({ method: e.target.value })} options={methods.map((m) => ({ value: m, label: m }))} errors={config("method")} />
              <Input label="URL" value={draft.url} onChange={(e) => set({ url: e.target.value })} spellCheck={false} errors={config("url")}
                placeholder="https://api.example.com/weather?city={{ args.city }}" hint="Templates over args (the model's arguments) and secrets." />
            </div>
            <JsonField label="Parameters (JSON Schema)" value={draft.parameters} onChange={(parameters) => set({ parameters })} rows={7} errors={config("parameters")}
              hint="The arguments the model must give, as a JSON Schema of type object; checked before each call." />
            <JsonField label="Headers" value={draft.headers} onChange={(headers) => set({ headers })} rows={3} errors={config("headers")}
              hint='Optional: an object of strings, such as {"Accept": "application/json"}.' />
            <JsonField label="Body" value={draft.body} onChange={(b) => set({ body: b })} rows={4} errors={config("body")}
              hint="Optional: the JSON to send, with templates in its strings." />
          </>
        ) : (
          <>
            <fieldset className="fieldset radio-group">
              <legend>Server</legend>
              <label className="checkbox"><input type="radio" name="transport" checked={draft.transport === "url"} onChange={() => set({ transport: "url" })} /> Streamable HTTP endpoint</label>
              <label className="checkbox"><input type="radio" name="transport" checked={draft.transport === "server"} onChange={() => set({ transport: "server" })} /> A stdio server the operator declared</label>
            </fieldset>
            {draft.transport === "url"
              ? <Input label="Server URL" value={draft.url} onChange={(e) => set({ url: e.target.value })} spellCheck={false} errors={config("url")} placeholder="https://mcp.example.com/mcp" />
              : <Input label="Server name" value={draft.server} onChange={(e) => set({ server: e.target.value })} spellCheck={false} errors={config("server")}
                  hint="As declared in the server's Cadre:Mcp:Servers configuration." />}
          </>
        )}
        {otherConfig && <ul className="field-errors">{otherConfig.map((m) => <li key={m}>{m}</li>)}</ul>}

        {!(draft.kind === "mcp" && draft.transport === "server") && (
          <fieldset className="fieldset">
            <legend>Authentication</legend>
            <div className="field-grid">
              <Input label="Auth header" value={draft.authHeader} onChange={(e) => set({ authHeader: e.target.value })} spellCheck={false} placeholder="X-Api-Key"
                disabled={draft.removeAuth} errors={errors.auth} />
              <Input label="Auth value" type="password" value={draft.authValue} onChange={(e) => set({ authValue: e.target.value })} autoComplete="new-password"
                disabled={draft.removeAuth}
                hint={existing?.authHeader ? "Write-only: leave empty to keep the stored value." : "Write-only: stored encrypted and never shown again."} />
            </div>
            {existing?.authHeader && (
              <label className="checkbox"><input type="checkbox" checked={draft.removeAuth} onChange={(e) => set({ removeAuth: e.target.checked })} /> Remove the auth header</label>
            )}
          </fieldset>
        )}

        <JsonField label="Approval" value={draft.approval} onChange={(approval) => set({ approval })} rows={3} errors={errorsUnder(errors, "approval")}
          hint='Optional: people who must approve each call, such as {"approvers": ["team-id"], "timeout": "1h"}. Empty: calls run at once.' />
        <Input label="Tags" value={draft.tags} onChange={(e) => set({ tags: e.target.value })} errors={errors.tags} spellCheck={false}
          hint="Comma-separated; workflows select skills by these (skillTags)." />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Create skill"}</Button>
        </div>
      </form>
    </Dialog>
  );
}
