// What the building-block and administration pages share: a cursor-paged list loader, the list's
// states, a confirmation dialog for what cannot be undone, and the one-time display of a secret.
import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import type { Page } from "../../api/client";
import { Button, Dialog, Input, LoadFailed, Loading, ProblemBanner, useSubmission } from "../../components";

/** The messages for `field` and for its members (`config.url` under `config`), so nothing the API said is lost. */
export function errorsUnder(errors: Record<string, string[]>, field: string): string[] | undefined {
  const messages = Object.entries(errors)
    .filter(([key]) => key === field || key.startsWith(`${field}.`))
    .flatMap(([key, list]) => (key === field ? list : list.map((m) => `${key.slice(field.length + 1)}: ${m}`)));
  return messages.length ? messages : undefined;
}

export interface PagedList<T> {
  page: Page<T> | null;
  error: unknown;
  loading: boolean;
  /** Loads the page a `next`/`previous` link names (null: the first). */
  go: (link: string | null) => void;
  /** Loads the current page again (after a change). */
  reload: () => void;
  /** Changes the loaded rows in place (an optimistic update, or the API's answer to a change). */
  update: (change: (rows: T[]) => T[]) => void;
}

/** Loads a list page by page with the API's cursor links; `key` changing (a search, a workspace) starts again at the first. */
export function usePagedList<T>(load: (link: string | null, signal: AbortSignal) => Promise<Page<T>>, key: string): PagedList<T> {
  const [link, setLink] = useState<string | null>(null);
  const [page, setPage] = useState<Page<T> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => { setLink(null); }, [key]);

  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    loadRef.current(link, abort.signal)
      .then((result) => { setPage(result); setError(null); setLoading(false); })
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        setError(e);
        setLoading(false);
      });
    return () => abort.abort();
  }, [link, key, generation]);

  const go = useCallback((next: string | null) => setLink(next), []);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const update = useCallback((change: (rows: T[]) => T[]) => setPage((p) => p && { ...p, results: change(p.results) }), []);
  return { page, error, loading, go, reload, update };
}

/**
 * A list's states around its table: the API's problem with a retry, a first load, the empty state
 * (`empty`), or the rows (`children`) with previous/next pages.
 */
export function ListView<T>({ list, label, empty, children }: {
  list: PagedList<T>;
  label: string;
  empty: ReactNode;
  children: (rows: T[]) => ReactNode;
}) {
  const { page, error, loading } = list;
  if (error != null) {
    return (
      <LoadFailed error={error} onRetry={list.reload} />
    );
  }
  if (!page) return loading ? <Loading label={`Loading ${label}…`} /> : null;
  if (page.results.length === 0 && !page.previous) return <>{empty}</>;
  return (
    <div className={loading ? "is-refreshing" : undefined} aria-busy={loading}>
      {children(page.results)}
      {(page.next || page.previous) && (
        <nav className="pager" aria-label={`Pages of ${label}`}>
          <Button disabled={!page.previous || loading} onClick={() => list.go(page.previous)}>← Previous</Button>
          <Button disabled={!page.next || loading} onClick={() => list.go(page.next)}>Next →</Button>
        </nav>
      )}
    </div>
  );
}

/** "1 secret" / "3 secrets". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * Asks before an action that cannot be undone; the API's refusal shows in the dialog. With `typed`,
 * the person types that text (a workspace's name) before the action is offered.
 */
export function ConfirmDialog({ open, title, children, confirmLabel, onConfirm, onClose, typed }: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
  typed?: string;
}) {
  const { busy, error, run, reset } = useSubmission({ keepBusyOnSuccess: true });
  const [text, setText] = useState("");
  useEffect(() => { if (open) { reset(); setText(""); } }, [open, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(onConfirm);
  };

  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        {error != null && <ProblemBanner error={error} />}
        <div>{children}</div>
        {typed !== undefined && (
          <Input label={`Type ${typed} to confirm`} value={text} onChange={(e) => setText(e.target.value)} autoComplete="off" spellCheck={false} autoFocus />
        )}
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="danger" busy={busy} disabled={typed !== undefined && text !== typed}>{confirmLabel}</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** A secret the API shows once (a new key, an invitation link): the value, a copy button, and a plain warning. */
export function OneTimeSecret({ label, value, warning }: { label: string; value: string; warning: ReactNode }) {
  const valueId = useId();
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("yes");
    } catch {
      // Without clipboard access (an insecure origin) the text is selected for the person to copy.
      const element = document.getElementById(valueId);
      if (element instanceof HTMLInputElement) element.select();
      setCopied("no");
    }
  };
  return (
    <div className="one-time-secret">
      <p className="one-time-warning" role="note"><strong>Copy it now.</strong> {warning}</p>
      <label htmlFor={valueId} className="strong">{label}</label>
      <div className="one-time-value">
        <input id={valueId} readOnly value={value} className="code-input" onFocus={(e) => e.target.select()} spellCheck={false} />
        <Button onClick={() => void copy()}>Copy</Button>
      </div>
      <span role="status" className="muted">{copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "The browser refused the clipboard: the text is selected, press Ctrl+C." : ""}</span>
    </div>
  );
}

/** Tags typed as a comma-separated list. */
export const parseTags = (text: string) => text.split(",").map((t) => t.trim()).filter(Boolean);

/** A short label for who did something. */
export function ActorName({ actor }: { actor: { name: string; kind: string } | null | undefined }) {
  if (!actor) return <span className="muted">—</span>;
  return <span title={actor.kind.replace("_", " ")}>{actor.name}</span>;
}
