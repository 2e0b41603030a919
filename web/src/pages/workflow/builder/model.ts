// The builder's model: a step as a form holds it (text stays text until saved, so nothing typed is
// lost), the conversion to and from the definition's step, the graph layout, and the API's 422
// field errors mapped back to the step and field they name.
import dagre from "@dagrejs/dagre";

/** A step being edited. `key` is the builder's own handle, stable while the step ID is renamed. */
export interface StepDraft {
  key: string;
  id: string;
  name: string;
  activity: string;
  activityVersion: string;
  inputText: string;
  dependsOn: string[];
  whenText: string;
  retry: { maximumAttempts: string; initialInterval: string; backoffCoefficient: string; maximumInterval: string };
  timeout: string;
  onFailure: string;
  approvalOn: boolean;
  approval: { approvers: string; quorum: string; timeout: string; onTimeout: string; escalateTo: string };
  compensationActivity: string;
  compensationInputText: string;
  /** A loop step's loop: {body, until, maxIterations}. */
  loopText: string;
  /** Members the form does not edit (loop, sleep, retry's nonRetryableErrors…), kept as they were. */
  rest: Record<string, unknown>;
  retryRest: Record<string, unknown>;
  activityRest: Record<string, unknown>;
}

export interface Position { x: number; y: number }

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (typeof value === "object" && value !== null && !Array.isArray(value) ? value as Obj : {});
const str = (value: unknown): string => (value === undefined || value === null ? "" : String(value));
const json = (value: unknown): string => (value === undefined || value === null ? "" : JSON.stringify(value, null, 2));
const list = (value: unknown): string => (Array.isArray(value) ? value.map(String).join(", ") : "");

let counter = 0;
export const newKey = () => `k${Date.now().toString(36)}${(counter++).toString(36)}`;

export function fromStep(step: Obj): StepDraft {
  const {
    id, name, activity, input, dependsOn, when, retryPolicy, timeout, onFailure, approval, compensation, loop, ...rest
  } = step;
  const activityObj = obj(activity);
  const { uniqueIdentifier, version, ...activityRest } = activityObj;
  const { maximumAttempts, initialInterval, backoffCoefficient, maximumInterval, ...retryRest } = obj(retryPolicy);
  const approvalObj = obj(approval);
  const compensationObj = obj(compensation);
  return {
    key: newKey(),
    id: str(id),
    // The API fills the name with the ID; a name equal to it follows the ID when it is renamed.
    name: name === id ? "" : str(name),
    activity: str(uniqueIdentifier),
    activityVersion: str(version),
    inputText: json(input),
    dependsOn: Array.isArray(dependsOn) ? dependsOn.map(String) : [],
    whenText: json(when),
    retry: { maximumAttempts: str(maximumAttempts), initialInterval: str(initialInterval), backoffCoefficient: str(backoffCoefficient), maximumInterval: str(maximumInterval) },
    timeout: str(timeout),
    onFailure: str(onFailure),
    approvalOn: approval !== undefined && approval !== null,
    approval: {
      approvers: list(approvalObj.approvers), quorum: str(approvalObj.quorum), timeout: str(approvalObj.timeout),
      onTimeout: str(approvalObj.onTimeout), escalateTo: list(approvalObj.escalateTo),
    },
    compensationActivity: str(obj(compensationObj.activity).uniqueIdentifier),
    compensationInputText: json(compensationObj.input),
    loopText: json(loop),
    rest,
    retryRest,
    activityRest,
  };
}

export function blankStep(id: string, activity: string): StepDraft {
  return fromStep({ id, activity: { uniqueIdentifier: activity } });
}

/** A JSON text that is not JSON: the step and field, so the save can stop before asking the API. */
export class DraftError extends Error {
  constructor(readonly key: string, readonly field: string, message: string) { super(message); }
}

function parse(draft: StepDraft, field: string, text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new DraftError(draft.key, field, `Not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A number when the text is one, else the text itself, so the API says what is wrong with it. */
const numberOrText = (text: string): unknown => (text.trim() === "" ? undefined : Number.isFinite(Number(text)) ? Number(text) : text);
const splitList = (text: string) => text.split(",").map((s) => s.trim()).filter(Boolean);

function compact(value: Obj): Obj | undefined {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && v !== "");
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** The definition's step the draft stands for; members left blank are left out (the API's defaults apply). */
export function toStep(draft: StepDraft): Obj {
  const step: Obj = { ...draft.rest, id: draft.id };
  if (draft.name) step.name = draft.name;
  step.activity = compact({ ...draft.activityRest, uniqueIdentifier: draft.activity || undefined, version: numberOrText(draft.activityVersion) });
  const input = parse(draft, "input", draft.inputText);
  if (input !== undefined) step.input = input;
  if (draft.dependsOn.length) step.dependsOn = draft.dependsOn;
  const when = parse(draft, "when", draft.whenText);
  if (when !== undefined) step.when = when;
  const retry = compact({
    ...draft.retryRest,
    maximumAttempts: numberOrText(draft.retry.maximumAttempts),
    initialInterval: draft.retry.initialInterval.trim() || undefined,
    backoffCoefficient: numberOrText(draft.retry.backoffCoefficient),
    maximumInterval: draft.retry.maximumInterval.trim() || undefined,
  });
  if (retry) step.retryPolicy = retry;
  if (draft.timeout.trim()) step.timeout = draft.timeout.trim();
  if (draft.onFailure) step.onFailure = draft.onFailure;
  if (draft.approvalOn) {
    step.approval = compact({
      approvers: splitList(draft.approval.approvers),
      quorum: numberOrText(draft.approval.quorum),
      timeout: draft.approval.timeout.trim() || undefined,
      onTimeout: draft.approval.onTimeout || undefined,
      escalateTo: draft.approval.escalateTo.trim() ? splitList(draft.approval.escalateTo) : undefined,
    }) ?? {};
  }
  if (draft.compensationActivity) {
    const compensationInput = parse(draft, "compensation", draft.compensationInputText);
    step.compensation = compact({ activity: { uniqueIdentifier: draft.compensationActivity }, input: compensationInput });
  }
  const loop = parse(draft, "loop", draft.loopText);
  if (loop !== undefined) step.loop = loop;
  return step;
}

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 84;

/** Positions from dagre, left to right by dependency, keyed by the drafts' keys. */
export function autoLayout(drafts: StepDraft[]): Record<string, Position> {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 30, ranksep: 60, marginx: 20, marginy: 20 });
  graph.setDefaultEdgeLabel(() => ({}));
  const byId = new Map(drafts.map((d) => [d.id, d.key]));
  for (const d of drafts) graph.setNode(d.key, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const d of drafts) {
    for (const dep of d.dependsOn) {
      const source = byId.get(dep);
      if (source && source !== d.key) graph.setEdge(source, d.key);
    }
  }
  dagre.layout(graph);
  const positions: Record<string, Position> = {};
  for (const d of drafts) {
    const node = graph.node(d.key) as { x: number; y: number } | undefined;
    positions[d.key] = node ? { x: Math.round(node.x - NODE_WIDTH / 2), y: Math.round(node.y - NODE_HEIGHT / 2) } : { x: 0, y: 0 };
  }
  return positions;
}

/** The saved layout's positions, when it places every step; else none (the builder lays them out). */
export function savedPositions(graph: unknown, drafts: StepDraft[]): Record<string, Position> | null {
  const nodes = Array.isArray(obj(graph).nodes) ? obj(graph).nodes as unknown[] : [];
  const byId = new Map<string, Position>();
  for (const node of nodes) {
    const n = obj(node);
    const p = obj(n.position);
    if (typeof n.id === "string" && typeof p.x === "number" && typeof p.y === "number") byId.set(n.id, { x: p.x, y: p.y });
  }
  const positions: Record<string, Position> = {};
  for (const d of drafts) {
    const p = byId.get(d.id);
    if (!p) return null;
    positions[d.key] = p;
  }
  return positions;
}

/** Where each of the step panel's fields shows the API's messages. */
export type StepField =
  | "id" | "name" | "activity" | "input" | "dependsOn" | "when" | "timeout" | "onFailure"
  | "retry.maximumAttempts" | "retry.initialInterval" | "retry.backoffCoefficient" | "retry.maximumInterval"
  | "approval" | "approval.approvers" | "approval.quorum" | "approval.timeout" | "approval.onTimeout" | "approval.escalateTo"
  | "compensation" | "loop" | "other";

export type StepErrors = Record<string, Partial<Record<StepField, string[]>>>;

function fieldOf(path: string): { field: StepField; detail: string } {
  const [head = "", ...tail] = path.split(".");
  const sub = tail.join(".");
  const under = (prefix: string) => path.startsWith(prefix);
  const rest = (prefix: string) => path.slice(prefix.length).replace(/^\./, "");
  if (head === "id") return { field: "id", detail: "" };
  if (head === "name") return { field: "name", detail: "" };
  if (head === "activity" || head === "isSleep") return { field: "activity", detail: sub === "uniqueIdentifier" ? "" : sub };
  if (head.startsWith("input")) return { field: "input", detail: rest("input") };
  if (head.startsWith("dependsOn")) return { field: "dependsOn", detail: "" };
  if (head === "when") return { field: "when", detail: sub };
  if (head === "timeout") return { field: "timeout", detail: "" };
  if (head === "onFailure") return { field: "onFailure", detail: "" };
  if (head === "retryPolicy") {
    const known = ["maximumAttempts", "initialInterval", "backoffCoefficient", "maximumInterval"];
    return known.includes(tail[0] ?? "") ? { field: `retry.${tail[0]}` as StepField, detail: "" } : { field: "other", detail: path };
  }
  if (under("approval.")) {
    const name = (tail[0] ?? "").replace(/\[\d+\]$/, "");
    return ["approvers", "quorum", "timeout", "onTimeout", "escalateTo"].includes(name)
      ? { field: `approval.${name}` as StepField, detail: "" } : { field: "approval", detail: sub };
  }
  if (head === "approval") return { field: "approval", detail: "" };
  if (head === "compensation") return { field: "compensation", detail: sub };
  if (head === "loop") return { field: "loop", detail: sub };
  return { field: "other", detail: path };
}

/**
 * Sorts the API's field errors into the steps they name (`steps[2].retryPolicy.maximumAttempts`,
 * or `steps.2.…`), by position in the list that was sent; what names no step stays for the banner.
 */
export function mapErrors(errors: Record<string, string[]> | undefined, sent: StepDraft[]): { steps: StepErrors; other: Record<string, string[]> } {
  const steps: StepErrors = {};
  const other: Record<string, string[]> = {};
  for (const [key, messages] of Object.entries(errors ?? {})) {
    const match = /^steps(?:\[(\d+)\]|\.(\d+))\.?(.*)$/.exec(key);
    const index = match ? Number(match[1] ?? match[2]) : -1;
    const draft = sent[index];
    if (!match || !draft) {
      other[key] = messages;
      continue;
    }
    const { field, detail } = fieldOf(match[3] ?? "");
    const forStep = (steps[draft.key] ??= {});
    const shown = detail ? messages.map((m) => `${detail}: ${m}`) : messages;
    forStep[field] = [...(forStep[field] ?? []), ...shown];
  }
  return { steps, other };
}

/** A free step ID from the activity's name: `http`, `http-2`, … */
export function freeId(base: string, drafts: StepDraft[]): string {
  const clean = base.replace(/[^A-Za-z0-9_-]/g, "_").replace(/^[^A-Za-z]+/, "") || "step";
  const taken = new Set(drafts.map((d) => d.id));
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i++) if (!taken.has(`${clean}-${i}`)) return `${clean}-${i}`;
}
