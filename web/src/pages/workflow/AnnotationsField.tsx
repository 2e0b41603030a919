import { useId, useState, type ReactNode } from "react";
import { workflowsApi, type AnnotateResult } from "../../api/workflows";
import { Button, Input, JsonField, ProblemBanner, Select, parseJson, useSubmission } from "../../components";
import { errorsUnder } from "../admin/shared";
import { CheckboxInput } from "../personas/fields";
import { useWorkflow } from "./WorkflowPage";

// The workflow's annotations (docs/workflows.md, "Annotations") as a row per annotation, and a panel that runs the
// saved ones against a context. The Configuration tab keeps annotations as JSON text in its form; this field reads
// and writes that text, so the tab's save, discard and unsaved-changes checks work on it as on any other field.

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === "object" && value !== null && !Array.isArray(value);
const str = (value: unknown) => (value === undefined || value === null ? "" : String(value));
const pretty = (value: unknown) => JSON.stringify(value, null, 2);
const isEmpty = (value: unknown) => value == null || value === "" || (Array.isArray(value) && value.length === 0) || (isObj(value) && Object.keys(value).length === 0);

/** The server's annotators (WorkflowRules.Annotators), what their input names, and the relation each can add. */
const annotators: { value: string; label: string; starter: Obj; hint: string; relation?: { name: string; label: string } }[] = [
  {
    value: "persona", label: "persona", starter: { name: "{{ context.body.persona }}" },
    hint: "A persona of the workspace, by id or name.", relation: { name: "workflows", label: "Also the workflows that use it (relations: workflows)" },
  },
  {
    value: "workflow", label: "workflow", starter: { name: "{{ context.body.workflow }}" },
    hint: "A workflow of the workspace, by id or name.", relation: { name: "personas", label: "Also the personas it uses (relations: personas)" },
  },
  { value: "run", label: "run", starter: { id: "{{ context.body.runId }}" }, hint: "A run of the workspace (as GET …/runs/{run} answers it), by id." },
  { value: "event", label: "event", starter: { id: "{{ context.body.eventId }}" }, hint: "An event of the workspace (type, source, payload, time), by id." },
  { value: "http", label: "http request", starter: {}, hint: "GET, or POST with a body; writes {status, headers, body}, and a status other than 2xx fails it." },
];
const annotatorOf = (name: string) => annotators.find((a) => a.value === name);
const relationNames = annotators.flatMap((a) => (a.relation ? [a.relation.name] : []));

/** The members of an http annotation's input the form shows as fields. */
interface HttpFields {
  /** The input as loaded: members the fields do not cover are kept. */
  base: Obj;
  url: string;
  method: string;
  timeout: string;
  headers: string;
  body: string;
}

interface Row {
  key: string;
  /** The annotation as loaded: members the form does not show are kept, and an untouched row is written back as it was. */
  original: Obj;
  id: string;
  annotator: string;
  /** The input as JSON text (every annotator but http). */
  input: string;
  http: HttpFields;
  writeTo: string;
  required: string[];
  relations: string[];
}

let rowCount = 0;
const newKey = () => `annotation-${++rowCount}`;

function httpFields(input: Obj): HttpFields {
  const text = (value: unknown) => (value === undefined || value === null ? "" : pretty(value));
  return { base: input, url: str(input.url), method: str(input.method), timeout: str(input.timeout), headers: text(input.headers), body: text(input.body) };
}

function toRow(annotation: unknown): Row {
  const a = isObj(annotation) ? annotation : {};
  const input = isObj(a.input) ? a.input : {};
  return {
    key: newKey(), original: a, id: str(a.id), annotator: str(a.annotator) || "persona",
    input: a.input === undefined || a.input === null ? "" : pretty(a.input), http: httpFields(input),
    writeTo: str(a.writeTo),
    required: Array.isArray(a.required) ? a.required.map(String) : [],
    relations: Array.isArray(a.relations) ? a.relations.map(String) : [],
  };
}

function toRows(text: string): Row[] {
  const parsed = parseJson(text);
  return parsed.ok && Array.isArray(parsed.value) ? parsed.value.map(toRow) : [];
}

/** Sets `key` to `value`; an empty value removes it, unless it was empty as loaded (so an untouched row stays as it was). */
function put(target: Obj, original: Obj, key: string, value: unknown) {
  if (!isEmpty(value)) target[key] = value;
  else if (!isEmpty(original[key])) delete target[key];
}

type Parsed = { ok: true; value: unknown } | { ok: false };

function httpInput(h: HttpFields): Parsed {
  const headers = parseJson(h.headers);
  const body = parseJson(h.body);
  if (!headers.ok || !body.ok) return { ok: false };
  const input: Obj = { ...h.base };
  put(input, h.base, "url", h.url.trim());
  put(input, h.base, "method", h.method);
  put(input, h.base, "headers", headers.value);
  put(input, h.base, "body", body.value);
  put(input, h.base, "timeout", h.timeout.trim());
  return { ok: true, value: input };
}

const inputOf = (row: Row): Parsed => (row.annotator === "http" ? httpInput(row.http) : parseJson(row.input));

function toAnnotation(row: Row): Obj | null {
  const input = inputOf(row);
  if (!input.ok) return null;
  const next: Obj = { ...row.original };
  put(next, row.original, "id", row.id.trim());
  put(next, row.original, "annotator", row.annotator);
  put(next, row.original, "input", input.value);
  put(next, row.original, "writeTo", row.writeTo.trim());
  put(next, row.original, "required", row.required);
  put(next, row.original, "relations", row.relations);
  return next;
}

/**
 * The rows as the form's text: "" for none (the API's default), else the JSON list. A row whose input is not JSON
 * makes the text unreadable on purpose, so the tab's save stops with a JSON error, as it did for the raw field.
 */
function toText(rows: Row[]): string {
  if (rows.length === 0) return "";
  const annotations = rows.map(toAnnotation);
  const broken = annotations.findIndex((a) => a === null);
  return broken >= 0 ? `Annotation ${broken + 1}'s input is not JSON.` : pretty(annotations);
}

/** The saved annotations as the tab's form holds them, to tell whether the field differs from the saved definition. */
const savedText = (annotations: unknown) => (isEmpty(annotations) ? "" : pretty(annotations));

/** `annotations[2].input.url` (or `annotations.2.input.url`) → [2, "input.url"]. */
function splitKey(key: string): [number, string] | null {
  const match = /^annotations(?:\[(\d+)\]|\.(\d+))(?:\.(.*))?$/.exec(key);
  return match ? [Number(match[1] ?? match[2]), match[3] ?? ""] : null;
}

/**
 * The annotations as rows: ID, annotator, input (JSON, or URL, method, headers, body and timeout for http), where
 * the result goes, the required input members and the relation to fetch; rows are added, removed and reordered. The
 * API's messages (`annotations[0].input.name`) show under the row and field they name, by the rows' order when the
 * answer came. Below, "Try annotations" runs the saved ones.
 */
export function AnnotationsField({ value, onChange, errors }: { value: string; onChange: (text: string) => void; errors: Record<string, string[]> }) {
  const { workflow } = useWorkflow();
  const headingId = useId();
  // The rows and the text they were last read from or written as; another text (a discard) is read again.
  const [state, setState] = useState(() => ({ text: value, rows: toRows(value) }));
  const rows = state.rows;
  // The API's messages name rows by their position in what was sent: keep that order while the messages stand.
  const [sent, setSent] = useState(() => ({ errors, keys: rows.map((r) => r.key) }));
  if (state.text !== value) setState({ text: value, rows: toRows(value) });
  else if (sent.errors !== errors) setSent({ errors, keys: rows.map((r) => r.key) });

  const change = (next: Row[]) => {
    const text = toText(next);
    setState({ text, rows: next });
    onChange(text);
  };
  const update = (key: string, changes: Partial<Row>) => change(rows.map((r) => (r.key === key ? { ...r, ...changes } : r)));
  const move = (index: number, by: number) => {
    const next = [...rows];
    const [row] = next.splice(index, 1);
    next.splice(index + by, 0, row!);
    change(next);
  };
  const add = () => change([...rows, { ...toRow({ annotator: "persona", input: annotators[0]!.starter }), original: {} }]);

  const broken = rows.findIndex((r) => !inputOf(r).ok);
  const general = [
    // The tab cannot read the text while a row's input is not JSON (see toText): say which row.
    ...(errors.annotations ?? []).map((m) => (broken >= 0 && m.startsWith("Not JSON") ? `Annotation ${broken + 1}'s input is not JSON: nothing was saved.` : m)),
    // Messages for rows that are gone since (removed after the answer came) stay visible here.
    ...Object.entries(errors).flatMap(([key, messages]) => {
      const split = splitKey(key);
      return split && !rows.some((r) => sent.keys.indexOf(r.key) === split[0]) ? messages.map((m) => `${key}: ${m}`) : [];
    }),
  ];
  const unsaved = value !== savedText(workflow.annotations);

  return (
    <section className="annotations-field stack" aria-labelledby={headingId}>
      <div>
        <h3 id={headingId} className="subheading">Annotations</h3>
        <p className="field-hint">Fetched into the context before the first step, in order: each may read what the earlier ones wrote. Inputs are
          templates over <code>context</code>, <code>workflow</code> and <code>secrets</code>.</p>
        {general.length > 0 && <ul className="field-errors">{general.map((m) => <li key={m}>{m}</li>)}</ul>}
      </div>
      {rows.length === 0 && <p className="muted">None: runs start with the context as it comes.</p>}
      {rows.map((row, i) => {
        const sentAt = sent.keys.indexOf(row.key);
        const own: Record<string, string[]> = {};
        if (sentAt >= 0) {
          for (const [key, messages] of Object.entries(errors)) {
            const split = splitKey(key);
            if (split && split[0] === sentAt) own[split[1]] = [...(own[split[1]] ?? []), ...messages];
          }
        }
        return (
          <AnnotationRow key={row.key} row={row} index={i} count={rows.length} errors={own}
            onChange={(changes) => update(row.key, changes)} onMove={(by) => move(i, by)}
            onRemove={() => change(rows.filter((r) => r.key !== row.key))} />
        );
      })}
      <div><Button onClick={add}>Add an annotation</Button></div>
      <AnnotationPreview unsaved={unsaved} />
    </section>
  );
}

function AnnotationRow({ row, index, count, errors, onChange, onMove, onRemove }: {
  row: Row;
  index: number;
  count: number;
  errors: Record<string, string[]>;
  onChange: (changes: Partial<Row>) => void;
  onMove: (by: number) => void;
  onRemove: () => void;
}) {
  const errorsId = useId();
  const name = `annotation ${row.id || index + 1}`;
  const known = ["id", "annotator", "input", "writeTo", "required", "relations"];
  const own = Object.entries(errors).filter(([member]) => !known.some((k) => member === k || member.startsWith(`${k}.`) || member.startsWith(`${k}[`)));
  const annotator = annotatorOf(row.annotator);
  const input = inputOf(row);
  const members = [...new Set([...(input.ok && isObj(input.value) ? Object.keys(input.value) : []), ...row.required])];

  const changeAnnotator = (next: string) => {
    const changes: Partial<Row> = { annotator: next };
    const previous = annotatorOf(row.annotator);
    const untouched = (text: string) => text.trim() === "" || text.trim() === "{}" || (previous !== undefined && text === pretty(previous.starter));
    if (next === "http" && row.annotator !== "http") {
      const parsed = parseJson(row.input);
      changes.http = httpFields(!untouched(row.input) && parsed.ok && isObj(parsed.value) ? parsed.value : {});
    } else if (next !== "http") {
      const text = row.annotator === "http" ? (() => { const built = httpInput(row.http); return built.ok ? pretty(built.value) : row.input; })() : row.input;
      changes.input = untouched(text) ? pretty(annotatorOf(next)?.starter ?? {}) : text;
    }
    // A relation belongs to its annotator: the other's is dropped, anything unknown is kept.
    changes.relations = row.relations.filter((r) => !relationNames.includes(r) || annotatorOf(next)?.relation?.name === r);
    onChange(changes);
  };

  return (
    <fieldset className="row-editor annotation-row" aria-describedby={own.length ? errorsId : undefined}>
      <legend>Annotation {index + 1}{row.id && `: ${row.id}`}</legend>
      {own.length > 0 && (
        <ul id={errorsId} className="field-errors">{own.flatMap(([member, messages]) => messages.map((m) => <li key={`${member}${m}`}>{member ? `${member}: ${m}` : m}</li>))}</ul>
      )}
      <div className="form-grid">
        <Input label="ID" value={row.id} onChange={(e) => onChange({ id: e.target.value })} errors={errorsUnder(errors, "id")} spellCheck={false}
          placeholder="customer" hint="Letters, digits, _ and -, starting with a letter." />
        <Select label="Annotator" value={row.annotator} onChange={(e) => changeAnnotator(e.target.value)} errors={errorsUnder(errors, "annotator")}
          options={[...annotators.map((a) => ({ value: a.value, label: a.label })), ...(annotator ? [] : [{ value: row.annotator, label: row.annotator }])]}
          hint={annotator?.hint} />
        <Input label="Write to" value={row.writeTo} onChange={(e) => onChange({ writeTo: e.target.value })} errors={errorsUnder(errors, "writeTo")} spellCheck={false}
          placeholder={`annotations.${row.id || "<id>"}`} hint="Where in the context the result goes." />
      </div>
      {row.annotator === "http"
        ? <HttpInput fields={row.http} errors={errors} onChange={(http) => onChange({ http: { ...row.http, ...http } })} />
        : (
          <JsonField label="Input" value={row.input} onChange={(text) => onChange({ input: text })} errors={errorsUnder(errors, "input")} rows={3}
            hint={`A JSON object of templates, such as ${JSON.stringify(annotator?.starter ?? { id: "…" })}.`} />
        )}
      <fieldset className="annotation-required">
        <legend>Required members</legend>
        {members.length === 0
          ? <p className="field-hint">The input has no members yet.</p>
          : (
            <div className="checkbox-list">
              {members.map((m) => (
                <label key={m} className="checkbox">
                  <input type="checkbox" checked={row.required.includes(m)}
                    onChange={(e) => onChange({ required: e.target.checked ? [...row.required, m] : row.required.filter((x) => x !== m) })} />
                  <code>{m}</code>
                </label>
              ))}
            </div>
          )}
        <FieldMessages messages={errorsUnder(errors, "required")} />
        <p className="field-hint">A required member that renders empty fails the run before its first step.</p>
      </fieldset>
      {annotator?.relation && (
        <CheckboxInput label={annotator.relation.label} checked={row.relations.includes(annotator.relation.name)}
          onChange={(on) => onChange({ relations: on ? [...row.relations, annotator.relation!.name] : row.relations.filter((r) => r !== annotator.relation!.name) })} />
      )}
      <div className="button-row">
        <Button variant="ghost" disabled={index === 0} onClick={() => onMove(-1)} aria-label={`Move ${name} up`}>Up</Button>
        <Button variant="ghost" disabled={index === count - 1} onClick={() => onMove(1)} aria-label={`Move ${name} down`}>Down</Button>
        <Button variant="ghost" onClick={onRemove} aria-label={`Remove ${name}`}>Remove</Button>
      </div>
    </fieldset>
  );
}

function FieldMessages({ messages }: { messages: string[] | undefined }): ReactNode {
  return messages?.length ? <ul className="field-errors">{messages.map((m) => <li key={m}>{m}</li>)}</ul> : null;
}

/** An http annotation's request as fields; members of the input the fields do not cover are kept as they are. */
function HttpInput({ fields, errors, onChange }: { fields: HttpFields; errors: Record<string, string[]>; onChange: (changes: Partial<HttpFields>) => void }) {
  const covered = ["url", "method", "headers", "body", "timeout"];
  const rest = Object.entries(errors)
    .filter(([member]) => (member === "input" || member.startsWith("input.")) && !covered.some((c) => member === `input.${c}` || member.startsWith(`input.${c}.`)))
    .flatMap(([member, messages]) => messages.map((m) => (member === "input" ? m : `${member.slice("input.".length)}: ${m}`)));
  const post = fields.method === "POST";
  return (
    <div className="stack">
      <FieldMessages messages={rest.length ? rest : undefined} />
      <div className="form-grid">
        <Input label="URL" className="span-2" value={fields.url} onChange={(e) => onChange({ url: e.target.value })} errors={errorsUnder(errors, "input.url")}
          spellCheck={false} placeholder="https://crm.example.com/customers/{{ context.body.customerId }}" />
        <Select label="Method" value={fields.method} onChange={(e) => onChange({ method: e.target.value })} errors={errorsUnder(errors, "input.method")}
          options={[{ value: "", label: "GET (default)" }, ...["GET", "POST", ...(["", "GET", "POST"].includes(fields.method) ? [] : [fields.method])].map((m) => ({ value: m, label: m }))]} />
        <Input label="Timeout" value={fields.timeout} onChange={(e) => onChange({ timeout: e.target.value })} errors={errorsUnder(errors, "input.timeout")}
          placeholder="10s" />
      </div>
      <JsonField label="Headers" value={fields.headers} onChange={(text) => onChange({ headers: text })} errors={errorsUnder(errors, "input.headers")} rows={2}
        hint={'A JSON object, such as {"Authorization": "Bearer {{ secrets.crmToken }}"}.'} />
      {(post || fields.body.trim() !== "") && (
        <JsonField label="Body" value={fields.body} onChange={(text) => onChange({ body: text })} errors={errorsUnder(errors, "input.body")} rows={3}
          hint="JSON sent with a POST." />
      )}
    </div>
  );
}

/** Runs the saved definition's annotations against a context typed here (`POST …/annotate`) and shows what they made of it. */
function AnnotationPreview({ unsaved }: { unsaved: boolean }) {
  const { workspace, workflow } = useWorkflow();
  const headingId = useId();
  const [context, setContext] = useState(pretty({ body: {} }));
  const [result, setResult] = useState<AnnotateResult | null>(null);
  const { busy, error, run } = useSubmission();
  const parsed = parseJson(context);
  const usable = parsed.ok && isObj(parsed.value);
  const saved = Array.isArray(workflow.annotations) ? workflow.annotations.length : 0;

  const go = () => run(async () => {
    setResult(null);
    setResult(await workflowsApi.annotate(workspace, workflow.id, parsed.ok && isObj(parsed.value) ? parsed.value : {}));
  });

  return (
    <section className="annotation-preview stack" aria-labelledby={headingId}>
      <h4 id={headingId} className="subheading">Try annotations</h4>
      <p className="field-hint">
        Runs the <strong>saved</strong> annotations (version {workflow.version}: {saved === 1 ? "1 annotation" : `${saved} annotations`}) against a
        context, as a run does before its first step. Nothing runs and nothing is kept, but http annotations do send their requests.
      </p>
      {unsaved && (
        <p className="notice notice-warning" role="note">The annotations above have unsaved changes: the preview runs the saved ones. Save the configuration to try yours.</p>
      )}
      <JsonField label="Context" value={context} onChange={setContext} rows={4}
        errors={parsed.ok && !usable ? ["Must be a JSON object, such as {\"body\": {}}."] : undefined}
        hint="What a run starts with: its input is context.body." />
      <div><Button onClick={() => void go()} busy={busy} disabled={!usable}>Run annotations</Button></div>
      {error != null && <ProblemBanner error={error} />}
      <div aria-live="polite">
        {result && (
          <div className="stack">
            <p className="muted">
              {result.annotations.length === 0 ? "No annotation ran: the context is unchanged." : `Wrote ${result.annotations.map((a) => `${a.writeTo} (${a.id})`).join(", ")}.`}
            </p>
            <pre className="code annotation-result" aria-label="Enriched context">{pretty(result.context)}</pre>
          </div>
        )}
      </div>
    </section>
  );
}
