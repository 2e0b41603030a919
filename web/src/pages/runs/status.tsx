// How run and step states look: one tone per state, the same in the graph, the tables and the badges.

export type Tone = "success" | "danger" | "running" | "waiting" | "neutral" | "muted";

/** The tone of a run's or a step's status (step events say `started` where the step's record says `running`). */
export function toneOf(status: string | null | undefined): Tone {
  switch (status) {
    case "succeeded": return "success";
    case "failed":
    case "compensation_failed": return "danger";
    case "running":
    case "leased":
    case "started":
    case "retrying":
    case "compensating":
    case "compensation_started":
    case "compensation_retrying": return "running";
    case "waiting":
    case "halted":
    case "compensated": return "waiting";
    case "skipped":
    case "cancelled": return "muted";
    default: return "neutral";
  }
}

/** Words for a status as people read them. */
export function statusLabel(status: string | null | undefined): string {
  if (!status) return "unknown";
  if (status === "started") return "running";
  return status.replace(/_/g, " ");
}

/** A status as a small coloured badge; `live` marks a state that is still moving. */
export function StatusBadge({ status, label }: { status: string | null | undefined; label?: string }) {
  const tone = toneOf(status);
  return (
    <span className={`run-badge run-badge-${tone}`} data-status={status ?? undefined}>
      <span className="run-badge-dot" aria-hidden="true" />
      {label ?? statusLabel(status)}
    </span>
  );
}
