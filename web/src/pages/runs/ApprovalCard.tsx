// One approval: what is asked, who may decide, the decisions so far, and (while pending, for operators) the comment
// box with Approve and Reject. Used by the approvals inbox and by the run view for the run's own approvals.
import { useId, useState } from "react";
import { Link } from "react-router";
import { ProblemError } from "../../api/client";
import { runsApi, type Approval } from "../../api/runs";
import { Button, ProblemBanner, TextArea, Time } from "../../components";
import { ActorName, useActorNames } from "./actors";
import { StatusBadge } from "./status";

/** The approval's summary as people read it: a sentence when it is one, otherwise its fields. */
export function ApprovalSummary({ summary }: { summary: unknown }) {
  if (summary == null) return <p className="muted">No summary.</p>;
  if (typeof summary === "string") return <p className="approval-text">{summary}</p>;
  if (typeof summary === "object" && !Array.isArray(summary)) {
    const entries = Object.entries(summary as Record<string, unknown>);
    const text = entries.find(([k, v]) => ["message", "question", "summary", "title", "text"].includes(k) && typeof v === "string");
    const rest = entries.filter(([k]) => k !== text?.[0]);
    return (
      <div className="stack-tight">
        {text && <p className="approval-text">{text[1] as string}</p>}
        {rest.length > 0 && (
          <dl className="approval-fields">
            {rest.map(([k, v]) => (
              <div key={k}><dt>{k}</dt><dd>{typeof v === "string" ? v : <code>{JSON.stringify(v)}</code>}</dd></div>
            ))}
          </dl>
        )}
      </div>
    );
  }
  return <pre className="code">{JSON.stringify(summary, null, 2)}</pre>;
}

export function ApprovalCard({ workspace, approval, canDecide, runLabel, onDecided, headingLevel = 3 }: {
  workspace: string;
  approval: Approval;
  canDecide: boolean;
  /** The run's display ID and workflow, when known; the card links to the run. */
  runLabel?: { displayId: string; workflow?: string } | null;
  onDecided: (approval: Approval) => void;
  headingLevel?: 2 | 3;
}) {
  const name = useActorNames(workspace);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState<"approve" | "reject" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const headingId = useId();
  const Heading = headingLevel === 2 ? "h2" : "h3";
  const fieldErrors = error instanceof ProblemError ? error.problem.errors ?? {} : {};
  const pending = approval.status === "pending";

  const decide = async (decision: "approve" | "reject") => {
    setBusy(decision);
    setError(null);
    try {
      const decided = await runsApi.decide(workspace, approval.id, decision, comment.trim());
      setComment("");
      onDecided(decided);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const approvals = approval.decisions.filter((d) => d.decision === "approve").length;
  const runPath = `/w/${encodeURIComponent(workspace)}/runs/${encodeURIComponent(approval.runId)}`;
  return (
    <article className={`approval-card approval-${approval.status}`} aria-labelledby={headingId}>
      <header className="approval-header">
        <Heading id={headingId} className="approval-title">
          Approval for step <code>{approval.stepId}</code>
          {runLabel !== undefined && <> of <Link to={runPath}>{runLabel?.displayId ?? approval.runId}</Link></>}
        </Heading>
        <StatusBadge status={approval.status === "pending" ? "waiting" : approval.status === "approved" ? "succeeded" : approval.status === "rejected" || approval.status === "expired" ? "failed" : "cancelled"}
          label={approval.status} />
      </header>
      {runLabel?.workflow && <p className="muted approval-meta">Workflow {runLabel.workflow}</p>}
      <ApprovalSummary summary={approval.summary} />
      <p className="muted approval-meta">
        Requested <Time value={approval.createdAt} />
        {approval.deadline && <> · due <Time value={approval.deadline} /></>}
        {" · "}{approvals} of {approval.quorum} approval{approval.quorum === 1 ? "" : "s"} needed
        {approval.escalations > 0 && <> · escalated {approval.escalations}×</>}
        {approval.decidedAt && <> · settled <Time value={approval.decidedAt} />{approval.outcomeReason && ` (${approval.outcomeReason})`}</>}
      </p>
      <p className="muted approval-meta">
        Approvers: {approval.approvers.map((a, i) => <span key={a}>{i > 0 && ", "}<ActorName id={a} name={name} /></span>)}
      </p>
      {approval.decisions.length > 0 && (
        <ul className="approval-decisions" aria-label="Decisions">
          {approval.decisions.map((d) => (
            <li key={`${d.by}-${d.at}`}>
              <strong className={d.decision === "approve" ? "status-succeeded" : "status-failed"}>{d.decision === "approve" ? "Approved" : "Rejected"}</strong>
              {" by "}<ActorName id={d.by} name={name} />, <Time value={d.at} />{d.comment && <>: “{d.comment}”</>}
            </li>
          ))}
        </ul>
      )}
      {pending && canDecide && (
        <div className="approval-decide stack-tight">
          {error != null && <ProblemBanner error={error} onDismiss={() => setError(null)} />}
          <TextArea label="Comment (optional)" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} errors={fieldErrors.comment}
            maxLength={4000} />
          <div className="approval-actions">
            <Button variant="primary" busy={busy === "approve"} disabled={busy !== null} onClick={() => void decide("approve")}>Approve</Button>
            <Button variant="danger" busy={busy === "reject"} disabled={busy !== null} onClick={() => void decide("reject")}>Reject</Button>
          </div>
        </div>
      )}
    </article>
  );
}
