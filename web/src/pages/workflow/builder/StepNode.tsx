import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import type { StepDraft } from "./model";

export type StepNodeData = { draft: StepDraft; errorCount: number };
export type StepNodeType = Node<StepNodeData, "step">;

/** A step on the canvas: its ID, its activity, and badges for what it carries besides. */
export function StepNode({ data, selected }: NodeProps<StepNodeType>) {
  const { draft, errorCount } = data;
  const badges: { label: string; title: string; kind?: string }[] = [];
  if (draft.approvalOn) badges.push({ label: "approval", title: "Waits for an approval" });
  if (Object.values(draft.retry).some((v) => v.trim())) badges.push({ label: "retry", title: "Has its own retry policy" });
  if (draft.compensationActivity) badges.push({ label: "compensate", title: "Has a compensation" });
  if (draft.loopText.trim()) badges.push({ label: "loop", title: "Repeats its loop body" });
  if (draft.whenText.trim()) badges.push({ label: "when", title: "Runs only when its filter holds" });
  if (draft.timeout.trim()) badges.push({ label: draft.timeout, title: "Timeout" });
  if (errorCount) badges.push({ label: errorCount === 1 ? "1 error" : `${errorCount} errors`, title: "The API refused this step", kind: "error" });
  return (
    <div className={`step-node${selected ? " is-selected" : ""}${errorCount ? " has-errors" : ""}`} data-step={draft.id}>
      <Handle type="target" position={Position.Left} title={`Depends on (into ${draft.id})`} />
      <div className="step-node-id">{draft.id || <em>no ID</em>}</div>
      <div className="step-node-activity">{draft.activity || "no activity"}{draft.name && <span className="muted"> · {draft.name}</span>}</div>
      {badges.length > 0 && (
        <div className="step-node-badges">
          {badges.map((b) => <span key={b.label} className={`step-badge${b.kind ? ` step-badge-${b.kind}` : ""}`} title={b.title}>{b.label}</span>)}
        </div>
      )}
      <Handle type="source" position={Position.Right} title={`Next steps (out of ${draft.id})`} />
    </div>
  );
}
