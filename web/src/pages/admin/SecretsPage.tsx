import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useParams, useSearchParams } from "react-router";
import { useAddressSearch } from "../../app/useAddressSearch";
import { admin, type Secret } from "../../api/admin";
import { Button, Dialog, EmptyState, Input, ProblemBanner, Table, TextArea, Time, useSubmission, useToast, type Column } from "../../components";
import { useIsAdmin } from "../../app/permissions";
import { RequireRole } from "../../app/RequireRole";
import { ActorName, ConfirmDialog, ListView, plural, usePagedList } from "./shared";

/**
 * The workspace's secrets by name: workflows read them as {{ secrets.NAME }}. Values are write-only: the API
 * never returns one, so the page never has one to show; replacing a value asks for the new one.
 */
export function SecretsPage() {
  const { workspace = "" } = useParams();
  // The API lists secrets' names to editors and above (they write the workflows that use them).
  return (
    <RequireRole workspace={workspace} least="editor" title="Secrets"
      why="Secrets are the credentials workflows use; editors, admins and owners see which exist, and nobody sees their values.">
      <Secrets workspace={workspace} />
    </RequireRole>
  );
}

function Secrets({ workspace }: { workspace: string }) {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [search, setSearch] = useAddressSearch(q, useCallback((text: string) => setParams(text ? { q: text } : {}, { replace: true }), [setParams]));
  const isAdmin = useIsAdmin(workspace);
  const toast = useToast();
  const [editing, setEditing] = useState<Secret | "new" | null>(null);
  const [deleting, setDeleting] = useState<Secret | null>(null);


  const load = useCallback((link: string | null, signal: AbortSignal) => admin.secrets(workspace, { q, link }, signal), [workspace, q]);
  const list = usePagedList(load, `${workspace}|${q}`);

  const columns: Column<Secret>[] = [
    { key: "name", header: "Name", cell: (s) => <div className="cell-name"><code className="strong">{s.name}</code><span className="muted">{`{{ secrets.${s.name} }}`}</span></div> },
    { key: "description", header: "Description", className: "cell-description", cell: (s) => s.description || <span className="muted">—</span> },
    { key: "value", header: "Value", cell: () => <span className="muted" aria-label="Value hidden">•••••••• (write-only)</span> },
    { key: "updated", header: "Updated", cell: (s) => <><Time value={s.updatedAt} /> <span className="muted">by <ActorName actor={s.updatedBy ?? s.createdBy} /></span></> },
    ...(isAdmin ? [{
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (s: Secret) => (
        <div className="row-actions">
          <Button onClick={() => setEditing(s)} aria-label={`Replace value of ${s.name}`}>Replace value</Button>
          <Button variant="ghost" onClick={() => setDeleting(s)} aria-label={`Delete ${s.name}`}>Delete</Button>
        </div>
      ),
    }] : []),
  ];

  const newButton = isAdmin && <Button variant="primary" onClick={() => setEditing("new")}>New secret</Button>;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Secrets</h1>
          {list.page && <p className="muted" aria-live="polite">{plural(list.page.count, "secret")}{q && ` matching “${q}”`}</p>}
        </div>
        <div className="page-actions">
          <div className="search">
            <Input label="Search secrets" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name or description…" className="field-inline" />
          </div>
          {newButton}
        </div>
      </header>
      <p className="page-intro muted">
        Values are encrypted under the instance's key and never shown again, not even to admins. Workflows, skills and
        providers read them as <code>{"{{ secrets.NAME }}"}</code>; run logs redact them.
      </p>

      <ListView list={list} label="secrets" empty={q ? (
        <EmptyState title="No secret matches" action={<Button onClick={() => setSearch("")}>Clear the search</Button>}>
          <p>Nothing here matches “{q}”. Search looks at names and descriptions.</p>
        </EmptyState>
      ) : (
        <EmptyState title="No secrets yet" action={newButton}>
          <p>Keep API tokens and passwords out of workflow definitions: store each once here and refer to it by name.</p>
          {!isAdmin && <p>Admins of this workspace can add them.</p>}
        </EmptyState>
      )}>
        {(rows) => <Table caption="Secrets" columns={columns} rows={rows} rowKey={(s) => s.id} />}
      </ListView>

      <SecretDialog workspace={workspace} secret={editing} onClose={() => setEditing(null)}
        onSaved={(saved, created) => { setEditing(null); toast.success(created ? `Secret ${saved.name} created.` : `The value of ${saved.name} was replaced.`); list.reload(); }} />

      <ConfirmDialog open={deleting !== null} title="Delete the secret?" confirmLabel="Delete secret" onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await admin.deleteSecret(workspace, deleting);
          toast.success(`Secret ${deleting.name} deleted.`);
          setDeleting(null);
          list.reload();
        }}>
        <p>Steps that read <code>{deleting?.name}</code> will fail with <code>secret_not_found</code> until a secret of that name exists again.</p>
      </ConfirmDialog>
    </div>
  );
}

/** Creates a secret, or replaces an existing one's value and description (its name stays). */
function SecretDialog({ workspace, secret, onClose, onSaved }: {
  workspace: string;
  secret: Secret | "new" | null;
  onClose: () => void;
  onSaved: (secret: Secret, created: boolean) => void;
}) {
  const creating = secret === "new";
  const existing = secret !== "new" ? secret : null;
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [description, setDescription] = useState("");
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });

  useEffect(() => {
    if (secret === null) return;
    setName(""); setValue(""); reset();
    setDescription(secret === "new" ? "" : secret.description ?? "");
  }, [secret, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      const saved = existing
        ? await admin.updateSecret(workspace, existing, { value: value || undefined, description })
        : await admin.createSecret(workspace, { name, value, description: description || undefined });
      setValue("");
      onSaved(saved, creating);
    });
  };

  return (
    <Dialog open={secret !== null} title={existing ? `Replace ${existing.name}` : "New secret"} onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)} autoComplete="off">
        {error != null && <ProblemBanner error={error} />}
        {creating && (
          <Input label="Name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus errors={errors.name} spellCheck={false}
            hint="A letter, then letters, digits, _ or -, such as STRIPE_KEY. Workflows read it as {{ secrets.NAME }}." />
        )}
        {/* A password field: the value is not echoed on screen, and the browser offers not to remember it. */}
        <Input label={existing ? "New value" : "Value"} type="password" value={value} onChange={(e) => setValue(e.target.value)}
          required={creating} autoFocus={!creating} autoComplete="new-password" errors={errors.value}
          hint={existing ? "Leave empty to keep the current value and change only the description. Runs read the new value from their next step on." : "Stored encrypted; nobody can read it back here."} />
        <TextArea label="Description" value={description} onChange={(e) => setDescription(e.target.value)} rows={2} errors={errors.description}
          hint="What it is for and where it came from (optional)." />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Create secret"}</Button>
        </div>
      </form>
    </Dialog>
  );
}
