import {
  Background, Controls, MarkerType, MiniMap, ReactFlow, ReactFlowProvider, applyNodeChanges, useReactFlow,
  type Connection, type Edge, type EdgeChange, type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { ProblemError } from "../../api/client";
import type { Workflow } from "../../api/types";
import { workflowsApi, type ActivityInfo } from "../../api/workflows";
import { useCanEdit } from "../../app/permissions";
import { Button, Dialog, Input, ProblemBanner, Select, useToast, useUnsavedChanges } from "../../components";
import {
  DraftError, autoLayout, blankStep, freeId, fromStep, mapErrors, savedPositions, toStep,
  type Position, type StepDraft, type StepErrors, type StepField,
} from "./builder/model";
import { StepNode, type StepNodeType } from "./builder/StepNode";
import { StepPanel } from "./builder/StepPanel";
import { useWorkflow } from "./WorkflowPage";

const nodeTypes = { step: StepNode };

interface Loaded {
  drafts: StepDraft[];
  positions: Record<string, Position>;
  /** Whether the layout was made here because the definition had none for every step. */
  laidOut: boolean;
}

function load(workflow: Workflow, keys?: string[]): Loaded {
  const drafts = (workflow.steps ?? []).map((s, i) => {
    const draft = fromStep(s as Record<string, unknown>);
    return keys?.[i] ? { ...draft, key: keys[i] } : draft;
  });
  const saved = savedPositions(workflow.graph, drafts);
  return { drafts, positions: saved ?? autoLayout(drafts), laidOut: saved === null };
}

/** What a save would send, as text: the dirty check compares it with the last saved one. */
function snapshot(drafts: StepDraft[], positions: Record<string, Position>): string {
  return JSON.stringify(drafts.map((d) => {
    const { key, ...rest } = d;
    return { ...rest, at: positions[key] };
  }));
}

function toNodes(loaded: Loaded): StepNodeType[] {
  return loaded.drafts.map((d) => ({ id: d.key, type: "step", position: loaded.positions[d.key] ?? { x: 0, y: 0 }, data: { draft: d, errorCount: 0 } }));
}

/** The step graph: steps as nodes, dependencies as edges, a side panel for the selected step, saved whole with If-Match. */
export function BuilderTab() {
  return (
    <ReactFlowProvider>
      <Builder />
    </ReactFlowProvider>
  );
}

function Builder() {
  const { workspace, workflow, setWorkflow, reload } = useWorkflow();
  // A persona pipeline's steps are derived from the pipeline on every save, so they are shown, not edited, here.
  const fromPipeline = workflow.personaPipeline != null;
  const canEdit = useCanEdit(workspace) && workflow.status !== "deleted" && !fromPipeline;
  const toast = useToast();
  const flow = useReactFlow();
  const initial = useMemo(() => load(workflow), []); // eslint-disable-line react-hooks/exhaustive-deps
  const [drafts, setDrafts] = useState<StepDraft[]>(initial.drafts);
  const [nodes, setNodes] = useState<StepNodeType[]>(() => toNodes(initial));
  const [baseline, setBaseline] = useState(() => snapshot(initial.drafts, initial.positions));
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const [selectedEdges, setSelectedEdges] = useState<Set<string>>(new Set());
  const [activities, setActivities] = useState<ActivityInfo[]>([]);
  const [stepErrors, setStepErrors] = useState<StepErrors>({});
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [adding, setAdding] = useState(false);
  // Asks the canvas to frame every step once the nodes just placed are drawn (after a layout, an added step).
  const [fitRequest, setFitRequest] = useState(0);
  useEffect(() => {
    if (fitRequest === 0) return;
    const frame = window.requestAnimationFrame(() => void flow.fitView({ padding: 0.1, maxZoom: 1.2, duration: 150 }));
    return () => window.cancelAnimationFrame(frame);
  }, [fitRequest, flow]);

  useEffect(() => {
    const abort = new AbortController();
    workflowsApi.activities(workspace, abort.signal).then(setActivities).catch(() => { /* the panel then offers the step's own activity only */ });
    return () => abort.abort();
  }, [workspace]);

  const positions = useMemo(() => Object.fromEntries(nodes.map((n) => [n.id, n.position])), [nodes]);
  const dirty = snapshot(drafts, positions) !== baseline;
  const { prompt } = useUnsavedChanges(dirty, "the steps, dependencies and positions changed since the last save");

  const byKey = useMemo(() => new Map(drafts.map((d) => [d.key, d])), [drafts]);
  const rfNodes = useMemo(() => nodes.filter((n) => byKey.has(n.id)).map((n) => {
    const errors = stepErrors[n.id] ?? {};
    const errorCount = Object.values(errors).reduce((sum, m) => sum + (m?.length ?? 0), 0);
    return { ...n, selected: n.id === selectedKey, data: { draft: byKey.get(n.id)!, errorCount } };
  }), [nodes, byKey, stepErrors, selectedKey]);

  const edges: Edge[] = useMemo(() => {
    const byId = new Map(drafts.map((d) => [d.id, d]));
    return drafts.flatMap((target) => target.dependsOn.flatMap((dep) => {
      const source = byId.get(dep);
      if (!source || source.key === target.key) return [];
      const id = `${source.key}->${target.key}`;
      return [{
        id, source: source.key, target: target.key, selected: selectedEdges.has(id),
        markerEnd: { type: MarkerType.ArrowClosed }, ariaLabel: `${source.id} → ${target.id}`,
      }];
    }));
  }, [drafts, selectedEdges]);

  const clearErrors = () => { setStepErrors({}); };

  const removeSteps = useCallback((keys: string[]) => {
    setDrafts((all) => {
      const removedIds = new Set(all.filter((d) => keys.includes(d.key)).map((d) => d.id));
      return all.filter((d) => !keys.includes(d.key)).map((d) => ({ ...d, dependsOn: d.dependsOn.filter((id) => !removedIds.has(id)) }));
    });
    setNodes((all) => all.filter((n) => !keys.includes(n.id)));
    setSelectedKey((key) => (key && keys.includes(key) ? null : key));
  }, []);

  const onNodesChange = useCallback((changes: NodeChange<StepNodeType>[]) => {
    const removed = changes.flatMap((c) => (c.type === "remove" ? [c.id] : []));
    if (removed.length) removeSteps(removed);
    setNodes((all) => applyNodeChanges(changes.filter((c) => c.type !== "remove" && c.type !== "select"), all));
    const selected = changes.filter((c) => c.type === "select" && c.selected).map((c) => (c as { id: string }).id);
    if (selected.length === 1) setSelectedKey(selected[0]!);
  }, [removeSteps]);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    setSelectedEdges((current) => {
      const next = new Set(current);
      for (const c of changes) {
        if (c.type === "select") { if (c.selected) next.add(c.id); else next.delete(c.id); }
        if (c.type === "remove") next.delete(c.id);
      }
      return next;
    });
    const removed = changes.flatMap((c) => (c.type === "remove" ? [c.id.split("->")] : []));
    if (removed.length) {
      setDrafts((all) => {
        const idOf = new Map(all.map((d) => [d.key, d.id]));
        return all.map((d) => {
          const drop = removed.filter(([, target]) => target === d.key).map(([source]) => idOf.get(source ?? ""));
          return drop.length ? { ...d, dependsOn: d.dependsOn.filter((id) => !drop.includes(id)) } : d;
        });
      });
    }
  }, []);

  const onConnect = useCallback((connection: Connection) => {
    setDrafts((all) => {
      const source = all.find((d) => d.key === connection.source);
      if (!source || connection.source === connection.target) return all;
      return all.map((d) => (d.key === connection.target && !d.dependsOn.includes(source.id) ? { ...d, dependsOn: [...d.dependsOn, source.id] } : d));
    });
  }, []);

  const updateDraft = (next: StepDraft) => {
    setDrafts((all) => {
      const before = all.find((d) => d.key === next.key);
      const renamed = before && before.id !== next.id ? before.id : null;
      return all.map((d) => {
        if (d.key === next.key) return next;
        // Renaming a step keeps the dependencies on it.
        return renamed && d.dependsOn.includes(renamed) ? { ...d, dependsOn: d.dependsOn.map((id) => (id === renamed ? next.id : id)) } : d;
      });
    });
  };

  const addStep = (id: string, activity: string) => {
    const draft = blankStep(id, activity);
    const anchor = nodes.find((n) => n.id === selectedKey) ?? nodes.reduce<StepNodeType | undefined>((right, n) => (!right || n.position.x > right.position.x ? n : right), undefined);
    const position = anchor ? { x: anchor.position.x + 280, y: anchor.position.y + (nodes.some((n) => Math.abs(n.position.x - anchor.position.x - 280) < 50) ? 120 : 0) } : { x: 40, y: 40 };
    setDrafts((all) => [...all, draft]);
    setNodes((all) => [...all, { id: draft.key, type: "step", position, data: { draft, errorCount: 0 } }]);
    setSelectedKey(draft.key);
    setAdding(false);
    setFitRequest((n) => n + 1);
  };

  const layout = () => {
    const next = autoLayout(drafts);
    setNodes((all) => all.map((n) => ({ ...n, position: next[n.id] ?? n.position })));
    setFitRequest((n) => n + 1);
  };

  const save = async () => {
    setSaveError(null);
    clearErrors();
    let steps: Record<string, unknown>[];
    try {
      steps = drafts.map(toStep);
    } catch (e) {
      if (e instanceof DraftError) {
        setStepErrors({ [e.key]: { [e.field]: [e.message] } as Partial<Record<StepField, string[]>> });
        setSelectedKey(e.key);
        setSaveError(new ProblemError({ title: "A step's JSON cannot be read", status: 0, detail: `${drafts.find((d) => d.key === e.key)?.id}: ${e.message}. Nothing was saved.` }));
        return;
      }
      throw e;
    }
    const ids = new Set(drafts.map((d) => d.id));
    const graph = {
      nodes: drafts.map((d) => ({ id: d.id, position: positions[d.key] ?? { x: 0, y: 0 } })),
      edges: drafts.flatMap((d) => [...new Set(d.dependsOn)].filter((dep) => ids.has(dep) && dep !== d.id).map((dep) => ({ source: dep, target: d.id }))),
    };
    const sent = drafts;
    setSaving(true);
    try {
      const saved = await workflowsApi.patch(workspace, workflow.id, { steps, graph }, workflow.version);
      const keys = saved.steps.length === sent.length ? sent.map((d) => d.key) : undefined;
      const loaded = load(saved, keys);
      setDrafts(loaded.drafts);
      setNodes((all) => {
        const kept = new Map(all.map((n) => [n.id, n]));
        return loaded.drafts.map((d) => ({ ...(kept.get(d.key) ?? { id: d.key, type: "step" as const, data: { draft: d, errorCount: 0 } }), position: loaded.positions[d.key] ?? { x: 0, y: 0 } }));
      });
      setBaseline(snapshot(loaded.drafts, loaded.positions));
      setWorkflow(saved);
      toast.success(saved.version === workflow.version ? "Nothing changed." : `Saved as version ${saved.version}.`);
    } catch (e) {
      setSaveError(e);
      if (e instanceof ProblemError && e.problem.errors) {
        const mapped = mapErrors(e.problem.errors, sent);
        setStepErrors(mapped.steps);
        const first = sent.find((d) => mapped.steps[d.key]);
        if (first && !(selectedKey && mapped.steps[selectedKey])) setSelectedKey(first.key);
      }
    } finally {
      setSaving(false);
    }
  };

  // After "Reload the workflow" (a conflict), the builder starts again from the version the API answers.
  const resetOnLoad = useRef(false);
  useEffect(() => {
    if (!resetOnLoad.current) return;
    resetOnLoad.current = false;
    discard();
    setFitRequest((n) => n + 1);
  }, [workflow]); // eslint-disable-line react-hooks/exhaustive-deps

  const discard = () => {
    const loaded = load(workflow);
    setDrafts(loaded.drafts);
    setNodes(toNodes(loaded));
    setBaseline(snapshot(loaded.drafts, loaded.positions));
    setSelectedKey(null);
    clearErrors();
    setSaveError(null);
  };

  const conflict = saveError instanceof ProblemError && (saveError.status === 412 || saveError.status === 409);
  const selected = selectedKey ? byKey.get(selectedKey) : undefined;

  return (
    <div className="builder">
      <div className="builder-toolbar" role="toolbar" aria-label="Builder">
        {canEdit && <Button onClick={() => setAdding(true)}>Add step</Button>}
        {canEdit && <Button onClick={layout}>Auto-layout</Button>}
        <Select label="Edit step" className="field-inline" value={selectedKey ?? ""} onChange={(e) => setSelectedKey(e.target.value || null)}
          options={[{ value: "", label: "Edit step…" }, ...drafts.map((d) => ({ value: d.key, label: d.id || "(no ID)" }))]} />
        <span className="builder-status" aria-live="polite">
          {dirty ? <span className="unsaved">● Unsaved changes</span> : <span className="muted">All changes saved · version {workflow.version}</span>}
        </span>
        {canEdit && (
          <>
            <Button disabled={!dirty || saving} onClick={discard}>Discard</Button>
            <Button variant="primary" busy={saving} disabled={!dirty} onClick={() => void save()}>Save</Button>
          </>
        )}
      </div>
      {!canEdit && (
        <p className="muted">
          {fromPipeline ? "These steps are the expansion of the workflow's persona pipeline (designer → checker → optimizer): change the pipeline, and the steps follow."
            : workflow.status === "deleted" ? "This workflow is in the bin: restore it to edit its steps."
              : "You can look at the steps; editors of this workspace change them."}
        </p>
      )}

      {saveError != null && (
        <div className="stack builder-banner">
          <ProblemBanner error={saveError} onDismiss={() => setSaveError(null)} />
          {conflict && (
            <div className="conflict">
              <p>Someone saved this workflow since you opened it. Reload to see their version (your unsaved changes here are lost), or copy what you need first.</p>
              <Button onClick={() => { setSaveError(null); resetOnLoad.current = true; reload(); }}>Reload the workflow</Button>
            </div>
          )}
        </div>
      )}

      <div className="builder-body">
        <div className="builder-canvas" aria-label="Step graph">
          {drafts.length === 0 && (
            <div className="builder-empty">
              <p><strong>No steps yet.</strong> A step runs one activity — a model call, an agent, an HTTP request, an approval, a sleep.</p>
              {canEdit && <Button variant="primary" onClick={() => setAdding(true)}>Add the first step</Button>}
            </div>
          )}
          <ReactFlow<StepNodeType, Edge>
            nodes={rfNodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={canEdit ? onConnect : undefined}
            onNodeClick={(_, node) => setSelectedKey(node.id)}
            isValidConnection={(c) => c.source !== c.target}
            nodesDraggable={canEdit}
            nodesConnectable={canEdit}
            deleteKeyCode={canEdit ? ["Backspace", "Delete"] : null}
            fitView
            fitViewOptions={{ padding: 0.1, maxZoom: 1.2 }}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls />
            <MiniMap pannable zoomable ariaLabel="Overview of the step graph" style={{ width: 150, height: 100 }} />
          </ReactFlow>
        </div>
        {selected ? (
          <StepPanel key={selected.key} draft={selected} drafts={drafts} activities={activities} errors={stepErrors[selected.key] ?? {}}
            canEdit={canEdit} onChange={updateDraft} onRemove={() => removeSteps([selected.key])} onClose={() => setSelectedKey(null)} />
        ) : (
          <aside className="step-panel step-panel-idle" aria-label="Step details">
            <h2>Steps</h2>
            <p className="muted">Select a step on the canvas (or in “Edit step”) to change its activity, input, dependencies, retry, timeout, approval and compensation.</p>
            <ul className="step-index">
              {drafts.map((d) => (
                <li key={d.key}>
                  <button type="button" className="btn btn-ghost" onClick={() => setSelectedKey(d.key)}>
                    <code>{d.id || "(no ID)"}</code> <span className="muted">{d.activity}</span>
                    {stepErrors[d.key] && <span className="step-badge step-badge-error">errors</span>}
                  </button>
                </li>
              ))}
            </ul>
          </aside>
        )}
      </div>
      <p className="field-hint">
        Drag from a step's right handle to another step to make it depend on the first, or tick “Depends on” in the step's panel.
        Select a step or an arrow and press Delete to remove it.
      </p>

      <AddStepDialog open={adding} activities={activities} drafts={drafts} onClose={() => setAdding(false)} onAdd={addStep} />
      {prompt}
    </div>
  );
}

function AddStepDialog({ open, activities, drafts, onClose, onAdd }: {
  open: boolean;
  activities: ActivityInfo[];
  drafts: StepDraft[];
  onClose: () => void;
  onAdd: (id: string, activity: string) => void;
}) {
  const [activity, setActivity] = useState("transform");
  const [id, setId] = useState("");
  const [touched, setTouched] = useState(false);
  useEffect(() => { if (open) { setActivity("transform"); setId(freeId("transform", drafts)); setTouched(false); } }, [open]); // eslint-disable-line react-hooks/exhaustive-deps
  const taken = drafts.some((d) => d.id === id);
  const described = activities.find((a) => a.uniqueIdentifier === activity);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!id.trim() || taken) return;
    onAdd(id.trim(), activity);
  };
  const options = activities.length ? activities.map((a) => ({ value: a.uniqueIdentifier, label: a.uniqueIdentifier })) : [{ value: "transform", label: "transform" }];
  return (
    <Dialog open={open} title="Add a step" onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        <Select label="Activity" value={activity} options={options} hint={described?.description} autoFocus
          onChange={(e) => { setActivity(e.target.value); if (!touched) setId(freeId(e.target.value, drafts)); }} />
        <Input label="Step ID" value={id} onChange={(e) => { setId(e.target.value); setTouched(true); }} required
          errors={taken ? [`'${id}' is already a step of this workflow.`] : undefined} />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={!id.trim() || taken}>Add</Button>
        </div>
      </form>
    </Dialog>
  );
}
