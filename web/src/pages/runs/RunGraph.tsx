// The run's DAG: the pinned version's steps laid out top to bottom with dagre, each node coloured by its step's
// state. Read-only: nodes cannot be moved or joined; clicking (or Enter on) a node selects its step.
import dagre from "@dagrejs/dagre";
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { memo, useMemo } from "react";
import type { WorkflowStep } from "../../api/types";
import { statusLabel, toneOf } from "./status";

export interface GraphStep {
  id: string;
  activity: string;
  status: string;
  attempts: number;
  dependsOn: string[];
}

type StepNodeData = { step: GraphStep; selected: boolean };
type StepNode = Node<StepNodeData, "step">;

const width = 190;
const height = 62;

const StepNodeView = memo(function StepNodeView({ data }: NodeProps<StepNode>) {
  const { step, selected } = data;
  const tone = toneOf(step.status);
  return (
    <div className={`run-node run-node-${tone}${selected ? " run-node-selected" : ""}`} data-step={step.id} data-status={step.status}
      title={`${step.id}: ${statusLabel(step.status)}`}>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="run-node-title">{step.id}</div>
      <div className="run-node-meta">
        <span className="run-node-activity">{step.activity}</span>
        <span className="run-node-status">{statusLabel(step.status)}{step.attempts > 1 ? ` · ${step.attempts} attempts` : ""}</span>
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { step: StepNodeView };

/** The steps of a definition as the graph needs them; activity from the run's own record when the definition lacks it. */
export function graphSteps(definition: WorkflowStep[] | undefined, steps: { id: string; activity: string; status: string; attempts: number }[],
  statusOf: (id: string, fallback: string) => string): GraphStep[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const ids = definition?.length ? definition.map((s) => s.id) : steps.map((s) => s.id);
  // Steps the run has that the definition does not list (expanded ones) still show, unconnected.
  for (const s of steps) if (!ids.includes(s.id)) ids.push(s.id);
  const defs = new Map((definition ?? []).map((s) => [s.id, s]));
  return ids.map((id) => {
    const def = defs.get(id);
    const record = byId.get(id);
    const activity = record?.activity ?? ((def?.activity as { uniqueIdentifier?: string } | undefined)?.uniqueIdentifier ?? "");
    const dependsOn = Array.isArray(def?.dependsOn) ? (def.dependsOn as unknown[]).filter((x): x is string => typeof x === "string") : [];
    return { id, activity, status: statusOf(id, record?.status ?? "pending"), attempts: record?.attempts ?? 0, dependsOn };
  });
}

function layout(steps: GraphStep[]): { positions: Map<string, { x: number; y: number }>; height: number } {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 36, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(steps.map((s) => s.id));
  for (const s of steps) g.setNode(s.id, { width, height });
  for (const s of steps) for (const d of s.dependsOn) if (known.has(d)) g.setEdge(d, s.id);
  dagre.layout(g);
  const positions = new Map<string, { x: number; y: number }>();
  for (const s of steps) {
    const n = g.node(s.id) as { x: number; y: number } | undefined;
    positions.set(s.id, { x: (n?.x ?? 0) - width / 2, y: (n?.y ?? 0) - height / 2 });
  }
  return { positions, height: (g.graph() as { height?: number }).height ?? height };
}

export function RunGraph({ steps, selected, onSelect }: { steps: GraphStep[]; selected: string | null; onSelect: (id: string) => void }) {
  // The layout depends on the shape only, so a state change recolours nodes without moving them.
  const shape = steps.map((s) => `${s.id}<${s.dependsOn.join(",")}`).join(";");
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const { positions, height: drawn } = useMemo(() => layout(steps), [shape]);
  // As tall as the graph needs (a one-step run gets a short box), up to a screenful; taller graphs pan and zoom.
  const boxHeight = Math.min(440, Math.max(170, drawn + 60));
  const nodes: StepNode[] = steps.map((s) => ({
    id: s.id,
    type: "step",
    position: positions.get(s.id) ?? { x: 0, y: 0 },
    data: { step: s, selected: s.id === selected },
    ariaLabel: `Step ${s.id}, ${s.activity}: ${statusLabel(s.status)}`,
    draggable: false,
    connectable: false,
    selectable: true,
  }));
  const statusById = new Map(steps.map((s) => [s.id, s.status]));
  const edges: Edge[] = steps.flatMap((s) => s.dependsOn.filter((d) => statusById.has(d)).map((d) => ({
    id: `${d}->${s.id}`,
    source: d,
    target: s.id,
    animated: toneOf(s.status) === "running",
    className: `run-edge run-edge-${toneOf(statusById.get(d))}`,
  })));

  return (
    <div className="run-graph" role="region" aria-label="Step graph" style={{ height: boxHeight }}>
      <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} fitView fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
        nodesDraggable={false} nodesConnectable={false} elementsSelectable nodesFocusable edgesFocusable={false}
        onNodeClick={(_, node) => onSelect(node.id)}
        onKeyDown={(e) => {
          const id = (e.target as HTMLElement).closest?.(".react-flow__node")?.getAttribute("data-id");
          if (id && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); onSelect(id); }
        }}
        minZoom={0.2} maxZoom={1.6} panOnScroll={false} zoomOnScroll={false}>
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
