import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { analyticsPaths } from "../../api/analytics";
import { AnalyticsPanel } from "../analytics/AnalyticsPanel";
import { ProblemError } from "../../api/client";
import {
  deepEqual, mergePatch, personasApi, problemNumber, toSpec, type Persona, type PersonaDraft, type PersonaSpec, type ProviderSummary,
} from "../../api/personas";
import { Button, Dialog, LoadFailed, Loading, ProblemBanner, useToast, useUnsavedChanges } from "../../components";
import { useCanEdit } from "../../app/permissions";
import { EditorForm, type FieldErrors } from "./EditorForm";
import { Markdown } from "./Markdown";
import { PersonaMark } from "./PersonaMark";
import { PreviewPanel } from "./PreviewPanel";
import { VersionsTab } from "./VersionsTab";
import { MemoryTab } from "./MemoryTab";

/** What went wrong when this page's changes met someone else's. */
type Conflict =
  | { kind: "published"; current: number; loaded: number; by: string | null }
  | { kind: "draft"; current: number | null }
  | { kind: "publish-stale"; current: number; base: number; by: string | null };

const tabs = [["edit", "Edit"], ["versions", "Versions"], ["memory", "Memory"], ["analytics", "Analytics"], ["card", "Card"]] as const;
type Tab = (typeof tabs)[number][0];

/**
 * One persona: the editor (every field, a live preview of its system prompt), its versions and its card.
 * Edits go to the signed-in person's draft and become a version only when published; when someone else's
 * change gets there first, the page says what happened and lets the person choose, never overwriting silently.
 */
export function PersonaPage() {
  const { workspace = "", persona: personaParam = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const tab: Tab = (tabs.find(([id]) => id === params.get("tab"))?.[0]) ?? "edit";
  const canEdit = useCanEdit(workspace);
  const toast = useToast();
  const navigate = useNavigate();

  const [persona, setPersona] = useState<Persona | null>(null);
  const [draft, setDraft] = useState<PersonaDraft | null>(null);
  const [form, setForm] = useState<PersonaSpec>({});
  const [baseline, setBaseline] = useState<PersonaSpec>({});
  const [loadError, setLoadError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [busy, setBusy] = useState<null | "save" | "publish" | "discard" | "resolve">(null);
  const [providers, setProviders] = useState<ProviderSummary[]>([]);
  const [reload, setReload] = useState(0);

  /** Shows `p` and, when given, the person's draft of it (else the published definition) in the form. */
  const show = useCallback((p: Persona, d: PersonaDraft | null) => {
    setPersona(p);
    setDraft(d);
    const spec = d ? d.definition : toSpec(p);
    setForm(spec);
    setBaseline(spec);
    setFieldErrors(d?.errors ?? {});
  }, []);

  useEffect(() => {
    let live = true;
    setLoadError(null);
    (async () => {
      const p = await personasApi.get(workspace, personaParam);
      let d: PersonaDraft | null = null;
      if (canEdit) {
        try { d = await personasApi.getDraft(workspace, p.id); } catch (e) { if (!(e instanceof ProblemError && e.status === 404)) throw e; }
      }
      if (live) show(p, d);
    })().catch((e: unknown) => { if (live) setLoadError(e); });
    return () => { live = false; };
  }, [workspace, personaParam, canEdit, reload, show]);

  useEffect(() => {
    personasApi.providers(workspace).then((p) => setProviders(p.results)).catch(() => setProviders([]));
  }, [workspace]);

  const dirty = useMemo(() => !deepEqual(form, baseline), [form, baseline]);
  // Whether the form differs from the live version: unsaved edits or a saved draft.
  const edited = useMemo(() => persona !== null && !deepEqual(form, toSpec(persona)), [form, persona]);

  // Leaving with unsaved edits asks first; the tabs only change the query, so they keep the edits and do not ask.
  const { prompt, leaveUnasked } = useUnsavedChanges(dirty, "the edits made since the draft was last saved");

  if (loadError != null) {
    return (
      <div className="page stack">
        <p><Link to={`/w/${encodeURIComponent(workspace)}/personas`}>← Personas</Link></p>
        <LoadFailed error={loadError} onRetry={() => setReload((n) => n + 1)} />
      </div>
    );
  }
  if (!persona) return <Loading label="Loading the persona…" />;
  const current = persona;

  const whoPublished = async (): Promise<{ version: number; by: string | null }> => {
    const latest = await personasApi.get(workspace, current.id);
    return { version: latest.version, by: latest.updatedBy?.name ?? null };
  };

  /** Saves the form into the draft (starting it from the version on screen); null when a conflict stopped it. */
  const saveDraft = async (): Promise<PersonaDraft | null> => {
    let d = draft;
    if (!d) {
      try {
        d = await personasApi.startDraft(workspace, current.id, current.version);
      } catch (e) {
        if (e instanceof ProblemError && e.status === 409) {
          // Either someone published since this page loaded, or another tab of this person started a draft.
          const other = await personasApi.getDraft(workspace, current.id).catch(() => null);
          if (other) setConflict({ kind: "draft", current: other.version });
          else {
            const latest = await whoPublished();
            setConflict({ kind: "published", current: problemNumber(e, "currentVersion") ?? latest.version, loaded: current.version, by: latest.by });
          }
          return null;
        }
        throw e;
      }
    }
    const sent = form;
    const changes = mergePatch(d.definition as Record<string, unknown>, sent as Record<string, unknown>);
    let saved = d;
    if (Object.keys(changes).length > 0) {
      try {
        saved = await personasApi.updateDraft(workspace, current.id, d.version, changes);
      } catch (e) {
        if (e instanceof ProblemError && e.status === 409) {
          setDraft(d);
          setConflict({ kind: "draft", current: problemNumber(e, "currentVersion") });
          return null;
        }
        throw e;
      }
    }
    setDraft(saved);
    setBaseline(saved.definition);
    // What the API stored is what the form shows, unless the person typed on meanwhile.
    setForm((now) => (now === sent ? saved.definition : now));
    setFieldErrors(saved.errors);
    return saved;
  };

  const onSave = async () => {
    setBusy("save");
    setActionError(null);
    try {
      const saved = await saveDraft();
      if (saved) toast.success(Object.keys(saved.errors).length ? "Draft saved. Fix the marked fields before publishing." : "Draft saved.");
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(null);
    }
  };

  const publish = async (force: boolean) => {
    setActionError(null);
    const d = dirty || !draft ? await saveDraft() : draft;
    if (!d) return;
    try {
      const published = await personasApi.publishDraft(workspace, current.id, force);
      show(published, null);
      setConflict(null);
      toast.success(`Published version ${published.version}.`);
      // Published: the address follows a new name (this render still counts the form as unsaved).
      if (published.name !== personaParam && published.id !== personaParam) { leaveUnasked(); navigate(`/w/${encodeURIComponent(workspace)}/personas/${encodeURIComponent(published.name)}`, { replace: true }); }
    } catch (e) {
      if (e instanceof ProblemError && e.status === 409) {
        const latest = await whoPublished();
        setConflict({ kind: "publish-stale", current: problemNumber(e, "currentVersion") ?? latest.version, base: problemNumber(e, "baseVersion") ?? d.baseVersion, by: latest.by });
        return;
      }
      if (e instanceof ProblemError && e.problem.errors) setFieldErrors(e.problem.errors);
      throw e;
    }
  };

  const onPublish = async () => {
    setBusy("publish");
    try { await publish(false); } catch (e) { setActionError(e); } finally { setBusy(null); }
  };

  const discard = async () => {
    setBusy("discard");
    setActionError(null);
    try {
      if (draft) await personasApi.discardDraft(workspace, current.id);
      const latest = await personasApi.get(workspace, current.id);
      show(latest, null);
      setConflict(null);
      toast.success(draft ? "Draft discarded." : "Changes discarded.");
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(null);
    }
  };

  /** The conflict's choices. */
  const resolve = async (choice: "theirs" | "mine" | "force") => {
    setBusy("resolve");
    setActionError(null);
    try {
      if (choice === "theirs") {
        if (conflict?.kind === "draft") {
          // "Theirs" is the draft saved from elsewhere: load it as it is.
          const latest = await personasApi.get(workspace, current.id);
          const d = await personasApi.getDraft(workspace, current.id).catch(() => null);
          show(latest, d);
          toast.success("Loaded your saved draft; the changes on this page were dropped.");
        } else {
          await personasApi.discardDraft(workspace, current.id).catch(() => undefined);
          show(await personasApi.get(workspace, current.id), null);
          toast.success("Loaded the latest version; your changes were dropped.");
        }
        setConflict(null);
      } else if (choice === "mine") {
        // A three-way merge: this page's edits (the form against what it started from) applied on top of
        // their version, so fields only they changed keep their change and fields both changed get mine.
        const mine = mergePatch(baseline as Record<string, unknown>, form as Record<string, unknown>);
        const latest = await personasApi.get(workspace, current.id);
        let d = conflict?.kind === "draft" ? await personasApi.getDraft(workspace, current.id).catch(() => null) : null;
        if (!d) {
          await personasApi.discardDraft(workspace, current.id).catch(() => undefined);
          d = await personasApi.startDraft(workspace, current.id, latest.version);
        }
        const saved = Object.keys(mine).length ? await personasApi.updateDraft(workspace, current.id, d.version, mine) : d;
        setPersona(latest);
        setDraft(saved);
        setBaseline(saved.definition);
        setForm(saved.definition);
        setFieldErrors(saved.errors);
        setConflict(null);
        toast.success(`Your changes are saved in your draft, now based on version ${latest.version}. Publish when ready.`);
      } else {
        await publish(true);
      }
    } catch (e) {
      setActionError(e);
      setConflict(null);
    } finally {
      setBusy(null);
    }
  };

  const title = current.displayName || current.name;
  const status = dirty ? "Unsaved changes" : draft ? "Draft saved, not published" : "Published";
  const fieldErrorCount = Object.keys(fieldErrors).length;

  return (
    <div className="page persona-page">
      <p className="breadcrumb"><Link to={`/w/${encodeURIComponent(workspace)}/personas`}>← Personas</Link></p>
      <header className="page-header">
        <div className="persona-title">
          <PersonaMark persona={{ ...current, ...form, name: form.name || current.name }} size="large" />
          <div>
            <h1>{title}</h1>
            <p className="muted">
              <code>{current.name}</code> · version {current.version} · <span className={`edit-status${dirty ? " edit-status-dirty" : draft ? " edit-status-draft" : ""}`} role="status">{status}</span>
              {current.status === "deleted" && <span className="badge"> in the bin</span>}
            </p>
          </div>
        </div>
        {canEdit && tab === "edit" && (
          <div className="page-actions">
            {(draft || dirty) && <Button variant="ghost" busy={busy === "discard"} disabled={busy !== null} onClick={() => void discard()}>{draft ? "Discard draft" : "Discard changes"}</Button>}
            <Button busy={busy === "save"} disabled={busy !== null || !dirty} onClick={() => void onSave()}>Save draft</Button>
            <Button variant="primary" busy={busy === "publish"} disabled={busy !== null || (!dirty && !draft)} onClick={() => void onPublish()}>Publish</Button>
          </div>
        )}
      </header>

      <nav className="tabs" aria-label="Persona sections">
        {tabs.map(([id, label]) => (
          <Link key={id} to={id === "edit" ? "?" : `?tab=${id}`} replace className={`tab${tab === id ? " tab-active" : ""}`} aria-current={tab === id ? "page" : undefined}
            onClick={(e) => { e.preventDefault(); setParams(id === "edit" ? {} : { tab: id }, { replace: true }); }}>{label}</Link>
        ))}
      </nav>

      {conflict && (
        <ConflictNotice conflict={conflict} name={title} busy={busy === "resolve"} onChoose={(c) => void resolve(c)} onClose={() => setConflict(null)}
          onCompare={conflict.kind === "draft" ? undefined : () => setParams({ tab: "versions" }, { replace: true })} />
      )}
      {actionError != null && <ProblemBanner error={actionError} onDismiss={() => setActionError(null)} />}

      {tab === "edit" && (
        <>
          {draft?.stale && !conflict && (
            <div className="notice notice-warning" role="status">
              Version {draft.personaVersion} was published since your draft started from version {draft.baseVersion}.
              Publishing asks before it overwrites that change; <button type="button" className="link-button" onClick={() => setParams({ tab: "versions" }, { replace: true })}>compare the versions</button> first.
            </div>
          )}
          {[...(draft?.warnings ?? current.warnings ?? [])].map((w) => <div key={w} className="notice notice-warning">{w}</div>)}
          {fieldErrorCount > 0 && (
            <div className="notice notice-danger" role="status">
              {fieldErrorCount === 1 ? "One field needs" : `${fieldErrorCount} fields need`} attention before this can be published: {Object.keys(fieldErrors).map((f) => <code key={f}>{f} </code>)}
            </div>
          )}
          <div className="editor-layout">
            <EditorForm form={form} onChange={setForm} errors={fieldErrors} providers={providers} disabled={!canEdit} />
            <PreviewPanel workspace={workspace} persona={current.id} publishedVersion={current.version}
              publishedParameters={(current.parameters ?? []).flatMap((p) => (p.name ? [p.name] : []))} form={form} edited={edited} />
          </div>
        </>
      )}
      {tab === "versions" && (
        <VersionsTab workspace={workspace} persona={current} canEdit={canEdit}
          onReverted={(p) => { setPersona(p); if (!draft && !dirty) { setForm(toSpec(p)); setBaseline(toSpec(p)); } else setReload((n) => n + 1); }} />
      )}
      {tab === "analytics" && (
        <AnalyticsPanel workspace={workspace} path={analyticsPaths.persona(workspace, current.id)} subject="this persona"
          emptyHint="Figures appear once workflows run with this persona: each model call counts toward the version that made it." />
      )}
      {tab === "memory" && <MemoryTab workspace={workspace} persona={current} canEdit={canEdit} />}
      {tab === "card" && <CardTab workspace={workspace} persona={current} />}
      {prompt}
    </div>
  );
}

function ConflictNotice({ conflict, name, busy, onChoose, onClose, onCompare }: {
  conflict: Conflict; name: string; busy: boolean; onChoose: (choice: "theirs" | "mine" | "force") => void; onClose: () => void; onCompare?: () => void;
}) {
  const by = "by" in conflict && conflict.by ? ` by ${conflict.by}` : "";
  return (
    <Dialog open title="Someone else changed this persona" onClose={onClose}>
      <div className="stack conflict" role="alert">
        {conflict.kind === "published" && (
          <p><strong>{name} was published as version {conflict.current}{by}</strong> since you opened it at version {conflict.loaded}. Your changes were not saved, and nothing of theirs was overwritten.</p>
        )}
        {conflict.kind === "draft" && (
          <p><strong>Your draft was saved from another tab or window</strong>{conflict.current ? ` (it is at revision ${conflict.current})` : ""}. The changes on this page were not saved.</p>
        )}
        {conflict.kind === "publish-stale" && (
          <p><strong>{name} was published as version {conflict.current}{by}</strong> since your draft started from version {conflict.base}. Publishing now would replace their change (it stays in the history).</p>
        )}
        {conflict.kind !== "publish-stale" && (
          <p className="muted">Keeping yours applies the fields you changed on top of {conflict.kind === "draft" ? "the saved draft" : "their version"}; where you both changed a field, yours wins. It goes to your draft, to publish when ready.</p>
        )}
        <div className="conflict-actions">
          {conflict.kind === "publish-stale"
            ? <Button variant="danger" busy={busy} onClick={() => onChoose("force")}>Publish mine anyway</Button>
            : <Button variant="primary" busy={busy} onClick={() => onChoose("mine")}>Keep my changes over theirs</Button>}
          <Button busy={busy} onClick={() => onChoose("theirs")}>{conflict.kind === "draft" ? "Load the saved draft" : "Load their version (drop mine)"}</Button>
          {onCompare && <Button variant="ghost" onClick={() => { onClose(); onCompare(); }}>Compare versions</Button>}
          <Button variant="ghost" onClick={onClose}>Decide later</Button>
        </div>
      </div>
    </Dialog>
  );
}

/** The API's Markdown card, to read and to copy into docs. */
function CardTab({ workspace, persona }: { workspace: string; persona: Persona }) {
  const [card, setCard] = useState<string | null>(null);
  const [source, setSource] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const toast = useToast();
  const download = useMemo(() => (card === null ? null : URL.createObjectURL(new Blob([card], { type: "text/markdown" }))), [card]);
  useEffect(() => () => { if (download) URL.revokeObjectURL(download); }, [download]);
  useEffect(() => {
    let live = true;
    personasApi.card(workspace, persona.id).then((c) => { if (live) { setCard(c); setError(null); } }).catch((e: unknown) => { if (live) setError(e); });
    return () => { live = false; };
  }, [workspace, persona.id, persona.version]);

  if (error != null) return <ProblemBanner error={error} />;
  if (card === null) return <Loading label="Loading the card…" />;
  return (
    <section className="stack" aria-label="Persona card">
      <div className="button-row">
        <Button onClick={() => { void navigator.clipboard.writeText(card).then(() => toast.success("Card copied as Markdown."), (e: unknown) => toast.error(e)); }}>Copy Markdown</Button>
        {download && <a className="btn" href={download} download={`${persona.name}.md`}>Download .md</a>}
      </div>
      <div className="segmented" role="group" aria-label="Card view">
        <button type="button" className="btn" aria-pressed={!source} onClick={() => setSource(false)}>Rendered</button>
        <button type="button" className="btn" aria-pressed={source} onClick={() => setSource(true)}>Markdown source</button>
      </div>
      {source ? <pre className="card-markdown" data-testid="persona-card">{card}</pre> : <div className="card-rendered" data-testid="persona-card"><Markdown text={card} /></div>}
    </section>
  );
}
