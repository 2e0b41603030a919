import { useEffect, useId, useRef, useState } from "react";
import { admin } from "../../api/admin";
import type { Page } from "../../api/client";
import { useCanEdit } from "../../app/permissions";
import { Button } from "../../components";

interface Row {
  key: number;
  name: string;
  secret: string;
}

let nextKey = 0;
const row = (name = "", secret = ""): Row => ({ key: nextKey++, name, secret });

/** The rows a credentials map (as the form's JSON text) holds; text that is not such a map gives none. */
function toRows(text: string): Row[] {
  try {
    const value: unknown = text.trim() ? JSON.parse(text) : {};
    if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
    return Object.entries(value as Record<string, unknown>).map(([name, secret]) => row(name, typeof secret === "string" ? secret : JSON.stringify(secret)));
  } catch {
    return [];
  }
}

/** The map the rows describe, as the form keeps it: JSON text, empty for no credentials. Blank rows are left out. */
function toText(rows: Row[]): string {
  const filled = rows.filter((r) => r.name.trim() || r.secret.trim());
  return filled.length ? JSON.stringify(Object.fromEntries(filled.map((r) => [r.name.trim(), r.secret.trim()])), null, 2) : "";
}

/** The workspace's secrets' names, every page of them (the API lists them to editors and above). */
async function secretNames(workspace: string, signal: AbortSignal): Promise<string[]> {
  const names: string[] = [];
  let link: string | null = null;
  for (let pages = 0; pages < 20; pages++) {
    const page: Page<{ name: string }> = await admin.secrets(workspace, { link }, signal);
    names.push(...page.results.map((s) => s.name));
    if (!page.next) break;
    link = page.next;
  }
  return names.sort();
}

/**
 * A workflow's credentials (docs/workflows.md): rows of a name the steps use → the workspace secret it stands for,
 * added and removed one by one. The secret is typed with the workspace's secret names offered, for those the API
 * lists them to (editors and above); a name that is not among them is pointed out, not refused, as the secret may
 * be made later. The value stays the form's JSON text, so the tab saves and compares it as before; the API's messages
 * (`credentials.<name>`) show under the field and mark their row.
 */
export function CredentialsField({ workspace, value, onChange, errors }: {
  workspace: string;
  /** The credentials map as JSON text ("" for none). */
  value: string;
  onChange: (text: string) => void;
  errors?: string[];
}) {
  const id = useId();
  const canList = useCanEdit(workspace);
  const [rows, setRows] = useState<Row[]>(() => toRows(value));
  const [names, setNames] = useState<string[] | null>(null);
  // The text these rows last gave: any other value came from outside (a discard, a reload) and replaces the rows.
  const emitted = useRef(value);

  useEffect(() => {
    if (value !== emitted.current) {
      emitted.current = value;
      setRows(toRows(value));
    }
  }, [value]);

  useEffect(() => {
    if (!canList) return;
    const abort = new AbortController();
    secretNames(workspace, abort.signal).then(setNames).catch(() => { if (!abort.signal.aborted) setNames(null); });
    return () => abort.abort();
  }, [workspace, canList]);

  const change = (next: Row[]) => {
    setRows(next);
    emitted.current = toText(next);
    onChange(emitted.current);
  };
  // A row added from the keyboard takes the focus, so its name is typed next.
  const added = useRef<number | null>(null);
  useEffect(() => {
    if (added.current === null) return;
    document.getElementById(`${id}-name-${added.current}`)?.focus();
    added.current = null;
  }, [rows, id]);
  const add = () => {
    const blank = row();
    added.current = blank.key;
    setRows([...rows, blank]);
  };
  const update = (key: number, member: "name" | "secret", text: string) => change(rows.map((r) => (r.key === key ? { ...r, [member]: text } : r)));

  const described = [`${id}-hint`, errors?.length && `${id}-errors`].filter(Boolean).join(" ");
  const invalid = (name: string) => !!name.trim() && !!errors?.some((m) => m.startsWith(`credentials.${name.trim()}:`));
  const named = rows.map((r) => r.name.trim());
  return (
    <fieldset className="credentials-field" aria-describedby={described}>
      <legend>Credentials</legend>
      <div id={`${id}-hint`} className="field-hint">
        A name the steps use → the workspace secret it stands for; credentials name secrets, never hold their values.
      </div>
      {rows.length > 0 && (
        <ul className="credentials-rows">
          {rows.map((r, i) => {
            const label = r.name.trim() || `${i + 1}`;
            const twice = !!r.name.trim() && named.filter((n) => n === r.name.trim()).length > 1;
            const unknown = names !== null && !!r.secret.trim() && !names.includes(r.secret.trim());
            const notes = [
              !r.name.trim() && r.secret.trim() && "Give it a name.",
              twice && `${r.name.trim()} names more than one row: only the last of them is kept.`,
              unknown && `No secret is named ${r.secret.trim()} in this workspace yet: runs fail with secret_not_found until an admin makes it.`,
            ].filter(Boolean);
            return (
              <li key={r.key} className="credentials-row">
                <input id={`${id}-name-${r.key}`} aria-label={`Name of credential ${i + 1}`} value={r.name} placeholder="crm" spellCheck={false} autoComplete="off"
                  aria-invalid={invalid(r.name) || twice || undefined} onChange={(e) => update(r.key, "name", e.target.value)} />
                <span aria-hidden="true">→</span>
                <input aria-label={`Secret of credential ${i + 1}`} value={r.secret} placeholder="crm-api-key" spellCheck={false} autoComplete="off"
                  list={names ? `${id}-secrets` : undefined} aria-invalid={invalid(r.name) || undefined}
                  aria-describedby={notes.length ? `${id}-row-${r.key}` : undefined} onChange={(e) => update(r.key, "secret", e.target.value)} />
                <Button variant="ghost" aria-label={`Remove credential ${label}`} onClick={() => change(rows.filter((x) => x.key !== r.key))}>Remove</Button>
                {notes.length > 0 && <div id={`${id}-row-${r.key}`} className="field-hint credentials-note">{notes.join(" ")}</div>}
              </li>
            );
          })}
        </ul>
      )}
      {names && <datalist id={`${id}-secrets`}>{names.map((n) => <option key={n} value={n} />)}</datalist>}
      <div><Button onClick={add}>Add a credential</Button></div>
      {!!errors?.length && (
        <ul id={`${id}-errors`} className="field-errors">
          {errors.map((message) => <li key={message}>{message}</li>)}
        </ul>
      )}
    </fieldset>
  );
}
