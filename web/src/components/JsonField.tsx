import { useMemo } from "react";
import { FieldFrame, useField } from "./Field";

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
  const parsed = useMemo(() => parseJson(value), [value]);
  const messages = [...(parsed.ok ? [] : [`Not JSON: ${parsed.message}`]), ...(errors ?? [])];
  const { inputId, controlProps } = useField(undefined, hint, messages);
  return (
    <FieldFrame inputId={inputId} label={label} hint={hint} errors={messages}>
      <textarea {...controlProps} className="code-input" rows={rows} spellCheck={false} value={value} readOnly={readOnly}
        onChange={(e) => onChange(e.target.value)} />
    </FieldFrame>
  );
}
