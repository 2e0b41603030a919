import { useId } from "react";
import type { ActivityInfo } from "../../../api/workflows";
import { Button, Input, JsonField, Select } from "../../../components";
import type { StepDraft, StepField } from "./model";

function Errors({ id, messages }: { id?: string; messages?: string[] }) {
  if (!messages?.length) return null;
  return <ul id={id} className="field-errors">{messages.map((m) => <li key={m}>{m}</li>)}</ul>;
}

/** An input to start from: the schema's required members (or all, when none is required), each with a placeholder of its type. */
function skeleton(version: { inputSchema: Record<string, unknown> } | undefined): string {
  const properties = (version?.inputSchema?.properties ?? {}) as Record<string, { type?: string; enum?: unknown[] }>;
  const required = Array.isArray(version?.inputSchema?.required) ? version.inputSchema.required as string[] : [];
  const names = required.length ? required : Object.keys(properties);
  const value = (p: { type?: string; enum?: unknown[] } | undefined): unknown =>
    p?.enum?.length ? p.enum[0] : p?.type === "object" ? {} : p?.type === "array" ? [] : p?.type === "integer" || p?.type === "number" ? 0 : p?.type === "boolean" ? false : "";
  return JSON.stringify(Object.fromEntries(names.map((n) => [n, value(properties[n])])), null, 2);
}

/** The side panel of the selected step: every member of the step, with the API's messages next to each. */
export function StepPanel({ draft, drafts, activities, errors, canEdit, onChange, onRemove, onClose }: {
  draft: StepDraft;
  drafts: StepDraft[];
  activities: ActivityInfo[];
  errors: Partial<Record<StepField, string[]>>;
  canEdit: boolean;
  onChange: (draft: StepDraft) => void;
  onRemove: () => void;
  onClose: () => void;
}) {
  const depsId = useId();
  const set = (patch: Partial<StepDraft>) => onChange({ ...draft, ...patch });
  const setRetry = (patch: Partial<StepDraft["retry"]>) => set({ retry: { ...draft.retry, ...patch } });
  const setApproval = (patch: Partial<StepDraft["approval"]>) => set({ approval: { ...draft.approval, ...patch } });
  const activity = activities.find((a) => a.uniqueIdentifier === draft.activity);
  const activityOptions = [
    ...(activities.some((a) => a.uniqueIdentifier === draft.activity) ? [] : [{ value: draft.activity, label: draft.activity || "Choose an activity…" }]),
    ...activities.map((a) => ({ value: a.uniqueIdentifier, label: a.uniqueIdentifier })),
  ];
  const others = drafts.filter((d) => d.key !== draft.key);
  const toggleDependency = (id: string, on: boolean) =>
    set({ dependsOn: on ? [...draft.dependsOn.filter((d) => d !== id), id] : draft.dependsOn.filter((d) => d !== id) });
  const schema = activity?.versions.find((v) => String(v.version) === draft.activityVersion) ?? activity?.versions.find((v) => v.version === activity.latestVersion);
  const schemaProps = Object.keys((schema?.inputSchema?.properties as object | undefined) ?? {});
  const errorCount = Object.values(errors).reduce((n, m) => n + (m?.length ?? 0), 0);

  return (
    <aside className="step-panel" aria-label={`Step ${draft.id}`}>
      <header className="step-panel-header">
        <h2>Step <code>{draft.id || "…"}</code></h2>
        <Button variant="ghost" aria-label="Close the step panel" onClick={onClose}>×</Button>
      </header>
      {errorCount > 0 && (
        <p className="step-panel-alert" role="alert">
          The API refused this step: {errorCount === 1 ? "1 problem" : `${errorCount} problems`}, shown next to the fields.
        </p>
      )}
      <fieldset className="step-panel-body" disabled={!canEdit}>
        <Errors messages={errors.other} />
        <Input label="Step ID" value={draft.id} onChange={(e) => set({ id: e.target.value })} errors={errors.id}
          hint="A letter, then letters, digits, _ or -; templates read its output as steps.<id>.output." />
        <Input label="Display name" value={draft.name} onChange={(e) => set({ name: e.target.value })} errors={errors.name} />
        <Select label="Activity" value={draft.activity} options={activityOptions} onChange={(e) => set({ activity: e.target.value, activityVersion: "" })} errors={errors.activity}
          hint={activity?.description} />
        {activity && (
          <div className="field-row">
            <Select label="Activity version" value={draft.activityVersion} onChange={(e) => set({ activityVersion: e.target.value })}
              options={[{ value: "", label: `latest (v${activity.latestVersion})` }, ...activity.versions.map((v) => ({ value: String(v.version), label: `v${v.version}` }))]} />
            <label className="checkbox">
              <input type="checkbox" checked={draft.activityRest.autoUpgradeToLatestVersion === true}
                onChange={(e) => set({ activityRest: { ...draft.activityRest, autoUpgradeToLatestVersion: e.target.checked } })} />
              Run the latest version at run time
            </label>
          </div>
        )}
        {canEdit && schemaProps.length > 0 && !draft.inputText.trim().replace(/^\{\s*\}$/, "") && (
          <div><Button variant="ghost" onClick={() => set({ inputText: skeleton(schema) })}>Fill the input from {activity?.uniqueIdentifier}'s schema</Button></div>
        )}
        <JsonField label="Input" value={draft.inputText} onChange={(text) => set({ inputText: text })} errors={errors.input} rows={7}
          hint={schemaProps.length ? `JSON; ${activity?.uniqueIdentifier} takes ${schemaProps.join(", ")}. Strings may be templates, such as {{ context.body }}.` : "JSON; strings may be templates, such as {{ context.body }}."} />

        <fieldset className="step-panel-group" aria-describedby={errors.dependsOn?.length ? `${depsId}-errors` : undefined}>
          <legend>Depends on</legend>
          {others.length === 0 && <p className="muted">No other steps yet. Add one, then tick it here or drag from its right handle to this step.</p>}
          <div className="checkbox-list">
            {others.map((d) => (
              <label key={d.key} className="checkbox">
                <input type="checkbox" checked={draft.dependsOn.includes(d.id)} onChange={(e) => toggleDependency(d.id, e.target.checked)} />
                {d.id}
              </label>
            ))}
            {draft.dependsOn.filter((id) => !others.some((d) => d.id === id)).map((id) => (
              <label key={id} className="checkbox">
                <input type="checkbox" checked onChange={() => toggleDependency(id, false)} /> {id} <span className="muted">(no such step)</span>
              </label>
            ))}
          </div>
          <Errors id={`${depsId}-errors`} messages={errors.dependsOn} />
        </fieldset>

        {(draft.activity === "loop" || draft.loopText.trim() !== "" || !!errors.loop) && (
          <JsonField label="Loop" value={draft.loopText} onChange={(text) => set({ loopText: text })} errors={errors.loop} rows={4}
            hint={'{"body": ["step-id", …], "until": {filter}, "maxIterations": 10}: the steps repeated, in order, until the filter holds.'} />
        )}
        <JsonField label="Run only when (filter)" value={draft.whenText} onChange={(text) => set({ whenText: text })} errors={errors.when} rows={3}
          hint={'Optional. A filter such as {"{{ steps.fetch.output.status }}": {"~eq": 200}}; false skips the step.'} />

        <fieldset className="step-panel-group">
          <legend>Retry</legend>
          <p className="field-hint">Blank fields take the workflow's defaults.</p>
          <div className="field-row">
            <Input label="Maximum attempts" inputMode="numeric" value={draft.retry.maximumAttempts} onChange={(e) => setRetry({ maximumAttempts: e.target.value })}
              errors={errors["retry.maximumAttempts"]} hint="1 = no retry, 0 = no limit" />
            <Input label="Backoff coefficient" inputMode="decimal" value={draft.retry.backoffCoefficient} onChange={(e) => setRetry({ backoffCoefficient: e.target.value })}
              errors={errors["retry.backoffCoefficient"]} />
          </div>
          <div className="field-row">
            <Input label="Initial interval" value={draft.retry.initialInterval} onChange={(e) => setRetry({ initialInterval: e.target.value })}
              errors={errors["retry.initialInterval"]} placeholder="1s" />
            <Input label="Maximum interval" value={draft.retry.maximumInterval} onChange={(e) => setRetry({ maximumInterval: e.target.value })}
              errors={errors["retry.maximumInterval"]} placeholder="1m" />
          </div>
        </fieldset>

        <div className="field-row">
          <Input label="Timeout" value={draft.timeout} onChange={(e) => set({ timeout: e.target.value })} errors={errors.timeout} placeholder="30s" />
          <Select label="On failure" value={draft.onFailure} onChange={(e) => set({ onFailure: e.target.value })} errors={errors.onFailure}
            options={[{ value: "", label: "abort (default)" }, { value: "continue", label: "continue" }, { value: "compensate", label: "compensate" }, { value: "abort", label: "abort" }]} />
        </div>

        <fieldset className="step-panel-group">
          <legend>Approval</legend>
          <label className="checkbox">
            <input type="checkbox" checked={draft.approvalOn} onChange={(e) => set({ approvalOn: e.target.checked })} /> Requires approval before it finishes
          </label>
          <Errors messages={errors.approval} />
          {draft.approvalOn && (
            <>
              <Input label="Approvers" value={draft.approval.approvers} onChange={(e) => setApproval({ approvers: e.target.value })} errors={errors["approval.approvers"]}
                hint="Team or user IDs, separated by commas." />
              <div className="field-row">
                <Input label="Quorum" inputMode="numeric" value={draft.approval.quorum} onChange={(e) => setApproval({ quorum: e.target.value })} errors={errors["approval.quorum"]} placeholder="1" />
                <Input label="Approval timeout" value={draft.approval.timeout} onChange={(e) => setApproval({ timeout: e.target.value })} errors={errors["approval.timeout"]} placeholder="1d" />
              </div>
              <Select label="On timeout" value={draft.approval.onTimeout} onChange={(e) => setApproval({ onTimeout: e.target.value })} errors={errors["approval.onTimeout"]}
                options={[{ value: "", label: "reject (default)" }, { value: "approve", label: "approve" }, { value: "escalate", label: "escalate" }, { value: "reject", label: "reject" }]} />
              {draft.approval.onTimeout === "escalate" && (
                <Input label="Escalate to" value={draft.approval.escalateTo} onChange={(e) => setApproval({ escalateTo: e.target.value })} errors={errors["approval.escalateTo"]}
                  hint="Team or user IDs, separated by commas." />
              )}
            </>
          )}
        </fieldset>

        <fieldset className="step-panel-group">
          <legend>Compensation</legend>
          <Select label="Compensation activity" value={draft.compensationActivity} onChange={(e) => set({ compensationActivity: e.target.value })}
            options={[{ value: "", label: "None" }, ...activities.map((a) => ({ value: a.uniqueIdentifier, label: a.uniqueIdentifier }))]}
            hint="Runs to undo this step when a later failure unwinds the run (onFailure: compensate)." />
          {draft.compensationActivity && (
            <JsonField label="Compensation input" value={draft.compensationInputText} onChange={(text) => set({ compensationInputText: text })} rows={3}
              hint="It may read this step's own output, steps.<id>.output." />
          )}
          <Errors messages={errors.compensation} />
        </fieldset>
      </fieldset>
      {canEdit && (
        <footer className="step-panel-footer">
          <Button variant="danger" onClick={onRemove}>Remove step</Button>
        </footer>
      )}
    </aside>
  );
}
