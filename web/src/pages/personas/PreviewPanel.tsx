import { Fragment, useEffect, useMemo, useState } from "react";
import { personasApi, type PersonaParameter, type PersonaPreview, type PersonaSpec } from "../../api/personas";
import { Input, ProblemBanner, Select, Spinner } from "../../components";
import { parseTemplate } from "./template";

function valueFor(parameter: PersonaParameter, text: string): unknown {
  if (text === "") return undefined;
  switch (parameter.type) {
    case "number": return Number.isFinite(Number(text)) ? Number(text) : text;
    case "boolean": return text === "true";
    case "json": try { return JSON.parse(text) as unknown; } catch { return text; }
    default: return text;
  }
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * The system prompt as a run would get it. Values typed here (defaults fill the rest) are sent to the API's
 * preview, which renders the published version; while the editor holds changes not yet published, the
 * edited instructions are rendered here too, with each inserted value marked, so the effect of an edit shows
 * as it is typed.
 */
export function PreviewPanel({ workspace, persona, publishedVersion, publishedParameters, form, edited }: {
  workspace: string;
  persona: string;
  publishedVersion: number;
  /** The names of the published version's parameters: the only values its preview takes. */
  publishedParameters: string[];
  form: PersonaSpec;
  edited: boolean;
}) {
  const parameters = useMemo(() => (form.parameters ?? []).filter((p) => p.name), [form.parameters]);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const values = useMemo(() => {
    const result: Record<string, unknown> = {};
    for (const p of parameters) {
      const v = valueFor(p, texts[p.name!] ?? "");
      if (v !== undefined) result[p.name!] = v;
    }
    return result;
  }, [parameters, texts]);
  const publishedKey = publishedParameters.join("\n");
  const serverValues = useMemo(() => {
    const known = new Set(publishedKey.split("\n"));
    return JSON.stringify(Object.fromEntries(Object.entries(values).filter(([name]) => known.has(name))));
  }, [values, publishedKey]);

  const [server, setServer] = useState<PersonaPreview | null>(null);
  const [serverError, setServerError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  // The API's rendering of the published version, asked again once typing pauses.
  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    const timer = window.setTimeout(() => {
      // Values for parameters only the draft has would be refused by the published version: send the ones it knows.
      personasApi.preview(workspace, persona, JSON.parse(serverValues) as Record<string, unknown>, abort.signal)
        .then((result) => { setServer(result); setServerError(null); setLoading(false); })
        .catch((e: unknown) => { if (!abort.signal.aborted) { setServerError(e); setLoading(false); } });
    }, 400);
    return () => { window.clearTimeout(timer); abort.abort(); };
  }, [workspace, persona, serverValues, publishedVersion]);

  const segments = useMemo(() => parseTemplate(form.instructions ?? ""), [form.instructions]);
  const byName = new Map(parameters.map((p) => [p.name!, p]));

  return (
    <aside className="preview-panel" aria-label="System prompt preview">
      <h2>Preview</h2>
      {parameters.length > 0 && (
        <div className="stack preview-values">
          {parameters.map((p) => (
            p.type === "boolean" ? (
              <Select key={p.name} label={`Value of ${p.name}`} value={texts[p.name!] ?? ""} onChange={(e) => setTexts({ ...texts, [p.name!]: e.target.value })}
                options={[{ value: "", label: `Default (${asText(p.default) || "none"})` }, { value: "true", label: "true" }, { value: "false", label: "false" }]} />
            ) : p.type === "enum" ? (
              <Select key={p.name} label={`Value of ${p.name}`} value={texts[p.name!] ?? ""} onChange={(e) => setTexts({ ...texts, [p.name!]: e.target.value })}
                options={[{ value: "", label: `Default (${asText(p.default) || "none"})` }, ...(p.values ?? []).map((v) => ({ value: v, label: v }))]} />
            ) : (
              <Input key={p.name} label={`Value of ${p.name}`} value={texts[p.name!] ?? ""} onChange={(e) => setTexts({ ...texts, [p.name!]: e.target.value })}
                placeholder={asText(p.default) ? `Default: ${asText(p.default)}` : p.required ? "Required" : "Empty"} />
            )
          ))}
        </div>
      )}

      {edited && (
        <section className="preview-block" aria-label="Your edited instructions, rendered">
          <h3 className="subheading">Your edits</h3>
          <pre className="prompt" data-testid="draft-preview">
            {segments.length === 0 && <span className="muted">No instructions yet.</span>}
            {segments.map((s, i) => {
              if (s.kind === "text") return <Fragment key={i}>{s.text}</Fragment>;
              if (s.kind === "invalid") return <mark key={i} className="ph ph-invalid" title={s.message}>{s.source}</mark>;
              const [name = "", ...path] = s.path;
              const parameter = byName.get(name);
              if (!parameter) return <mark key={i} className="ph ph-invalid" title={`No parameter named ${name}`}>{s.source}</mark>;
              let value: unknown = name in values ? values[name] : parameter.default;
              for (const member of path) value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[member] : undefined;
              const text = asText(value);
              return text
                ? <mark key={i} className="ph ph-filled" title={s.source}>{text}</mark>
                : <mark key={i} className="ph ph-empty" title={parameter.required ? "Required: give a value" : "No value and no default: inserted empty"}>{s.source}</mark>;
            })}
          </pre>
          <p className="field-hint">Rendered here as you type; Cadre renders the same way once you publish.</p>
        </section>
      )}

      <section className="preview-block" aria-label="The published version, rendered by Cadre">
        <h3 className="subheading">The published version, as Cadre renders it {loading && <Spinner size="small" label="Rendering…" />}</h3>
        {serverError != null ? <ProblemBanner error={serverError} /> : (
          <pre className="prompt" data-testid="server-preview">{server ? (server.systemPrompt || <span className="muted">No instructions.</span>) : " "}</pre>
        )}
      </section>
    </aside>
  );
}
