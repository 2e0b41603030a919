import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { memoryApi, type MemoryNote } from "../../api/memory";
import type { Persona } from "../../api/personas";
import { Button, Dialog, EmptyState, ProblemBanner, Table, TextArea, Time, useSubmission, useToast, type Column } from "../../components";
import { ActorName, ConfirmDialog, ListView, plural, usePagedList } from "../admin/shared";

const sources: Record<string, string> = { person: "Added by a person", agent: "Written by the agent (memory_write)", auto: "Remembered automatically" };

/**
 * What the persona remembers (docs/models.md "Memory"): its notes oldest first, session notes with their run.
 * Editors add, change and forget notes, or all of them; everyone else reads.
 */
export function MemoryTab({ workspace, persona, canEdit }: { workspace: string; persona: Persona; canEdit: boolean }) {
  const toast = useToast();
  const [editing, setEditing] = useState<MemoryNote | "new" | null>(null);
  const [deleting, setDeleting] = useState<MemoryNote | null>(null);
  const [clearing, setClearing] = useState(false);
  const load = useCallback((link: string | null, signal: AbortSignal) => memoryApi.list(workspace, persona.id, link, signal), [workspace, persona.id]);
  const list = usePagedList(load, `${workspace}|${persona.id}`);
  const mode = persona.memory?.mode ?? "none";

  const columns: Column<MemoryNote>[] = [
    { key: "content", header: "Note", className: "memory-note-cell", cell: (n) => <span className="memory-content">{n.content}</span> },
    {
      key: "scope", header: "Scope", cell: (n) => n.runId
        ? <>Session of <Link to={`/w/${encodeURIComponent(workspace)}/runs/${encodeURIComponent(n.runId)}`}><code>{n.runId}</code></Link></>
        : "Persistent",
    },
    { key: "source", header: "Source", cell: (n) => <span title={sources[n.source]}>{n.source}{n.createdBy && <span className="muted"> · <ActorName actor={n.createdBy} /></span>}</span> },
    { key: "updated", header: "Updated", cell: (n) => <Time value={n.updatedAt} /> },
    ...(canEdit ? [{
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (n: MemoryNote) => (
        <div className="row-actions">
          <Button onClick={() => setEditing(n)} aria-label={`Edit note ${n.id}`}>Edit</Button>
          <Button variant="ghost" onClick={() => setDeleting(n)} aria-label={`Forget note ${n.id}`}>Forget</Button>
        </div>
      ),
    }] : []),
  ];

  const addButton = canEdit && <Button variant="primary" onClick={() => setEditing("new")}>Add a note</Button>;
  const hasNotes = (list.page?.results.length ?? 0) > 0;

  return (
    <section className="stack" aria-label="Persona memory">
      <div className="memory-toolbar">
        <p className="muted" aria-live="polite">
          {list.page ? plural(list.page.count, "note") : "…"} · memory mode <code>{mode}</code>
          {mode === "none" && " (its agents neither read nor write these notes until the Edit tab sets a mode)"}
        </p>
        <div className="button-row">
          {canEdit && hasNotes && <Button variant="ghost" onClick={() => setClearing(true)}>Forget everything</Button>}
          {addButton}
        </div>
      </div>
      <ListView list={list} label="memory notes" empty={
        <EmptyState title="Nothing remembered yet" action={addButton}>
          <p>
            With memory on, the persona's agents start with their newest notes in the system prompt and can read and write
            notes as they work. Notes added here are remembered the same way.
          </p>
        </EmptyState>
      }>
        {(rows) => <Table caption="Memory notes" columns={columns} rows={rows} rowKey={(n) => n.id} />}
      </ListView>

      <NoteDialog workspace={workspace} persona={persona.id} note={editing} onClose={() => setEditing(null)}
        onSaved={(created) => { setEditing(null); toast.success(created ? "Note added." : "Note saved."); list.reload(); }} />

      <ConfirmDialog open={deleting !== null} title="Forget the note?" confirmLabel="Forget note" onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await memoryApi.remove(workspace, persona.id, deleting.id);
          toast.success("Note forgotten.");
          setDeleting(null);
          list.reload();
        }}>
        <p className="memory-content">{deleting?.content}</p>
      </ConfirmDialog>

      <ConfirmDialog open={clearing} title={`Forget everything ${persona.displayName || persona.name} remembers?`} confirmLabel="Forget everything"
        typed={persona.name} onClose={() => setClearing(false)}
        onConfirm={async () => {
          await memoryApi.clear(workspace, persona.id);
          toast.success("Memory cleared.");
          setClearing(false);
          list.reload();
        }}>
        <p>Every note goes, persistent and session ones, whoever wrote them. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  );
}

function NoteDialog({ workspace, persona, note, onClose, onSaved }: {
  workspace: string;
  persona: string;
  note: MemoryNote | "new" | null;
  onClose: () => void;
  onSaved: (created: boolean) => void;
}) {
  const existing = note !== "new" ? note : null;
  const [content, setContent] = useState("");
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });
  useEffect(() => {
    if (note === null) return;
    reset();
    setContent(note === "new" ? "" : note.content);
  }, [note, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      if (existing) await memoryApi.update(workspace, persona, existing.id, content);
      else await memoryApi.create(workspace, persona, content);
      onSaved(!existing);
    });
  };

  return (
    <Dialog open={note !== null} title={existing ? "Edit note" : "Add a note"} onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        {error != null && <ProblemBanner error={error} />}
        <TextArea label="Note" value={content} onChange={(e) => setContent(e.target.value)} rows={4} autoFocus errors={errors.content}
          hint="A fact the persona should keep in mind, such as “The customer prefers email.”" />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{existing ? "Save" : "Add note"}</Button>
        </div>
      </form>
    </Dialog>
  );
}
