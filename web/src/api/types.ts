// The API's contracts the UI reads, as the server serialises them (camelCase, ISO-8601 UTC times).

export interface Actor {
  id: string;
  kind: "user" | "service_account" | "instance_key";
  name: string;
}

export interface User {
  id: string;
  email: string;
  displayName: string;
  avatarUrl: string | null;
  status: "active" | "disabled";
  instanceRole: "owner" | "admin" | null;
  hasPassword: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
  lastSignInAt: string | null;
}

export interface SignedIn {
  user: User;
  csrfToken: string;
}

export type WorkspaceRole = "owner" | "admin" | "editor" | "operator" | "viewer";

export interface MyWorkspace {
  id: string;
  name: string;
  displayName: string;
  role: WorkspaceRole;
}

export interface Me {
  actor: Actor;
  authentication: "session" | "api_key";
  user: User | null;
  instanceRole: "owner" | "admin" | null;
  workspaces: MyWorkspace[];
  csrfToken: string | null;
}

export interface Workspace {
  id: string;
  name: string;
  displayName: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A workflow's latest run as the workflows list carries it. */
export interface RunSummary {
  id: string;
  number: number;
  status: string;
  createdAt: string;
  finishedAt: string | null;
}

export interface WorkflowSummary {
  id: string;
  name: string;
  title: string;
  description: string | null;
  type: "manual" | "event" | "webhook" | "schedule" | string;
  subType: string;
  isActive: boolean;
  trigger: string;
  personas: string[];
  /** The models its model steps name as written (`provider/model`). */
  models: string[];
  stepCount: number;
  version: number;
  status: "active" | "deleted";
  lastRun: RunSummary | null;
  createdBy: Actor | null;
  updatedBy: Actor | null;
  createdAt: string;
  updatedAt: string;
}

/** A workflow as `GET …/workflows/{id}` answers it: the whole normalised definition and its identity (docs/workflows.md). */
export interface Workflow {
  id: string;
  workspaceId: string;
  name: string;
  title: string;
  description: string | null;
  type: "manual" | "event" | "webhook" | "schedule" | string;
  subType: string;
  isActive: boolean;
  version: number;
  status: "active" | "deleted";
  webhookPath: string | null;
  steps: WorkflowStep[];
  graph?: unknown;
  createdBy: Actor | null;
  updatedBy: Actor | null;
  createdAt: string;
  updatedAt: string;
  deletedAt?: string | null;
  /** The rest of the definition (trigger, input schema, limits, notifications…), as the API sent it. */
  [field: string]: unknown;
}

/** A step of a workflow's definition; its other fields (input, retry, approval, compensation…) as the API sent them. */
export interface WorkflowStep {
  id: string;
  [field: string]: unknown;
}

/** One field that differs between two definitions, by path (`model.temperature`, `steps[1].input.url`): a version diff, an import's update. */
export interface FieldChange {
  path: string;
  op: "added" | "removed" | "changed";
  before?: unknown;
  after?: unknown;
}

/** Why one item of a bulk call or an import failed: the problem it would have had on its own. */
export interface BulkItemError { title: string; detail: string; errors: Record<string, string[]> | null }

/** What an import did, or would do in a dry run, to one item (src/Cadre.Core/Common/Imports.cs). */
export interface ImportItemResult {
  index: number;
  name: string | null;
  action: "create" | "update" | "unchanged" | "error";
  id: string | null;
  status: number;
  /** For an update: the fields that change; empty when unchanged. */
  changes: FieldChange[] | null;
  error: BulkItemError | null;
}

/** The report of a persona or workflow import. */
export interface ImportResponse {
  dryRun: boolean;
  mode: string;
  summary: { create: number; update: number; unchanged: number; error: number };
  results: ImportItemResult[];
}
