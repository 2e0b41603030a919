import { useId, useMemo } from "react";

/** Parses JSON text: the value, or the parser's message. Empty text is `undefined` (nothing given). */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * A JSON text field that says at once when the text is not JSON, before the API is asked; the API's own
 * messages for the field (`errors`) show beneath it too. The value stays text, so nothing typed is lost.
 */
export function JsonField({ label, value, onChange, errors, hint, rows = 8, readOnly }: {
  label: string;
  value: string;
  onChange: (text: string) => void;
  errors?: string[];
  hint?: string;
  rows?: number;
  readOnly?: boolean;
}) {
  const inputId = useId();
  const parsed = useMemo(() => parseJson(value), [value]);
  const messages = [...(parsed.ok ? [] : [`Not JSON: ${parsed.message}`]), ...(errors ?? [])];
  const describedBy = [hint && `${inputId}-hint`, messages.length && `${inputId}-errors`].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <textarea id={inputId} className="code-input" rows={rows} spellCheck={false} value={value} readOnly={readOnly}
        onChange={(e) => onChange(e.target.value)} aria-invalid={messages.length ? true : undefined} aria-describedby={describedBy} />
      {hint && <div id={`${inputId}-hint`} className="field-hint">{hint}</div>}
      {messages.length > 0 && (
        <ul id={`${inputId}-errors`} className="field-errors">
          {messages.map((message) => <li key={message}>{message}</li>)}
        </ul>
      )}
    </div>
  );
}
