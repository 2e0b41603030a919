import { useId, useMemo } from "react";
import type {
  GuardrailRule, PersonaExample, PersonaParameter, PersonaSpec, ProviderSummary, SkillReference,
} from "../../api/personas";
import { Button, HighlightedTextArea, Input, Select, TextArea } from "../../components";
import { CheckboxInput, JsonInput, LabelsInput, NumberInput } from "./fields";
import { parseTemplate, placeholderRuns, usedParameters } from "./template";

export type FieldErrors = Record<string, string[]>;

const sections = [
  ["identity", "Identity"], ["instructions", "Instructions"], ["parameters", "Parameters"], ["examples", "Examples"], ["model", "Model"],
  ["skills", "Skills"], ["guardrails", "Guardrails"], ["memory", "Memory and filter"], ["scope", "Scope"], ["voice", "Voice and metadata"],
] as const;

/** Every field of a persona, section by section; the API's messages show next to the field they name. */
export function EditorForm({ form, onChange, errors, providers, disabled }: {
  form: PersonaSpec;
  onChange: (form: PersonaSpec) => void;
  errors: FieldErrors;
  providers: ProviderSummary[];
  disabled: boolean;
}) {
  const set = <K extends keyof PersonaSpec>(key: K, value: PersonaSpec[K]) => onChange({ ...form, [key]: value });
  const setIn = <K extends "model" | "memory" | "filter" | "scope" | "voice" | "guardrails">(key: K, member: string, value: unknown) =>
    onChange({ ...form, [key]: { ...(form[key] ?? {}), [member]: value } });
  const e = (path: string) => errors[path];
  const model = form.model ?? {};
  const providerList = useId();
  const modelList = useId();
  const provider = providers.find((p) => p.name === model.provider);
  const declared = useMemo(() => new Set((form.parameters ?? []).map((p) => p.name ?? "")), [form.parameters]);

  return (
    <div className="persona-form">
      <nav className="section-nav" aria-label="Editor sections">
        {sections.map(([id, title]) => <a key={id} href={`#section-${id}`}>{title}</a>)}
      </nav>
      <fieldset className="form-section" id="section-identity" disabled={disabled}>
        <legend>Identity</legend>
        <div className="form-grid">
          <Input label="Name" value={form.name ?? ""} onChange={(ev) => set("name", ev.target.value)} errors={e("name")}
            hint="Workflows call it by this name; renaming breaks references to the old one." />
          <Input label="Display name" value={form.displayName ?? ""} onChange={(ev) => set("displayName", ev.target.value || null)} errors={e("displayName")} />
          <Input label="Icon" value={form.icon ?? ""} onChange={(ev) => set("icon", ev.target.value || null)} errors={e("icon")} hint="An emoji or icon name." />
          <div className="field">
            <Input label="Colour" value={form.color ?? ""} onChange={(ev) => set("color", ev.target.value || null)} errors={e("color")} hint="#rgb or #rrggbb." />
          </div>
          <Input label="Avatar URL" type="url" value={form.avatarUrl ?? ""} onChange={(ev) => set("avatarUrl", ev.target.value || null)} errors={e("avatarUrl")} className="span-2" />
        </div>
        <TextArea label="Description" rows={2} value={form.description ?? ""} onChange={(ev) => set("description", ev.target.value || null)} errors={e("description")} />
        <div className="form-grid">
          <LabelsInput label="Departments" value={form.departments} onChange={(v) => set("departments", v)} errors={e("departments")} disabled={disabled} />
          <LabelsInput label="Tags" value={form.tags} onChange={(v) => set("tags", v)} errors={e("tags")} disabled={disabled} />
          <LabelsInput label="Flags" value={form.flags} onChange={(v) => set("flags", v)} errors={e("flags")} disabled={disabled} hint="Lowercase slugs such as experimental or disabled." />
        </div>
      </fieldset>

      <fieldset className="form-section" id="section-instructions" disabled={disabled}>
        <legend>Instructions</legend>
        <HighlightedTextArea label="Instructions" className="instructions-field" rows={12} value={form.instructions ?? ""} onChange={(ev) => set("instructions", ev.target.value)}
          highlight={(text) => placeholderRuns(text, declared)} errors={e("instructions")} spellCheck
          hint="The system prompt. Insert a parameter with {{ params.name }} (a json parameter's member with {{ params.name.member }}); write \{{ for literal braces." />
        <Placeholders instructions={form.instructions ?? ""} parameters={form.parameters ?? []} disabled={disabled}
          onDeclare={(name) => set("parameters", [...(form.parameters ?? []), { name, type: "string", required: false }])} />
      </fieldset>

      <fieldset className="form-section" id="section-parameters" disabled={disabled}>
        <legend>Parameters</legend>
        <p className="muted">Typed values the instructions are rendered with. Each run gives values; a default fills any left out.</p>
        <ParametersEditor parameters={form.parameters ?? []} onChange={(v) => set("parameters", v)} errors={errors} disabled={disabled} />
      </fieldset>

      <fieldset className="form-section" id="section-examples" disabled={disabled}>
        <legend>Examples</legend>
        <ExamplesEditor examples={form.examples ?? []} onChange={(v) => set("examples", v)} errors={errors} />
      </fieldset>

      <fieldset className="form-section" id="section-model" disabled={disabled}>
        <legend>Model</legend>
        <div className="form-grid">
          <div className="field">
            <Input label="Provider" list={providerList} value={model.provider ?? ""} onChange={(ev) => setIn("model", "provider", ev.target.value || null)} errors={e("model.provider")}
              hint={providers.length ? "One of the workspace's providers, or another name (accepted with a warning)." : "No provider is connected yet; an admin adds them under Providers."} />
            <datalist id={providerList}>{providers.map((p) => <option key={p.name} value={p.name}>{p.kind}</option>)}</datalist>
          </div>
          <div className="field">
            <Input label="Model name" list={modelList} value={model.model ?? ""} onChange={(ev) => setIn("model", "model", ev.target.value || null)} errors={e("model.model")}
              hint={provider?.defaultModel ? `${provider.name}'s default is ${provider.defaultModel}.` : undefined} />
            <datalist id={modelList}>{provider?.defaultModel && <option value={provider.defaultModel} />}</datalist>
          </div>
          <NumberInput label="Temperature" value={model.temperature} onChange={(v) => setIn("model", "temperature", v)} errors={e("model.temperature")} step="0.1" min={0} max={2} hint="0–2." disabled={disabled} />
          <NumberInput label="Max tokens" value={model.maxTokens} onChange={(v) => setIn("model", "maxTokens", v)} errors={e("model.maxTokens")} min={1} disabled={disabled} />
          <Select label="Reasoning effort" value={model.reasoningEffort ?? ""} onChange={(ev) => setIn("model", "reasoningEffort", ev.target.value || null)} errors={e("model.reasoningEffort")}
            options={[{ value: "", label: "Provider default" }, { value: "low", label: "Low" }, { value: "medium", label: "Medium" }, { value: "high", label: "High" }]} />
          <NumberInput label="Max turns" value={model.maxTurns} onChange={(v) => setIn("model", "maxTurns", v)} errors={e("model.maxTurns")} min={1} max={100} hint="Tool-calling turns before it must answer (default 10)." disabled={disabled} />
          <Select label="Output format" value={model.outputFormat ?? "text"} onChange={(ev) => setIn("model", "outputFormat", ev.target.value)} errors={e("model.outputFormat")}
            options={[{ value: "text", label: "Text" }, { value: "markdown", label: "Markdown" }, { value: "json", label: "JSON" }]} />
        </div>
        {(model.outputFormat === "json" || model.outputSchema) && (
          <JsonInput label="Output schema" value={model.outputSchema} onChange={(v) => setIn("model", "outputSchema", v)} errors={e("model.outputSchema")} rows={6} disabled={disabled}
            hint="A JSON Schema the answers must follow (JSON output only)." />
        )}
      </fieldset>

      <fieldset className="form-section" id="section-skills" disabled={disabled}>
        <legend>Skills</legend>
        <SkillsEditor skills={form.skills ?? []} onChange={(v) => set("skills", v)} errors={errors} disabled={disabled} />
      </fieldset>

      <fieldset className="form-section" id="section-guardrails" disabled={disabled}>
        <legend>Guardrails</legend>
        <LabelsInput label="Shared guardrails" value={form.guardrails?.references} onChange={(v) => setIn("guardrails", "references", v)} errors={e("guardrails.references")} disabled={disabled}
          hint="IDs or names of the workspace's guardrails, separated with commas." />
        <RulesEditor rules={form.guardrails?.rules ?? []} onChange={(v) => setIn("guardrails", "rules", v)} errors={errors} />
      </fieldset>

      <fieldset className="form-section" id="section-memory" disabled={disabled}>
        <legend>Memory and filter</legend>
        <div className="form-grid">
          <Select label="Memory" value={form.memory?.mode ?? "none"} onChange={(ev) => setIn("memory", "mode", ev.target.value)} errors={e("memory.mode")}
            options={[{ value: "none", label: "None" }, { value: "session", label: "Per session" }, { value: "persistent", label: "Persistent" }]} />
          <CheckboxInput label="Remember salient facts on its own" checked={form.memory?.autoMemory ?? false} onChange={(v) => setIn("memory", "autoMemory", v)} disabled={disabled} />
          <CheckboxInput label="Ignore stored memory" checked={form.memory?.bypass ?? false} onChange={(v) => setIn("memory", "bypass", v)} disabled={disabled} />
          <NumberInput label="Confidence threshold" value={form.filter?.confidenceThreshold} onChange={(v) => setIn("filter", "confidenceThreshold", v)} errors={e("filter.confidenceThreshold")}
            step="0.05" min={0} max={1} hint="0–1 (default 0.5): below it the persona does not take an item on." disabled={disabled} />
          <Select label="Issue selection" value={form.filter?.issueSelectionStrategy ?? "highest_confidence"} onChange={(ev) => setIn("filter", "issueSelectionStrategy", ev.target.value)}
            errors={e("filter.issueSelectionStrategy")} options={[
              { value: "highest_confidence", label: "Highest confidence" }, { value: "first_match", label: "First match" },
              { value: "all_above_threshold", label: "All above the threshold" }, { value: "round_robin", label: "Round robin" },
            ]} />
        </div>
      </fieldset>

      <fieldset className="form-section" id="section-scope" disabled={disabled}>
        <legend>Scope</legend>
        <p className="muted">Which events the persona answers; empty answers all.</p>
        <div className="form-grid">
          <LabelsInput label="Event types" value={form.scope?.eventTypes} onChange={(v) => setIn("scope", "eventTypes", v)} errors={e("scope.eventTypes")} hint="Such as ticket.created or ticket.*." disabled={disabled} />
          <LabelsInput label="Sources" value={form.scope?.sources} onChange={(v) => setIn("scope", "sources", v)} errors={e("scope.sources")} disabled={disabled} />
          <LabelsInput label="Event tags" value={form.scope?.tags} onChange={(v) => setIn("scope", "tags", v)} errors={e("scope.tags")} disabled={disabled} />
        </div>
      </fieldset>

      <fieldset className="form-section" id="section-voice" disabled={disabled}>
        <legend>Voice and metadata</legend>
        <div className="form-grid">
          <Input label="Voice ID" value={form.voice?.id ?? ""} onChange={(ev) => setIn("voice", "id", ev.target.value || null)} errors={e("voice.id")} />
          <Input label="Voice name" value={form.voice?.name ?? ""} onChange={(ev) => setIn("voice", "name", ev.target.value || null)} errors={e("voice.name")} />
        </div>
        <JsonInput label="Voice settings" value={form.voice?.metadata} onChange={(v) => setIn("voice", "metadata", v)} errors={e("voice.metadata")} disabled={disabled} hint="Free JSON for the speech engine." />
        <JsonInput label="Metadata" value={form.metadata} onChange={(v) => set("metadata", v as Record<string, unknown> | null)} errors={e("metadata")} disabled={disabled} hint="Free JSON for integrations (at most 64 KiB)." />
      </fieldset>
    </div>
  );
}

/** The placeholders the instructions use, each marked declared or not, and the parameters nothing uses. */
function Placeholders({ instructions, parameters, onDeclare, disabled }: {
  instructions: string; parameters: PersonaParameter[]; onDeclare: (name: string) => void; disabled: boolean;
}) {
  const segments = useMemo(() => parseTemplate(instructions), [instructions]);
  const used = usedParameters(segments);
  const declared = new Set(parameters.map((p) => p.name ?? ""));
  const unused = parameters.filter((p) => p.name && !used.includes(p.name));
  const invalid = segments.filter((s) => s.kind === "invalid");
  if (used.length === 0 && invalid.length === 0 && unused.length === 0) {
    return <p className="field-hint">No placeholders yet. Declare a parameter below and write <code>{"{{ params.its_name }}"}</code> where its value belongs.</p>;
  }
  return (
    <div className="placeholders" aria-label="Placeholders in the instructions" role="group">
      <ul className="placeholder-list">
        {used.map((name) => (
          <li key={name} className={declared.has(name) ? "placeholder-ok" : "placeholder-missing"}>
            <code className="placeholder-chip">{`{{ params.${name} }}`}</code>
            {declared.has(name)
              ? <span> declared</span>
              : <>
                  <span> not declared: publishing refuses it</span>
                  {!disabled && <Button variant="ghost" onClick={() => onDeclare(name)}>Declare {name}</Button>}
                </>}
          </li>
        ))}
        {invalid.map((s, i) => (
          <li key={`invalid-${i}`} className="placeholder-missing"><code className="placeholder-chip">{s.source.length > 40 ? `${s.source.slice(0, 40)}…` : s.source}</code> {s.kind === "invalid" && s.message}</li>
        ))}
        {unused.map((p) => (
          <li key={`unused-${p.name}`} className="placeholder-unused"><code className="placeholder-chip">{`params.${p.name}`}</code> declared but not used</li>
        ))}
      </ul>
    </div>
  );
}

function defaultText(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function parseDefault(type: string, text: string): unknown {
  if (text.trim() === "") return null;
  if (type === "string" || type === "enum") return text;
  try { return JSON.parse(text) as unknown; } catch { return text; }
}

function ParametersEditor({ parameters, onChange, errors, disabled }: { parameters: PersonaParameter[]; onChange: (v: PersonaParameter[]) => void; errors: FieldErrors; disabled: boolean }) {
  const update = (i: number, changes: Partial<PersonaParameter>) => onChange(parameters.map((p, j) => (i === j ? { ...p, ...changes } : p)));
  return (
    <div className="stack">
      {parameters.length === 0 && <p className="muted">None: the instructions are used as written.</p>}
      {parameters.map((p, i) => {
        const type = p.type ?? "string";
        const e = (member: string) => errors[`parameters[${i}].${member}`];
        const n = p.name || `parameter ${i + 1}`;
        return (
          <div key={i} className="row-editor" role="group" aria-label={`Parameter ${n}`}>
            <div className="form-grid">
              <Input label="Parameter name" value={p.name ?? ""} onChange={(ev) => update(i, { name: ev.target.value })} errors={e("name") ?? errors[`parameters[${i}]`]} />
              <Select label="Type" value={type} onChange={(ev) => update(i, { type: ev.target.value, default: null })} errors={e("type")}
                options={["string", "number", "boolean", "enum", "json"].map((t) => ({ value: t, label: t }))} />
              {type === "boolean" ? (
                <Select label="Default" value={p.default === true ? "true" : p.default === false ? "false" : ""} errors={e("default")}
                  onChange={(ev) => update(i, { default: ev.target.value === "" ? null : ev.target.value === "true" })}
                  options={[{ value: "", label: "No default" }, { value: "true", label: "true" }, { value: "false", label: "false" }]} />
              ) : type === "enum" ? (
                <Select label="Default" value={defaultText(p.default)} errors={e("default")} onChange={(ev) => update(i, { default: ev.target.value || null })}
                  options={[{ value: "", label: "No default" }, ...(p.values ?? []).map((v) => ({ value: v, label: v }))]} />
              ) : (
                <Input label="Default" value={defaultText(p.default)} errors={e("default")} className={type === "json" ? "code-input" : undefined}
                  onChange={(ev) => update(i, { default: parseDefault(type, ev.target.value) })}
                  hint={type === "json" ? "JSON, such as {\"region\": \"eu\"}." : type === "number" ? "A number." : undefined} />
              )}
              <CheckboxInput label="Required" checked={p.required ?? false} onChange={(v) => update(i, { required: v })} disabled={disabled} />
            </div>
            {type === "enum" && <LabelsInput label="Allowed values" value={p.values} onChange={(v) => update(i, { values: v })} errors={e("values")} disabled={disabled} />}
            <Input label="Parameter description" value={p.description ?? ""} onChange={(ev) => update(i, { description: ev.target.value || null })} errors={e("description")} />
            {!disabled && <div><Button variant="ghost" onClick={() => onChange(parameters.filter((_, j) => j !== i))}>Remove {n}</Button></div>}
          </div>
        );
      })}
      {!disabled && <div><Button onClick={() => onChange([...parameters, { name: "", type: "string", required: false }])}>Add a parameter</Button></div>}
    </div>
  );
}

function ExamplesEditor({ examples, onChange, errors }: { examples: PersonaExample[]; onChange: (v: PersonaExample[]) => void; errors: FieldErrors }) {
  const update = (i: number, changes: Partial<PersonaExample>) => onChange(examples.map((x, j) => (i === j ? { ...x, ...changes } : x)));
  return (
    <div className="stack">
      {examples.length === 0 && <p className="muted">Examples show the model what good answers look like: an exchange (input and output) or a text.</p>}
      {examples.map((x, i) => {
        const isText = x.text != null && x.input == null && x.output == null;
        return (
          <div key={i} className="row-editor" role="group" aria-label={`Example ${i + 1}`}>
            {isText ? (
              <TextArea label={`Example ${i + 1} text`} rows={3} value={x.text ?? ""} onChange={(ev) => update(i, { text: ev.target.value })} errors={errors[`examples[${i}].text`] ?? errors[`examples[${i}]`]} />
            ) : (
              <div className="form-grid">
                <TextArea label={`Example ${i + 1} input`} rows={3} value={x.input ?? ""} onChange={(ev) => update(i, { input: ev.target.value })} errors={errors[`examples[${i}].input`] ?? errors[`examples[${i}]`]} />
                <TextArea label={`Example ${i + 1} output`} rows={3} value={x.output ?? ""} onChange={(ev) => update(i, { output: ev.target.value })} errors={errors[`examples[${i}].output`]} />
              </div>
            )}
            <div><Button variant="ghost" onClick={() => onChange(examples.filter((_, j) => j !== i))}>Remove example {i + 1}</Button></div>
          </div>
        );
      })}
      <div className="button-row">
        <Button onClick={() => onChange([...examples, { input: "", output: "" }])}>Add an exchange</Button>
        <Button onClick={() => onChange([...examples, { text: "" }])}>Add a text</Button>
      </div>
    </div>
  );
}

function SkillsEditor({ skills, onChange, errors, disabled }: { skills: SkillReference[]; onChange: (v: SkillReference[]) => void; errors: FieldErrors; disabled: boolean }) {
  const update = (i: number, changes: Partial<SkillReference>) => onChange(skills.map((s, j) => (i === j ? { ...s, ...changes } : s)));
  return (
    <div className="stack">
      {skills.length === 0 && <p className="muted">Tools the persona may call, by the skill's ID or name.</p>}
      {skills.map((s, i) => (
        <div key={i} className="row-editor" role="group" aria-label={`Skill ${s.ref || i + 1}`}>
          <Input label="Skill" value={s.ref ?? ""} onChange={(ev) => update(i, { ref: ev.target.value })} errors={errors[`skills[${i}].ref`] ?? errors[`skills[${i}]`]} />
          <JsonInput label="Skill settings" value={s.config} onChange={(v) => update(i, { config: v as Record<string, unknown> | null })} errors={errors[`skills[${i}].config`]} rows={3} disabled={disabled} />
          <div><Button variant="ghost" onClick={() => onChange(skills.filter((_, j) => j !== i))}>Remove skill {s.ref || i + 1}</Button></div>
        </div>
      ))}
      <div><Button onClick={() => onChange([...skills, { ref: "" }])}>Add a skill</Button></div>
    </div>
  );
}

function RulesEditor({ rules, onChange, errors }: { rules: GuardrailRule[]; onChange: (v: GuardrailRule[]) => void; errors: FieldErrors }) {
  const update = (i: number, changes: Partial<GuardrailRule>) => onChange(rules.map((r, j) => (i === j ? { ...r, ...changes } : r)));
  return (
    <div className="stack">
      <h3 className="subheading">Rules of its own</h3>
      {rules.length === 0 && <p className="muted">None. A rule can deny or require a pattern, deny a topic or cap the answer's length.</p>}
      {rules.map((r, i) => {
        const e = (m: string) => errors[`guardrails.rules[${i}].${m}`];
        return (
          <div key={i} className="row-editor form-grid" role="group" aria-label={`Rule ${r.name || i + 1}`}>
            <Input label="Rule name" value={r.name ?? ""} onChange={(ev) => update(i, { name: ev.target.value || null })} errors={e("name")} />
            <Select label="Kind" value={r.kind ?? "deny_pattern"} onChange={(ev) => update(i, { kind: ev.target.value })} errors={e("kind")} options={[
              { value: "deny_pattern", label: "Deny a pattern" }, { value: "require_pattern", label: "Require a pattern" },
              { value: "deny_topic", label: "Deny a topic" }, { value: "max_output_chars", label: "Maximum answer length" },
            ]} />
            <Input label="Value" value={r.value ?? ""} onChange={(ev) => update(i, { value: ev.target.value })} errors={e("value")}
              hint={r.kind === "max_output_chars" ? "A number of characters." : r.kind === "deny_topic" ? "A phrase." : "A regular expression."} />
            <Select label="Action" value={r.action ?? "block"} onChange={(ev) => update(i, { action: ev.target.value })} errors={e("action")}
              options={[{ value: "block", label: "Block" }, { value: "warn", label: "Warn" }, { value: "redact", label: "Redact" }]} />
            <div><Button variant="ghost" onClick={() => onChange(rules.filter((_, j) => j !== i))}>Remove rule {r.name || i + 1}</Button></div>
          </div>
        );
      })}
      <div><Button onClick={() => onChange([...rules, { kind: "deny_pattern", value: "", action: "block" }])}>Add a rule</Button></div>
    </div>
  );
}
