// Every attempt of the run (GET …/runs/{run}/tasks), grouped by step, each with a bar on one time axis from the
// run's first attempt to its last (or now), so retries, timers and waits read at a glance.
import type { RunTask } from "../../api/runs";
import { formatDuration } from "../../api/runs";
import { Time } from "../../components";
import { StatusBadge, toneOf } from "./status";

export function RunTimeline({ tasks, now, onSelect }: { tasks: RunTask[]; now: number; onSelect: (stepId: string) => void }) {
  if (tasks.length === 0) return <p className="muted">No attempts yet: steps appear here as they are queued.</p>;
  const ends = tasks.map((t) => (t.finishedAt ? Date.parse(t.finishedAt) : t.startedAt ? now : Date.parse(t.availableAt)));
  // A timer (a sleep, a retry's back-off, a deadline) is the wait itself: from the step's previous attempt to when it fired.
  const starts = tasks.map((t, i) => {
    const own = Date.parse(t.startedAt ?? t.availableAt);
    if (t.kind !== "timer") return own;
    for (let j = i - 1; j >= 0; j--) if (tasks[j]?.stepId === t.stepId) return Math.min(own, ends[j] ?? own);
    return own;
  });
  const t0 = Math.min(...starts);
  const t1 = Math.max(t0 + 1, ...ends);
  const span = t1 - t0;
  // Steps in the order they began; attempts oldest first within a step.
  const first = new Map<string, number>();
  tasks.forEach((t, i) => first.set(t.stepId, Math.min(first.get(t.stepId) ?? Infinity, starts[i] ?? Infinity)));
  const order = [...first.keys()].sort((a, b) => (first.get(a) ?? 0) - (first.get(b) ?? 0));
  const rows = order.flatMap((stepId) => tasks.map((t, i) => ({ t, i })).filter(({ t }) => t.stepId === stepId));

  return (
    <div className="table-wrap">
      <table className="table run-timeline">
        <caption className="visually-hidden">Attempts by step</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Attempt</th>
            <th scope="col">Status</th>
            <th scope="col">Started</th>
            <th scope="col">Took</th>
            <th scope="col">Worker</th>
            <th scope="col" className="run-timeline-axis">Timeline</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ t, i }, index) => {
            const start = starts[i] ?? t0;
            const left = ((start - t0) / span) * 100;
            const width = Math.max(0.8, (((ends[i] ?? start) - start) / span) * 100);
            const firstOfStep = index === 0 || rows[index - 1]?.t.stepId !== t.stepId;
            return (
              <tr key={t.id}>
                <td>{firstOfStep ? <button type="button" className="link-button" onClick={() => onSelect(t.stepId)}><code>{t.stepId}</code></button> : null}</td>
                <td>{t.attempt}{t.kind !== "step" && <span className="muted"> · {t.kind}</span>}</td>
                <td>
                  <StatusBadge status={t.status} />
                  {t.error && <div className="run-error-line">{String(t.error.type ?? "")}{t.error.message ? `: ${String(t.error.message)}` : ""}</div>}
                </td>
                <td>{t.startedAt ? <Time value={t.startedAt} /> : <span className="muted">due <Time value={t.availableAt} /></span>}</td>
                <td>{t.kind === "timer" && t.finishedAt ? `waited ${formatDuration(new Date(start).toISOString(), t.finishedAt, now)}` : t.startedAt ? formatDuration(t.startedAt, t.finishedAt, now) : "—"}</td>
                <td className="muted">{t.worker ?? "—"}</td>
                <td className="run-timeline-axis">
                  <div className="run-timeline-track" aria-hidden="true">
                    <span className={`run-timeline-bar run-tone-${toneOf(t.status)}`} style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }} />
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
