// Inputs for the persona editor's typed values. Each keeps what the person typed as text, so a half-typed
// number, list or JSON value is never lost, and reports the value only once it means something.
import { useEffect, useId, useState } from "react";
import { deepEqual } from "../../api/personas";

function describedBy(id: string, hint?: string, errors?: string[]) {
  return [hint && `${id}-hint`, errors?.length && `${id}-errors`].filter(Boolean).join(" ") || undefined;
}

function FieldFoot({ id, hint, errors }: { id: string; hint?: string; errors?: string[] }) {
  return (
    <>
      {hint && <div id={`${id}-hint`} className="field-hint">{hint}</div>}
      {!!errors?.length && <ul id={`${id}-errors`} className="field-errors">{errors.map((m) => <li key={m}>{m}</li>)}</ul>}
    </>
  );
}

const splitLabels = (text: string) => text.split(",").map((s) => s.trim()).filter(Boolean);

/** A list of labels typed as comma-separated text. */
export function LabelsInput({ label, value, onChange, errors, hint, disabled }: {
  label: string; value: string[] | null | undefined; onChange: (value: string[]) => void; errors?: string[]; hint?: string; disabled?: boolean;
}) {
  const id = useId();
  const [text, setText] = useState((value ?? []).join(", "));
  useEffect(() => {
    if (!deepEqual(splitLabels(text), value ?? [])) setText((value ?? []).join(", "));
    // Only an outside change (a reload, a reverted version) rewrites the text.
  }, [value]);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} value={text} disabled={disabled} aria-invalid={errors?.length ? true : undefined} aria-describedby={describedBy(id, hint ?? "Separate with commas.", errors)}
        onChange={(e) => { setText(e.target.value); onChange(splitLabels(e.target.value)); }} />
      <FieldFoot id={id} hint={hint ?? "Separate with commas."} errors={errors} />
    </div>
  );
}

/** A number, or nothing (the API's default) when empty. */
export function NumberInput({ label, value, onChange, errors, hint, step, min, max, disabled }: {
  label: string; value: number | null | undefined; onChange: (value: number | null) => void; errors?: string[]; hint?: string;
  step?: number | string; min?: number; max?: number; disabled?: boolean;
}) {
  const id = useId();
  const [text, setText] = useState(value == null ? "" : String(value));
  useEffect(() => {
    const parsed = text.trim() === "" ? null : Number(text);
    if (parsed !== (value ?? null)) setText(value == null ? "" : String(value));
  }, [value]);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="number" inputMode="decimal" value={text} step={step} min={min} max={max} disabled={disabled}
        aria-invalid={errors?.length ? true : undefined} aria-describedby={describedBy(id, hint, errors)}
        onChange={(e) => {
          setText(e.target.value);
          const n = e.target.value.trim() === "" ? null : Number(e.target.value);
          if (n === null || Number.isFinite(n)) onChange(n);
        }} />
      <FieldFoot id={id} hint={hint} errors={errors} />
    </div>
  );
}

/** A JSON value typed as text: reported when it parses (empty is null); a parse error shows at once. */
export function JsonInput({ label, value, onChange, errors, hint, rows = 4, disabled, objectOnly = true }: {
  label: string; value: unknown; onChange: (value: unknown) => void; errors?: string[]; hint?: string; rows?: number; disabled?: boolean; objectOnly?: boolean;
}) {
  const id = useId();
  const format = (v: unknown) => (v === undefined || v === null ? "" : JSON.stringify(v, null, 2));
  const [text, setText] = useState(format(value));
  const [parseError, setParseError] = useState<string | null>(null);
  useEffect(() => {
    let current: unknown = null;
    try { current = text.trim() === "" ? null : JSON.parse(text); } catch { return; }
    if (!deepEqual(current, value ?? null)) { setText(format(value)); setParseError(null); }
  }, [value]);
  const messages = [...(parseError ? [parseError] : []), ...(errors ?? [])];
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} className="code-input" rows={rows} spellCheck={false} value={text} disabled={disabled}
        aria-invalid={messages.length ? true : undefined} aria-describedby={describedBy(id, hint, messages)}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === "") { setParseError(null); onChange(null); return; }
          try {
            const parsed = JSON.parse(e.target.value) as unknown;
            if (objectOnly && (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))) { setParseError("Must be a JSON object, such as {\"key\": \"value\"}."); return; }
            setParseError(null);
            onChange(parsed);
          } catch (err) {
            setParseError(`Not JSON: ${err instanceof Error ? err.message : String(err)}`);
          }
        }} />
      <FieldFoot id={id} hint={hint} errors={messages} />
    </div>
  );
}

/** A yes/no setting as a labelled checkbox. */
export function CheckboxInput({ label, checked, onChange, hint, disabled }: { label: string; checked: boolean; onChange: (value: boolean) => void; hint?: string; disabled?: boolean }) {
  const id = useId();
  return (
    <div className="field field-checkbox">
      <label className="checkbox" htmlFor={id}>
        <input id={id} type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} aria-describedby={hint ? `${id}-hint` : undefined} />
        {label}
      </label>
      {hint && <div id={`${id}-hint`} className="field-hint">{hint}</div>}
    </div>
  );
}
