// Starting points for a new workflow: each runs as soon as it is created, on the built-in `mock`
// model where it needs one, so a first-time user sees a run succeed before wiring anything real.

/** What a template may fill in from the person creating the workflow. */
export interface TemplateContext {
  /** The signed-in user's ID: approvals need a named approver, and the creator is the obvious one. */
  userId: string | null;
}

export interface WorkflowTemplate {
  id: string;
  title: string;
  description: string;
  /** The definition without its name and description, which the dialog adds. */
  definition: (context: TemplateContext) => Record<string, unknown>;
  /** Whether it can be made for this person (the approval template needs a user to approve). */
  available?: (context: TemplateContext) => boolean;
}

const step = (id: string, uniqueIdentifier: string, input: unknown, more: Record<string, unknown> = {}) =>
  ({ id, activity: { uniqueIdentifier }, input, ...more });

export const workflowTemplates: WorkflowTemplate[] = [
  {
    id: "blank",
    title: "Blank",
    description: "One step that echoes the run's input. Shape it in the Builder.",
    definition: () => ({ type: "manual", steps: [step("start", "transform", { received: "{{ context.body }}" })] }),
  },
  {
    id: "ask-a-model",
    title: "Ask a model",
    description: "Sends the run's prompt to a model and streams the answer token by token (the built-in mock model until you pick a provider).",
    definition: () => ({
      type: "manual",
      steps: [step("answer", "llm", { prompt: "{{ context.prompt }}", model: { provider: "mock", model: "echo?tps=20" } })],
    }),
  },
  {
    id: "approval",
    title: "Ask before acting",
    description: "Prepares a request, waits in the Approvals inbox for your decision, then carries on only if approved.",
    available: (context) => context.userId !== null,
    definition: (context) => ({
      type: "manual",
      steps: [
        step("prepare", "transform", { request: "{{ context.body }}" }),
        step("approve", "approval", { message: "Approve this request?", data: "{{ steps.prepare.output.request }}" }, {
          dependsOn: ["prepare"],
          approval: { approvers: [context.userId], quorum: 1, timeout: "1d", onTimeout: "reject" },
        }),
        step("act", "transform", { approved: true, request: "{{ steps.prepare.output.request }}" }, { dependsOn: ["approve"] }),
      ],
    }),
  },
  {
    id: "webhook",
    title: "Webhook intake",
    description: "Called over HTTP with a token: keeps the posted body and summarises it with a model.",
    definition: () => ({
      type: "webhook",
      steps: [
        step("receive", "transform", { payload: "{{ context.body }}" }),
        step("summarise", "llm", { prompt: "Summarise: {{ steps.receive.output.payload }}", model: { provider: "mock", model: "echo" } }, { dependsOn: ["receive"] }),
      ],
    }),
  },
  {
    id: "nightly",
    title: "Nightly job",
    description: "Runs every night at 02:00 UTC once activated: waits a moment, then writes a report.",
    definition: () => ({
      type: "schedule",
      trigger: { cron: "0 2 * * *", timeZone: "UTC" },
      steps: [
        step("settle", "sleep", { duration: "5s" }),
        step("report", "transform", { report: "Nightly run done" }, { dependsOn: ["settle"] }),
      ],
    }),
  },
];
