// The run view: the step graph coloured live from the run's event stream, the selected step's detail, the attempts'
// timeline, the conversation with the model's text streaming in, logs, usage, input and output, and the actions the
// person's role allows (halt, resume, retry, rerun, decide the run's approvals, prompt a session).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { runsApi, formatCost, formatDuration, isFinished, type Approval, type Run, type RunLogLine, type RunMessage, type RunTask, type WorkflowVersion } from "../../api/runs";
import { useCanOperate } from "../../app/permissions";
import { Button, CopyButton, LoadFailed, Loading, ProblemBanner, Time, useToast } from "../../components";
import { ActorName, useActorNames } from "./actors";
import { ApprovalCard } from "./ApprovalCard";
import { useCanDecide } from "./useCanDecide";
import { RunConversation, PromptBox } from "./RunConversation";
import { RunGraph, graphSteps } from "./RunGraph";
import { RunTimeline } from "./RunTimeline";
import { StatusBadge, statusLabel } from "./status";
import { useRunStream } from "./useRunStream";

const json = (value: unknown) => JSON.stringify(value, null, 2);

export function RunPage() {
  const { workspace = "", run: runId = "" } = useParams();
  const navigate = useNavigate();
  const toast = useToast();
  const canOperate = useCanOperate(workspace);
  const name = useActorNames(workspace);
  const [run, setRun] = useState<Run | null>(null);
  const [tasks, setTasks] = useState<RunTask[]>([]);
  const [definition, setDefinition] = useState<WorkflowVersion["definition"] | null>(null);
  const [approvals, setApprovals] = useState<Approval[]>([]);
  const canDecide = useCanDecide(workspace, approvals.filter((a) => a.status === "pending").map((a) => a.id).join(), runId);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [acting, setActing] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  // The stream's last event ID when the record shown was asked for: step events after it are newer than the record.
  const recordAsOf = useRef(0);
  const loading = useRef(false);
  const again = useRef(false);
  const lastIdRef = useRef(0);

  const load = useCallback(async () => {
    if (loading.current) { again.current = true; return; }
    loading.current = true;
    try {
      do {
        again.current = false;
        const asOf = lastIdRef.current;
        const [fresh, attempts, pending] = await Promise.all([
          runsApi.get(workspace, runId),
          runsApi.tasks(workspace, runId),
          runsApi.approvals(workspace, { run: runId, limit: 100 }),
        ]);
        recordAsOf.current = asOf;
        setRun(fresh);
        setTasks(attempts.results);
        setApprovals(pending.results);
        setError(null);
      } while (again.current);
    } catch (e) {
      setError(e);
    } finally {
      loading.current = false;
    }
  }, [workspace, runId]);

  const { state: stream, reopen } = useRunStream(workspace, runId, () => void load());
  lastIdRef.current = stream.lastId;

  useEffect(() => { setRun(null); setDefinition(null); setSelected(null); void load(); }, [load]);

  // The graph is the version the run pinned, not the workflow as it is now.
  const workflowId = run?.workflowId;
  const workflowVersion = run?.workflowVersion;
  useEffect(() => {
    if (!workflowId || !workflowVersion) return;
    const abort = new AbortController();
    runsApi.workflowVersion(workspace, workflowId, workflowVersion, abort.signal)
      .then((v) => setDefinition(v.definition))
      .catch(() => { if (!abort.signal.aborted) setDefinition({ steps: [] }); });
    return () => abort.abort();
  }, [workspace, workflowId, workflowVersion]);

  const runStatus = run && stream.runStatus && stream.runStatus.eventId > recordAsOf.current ? stream.runStatus.status : run?.status;
  const finished = runStatus ? isFinished(runStatus) : false;

  // Durations of what is still going tick once a second.
  useEffect(() => {
    if (!run || finished) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [run, finished]);

  const statusOf = useCallback((id: string, fallback: string) => {
    const live = stream.steps[id];
    return live && live.eventId > recordAsOf.current ? live.status : fallback;
  }, [stream.steps]);

  const steps = useMemo(() => run ? graphSteps(definition?.steps, run.steps, statusOf) : [], [run, definition, statusOf]);

  // What the record holds, plus what streamed in since: nothing twice (by event ID).
  const messages = useMemo(() => merge<RunMessage>(run?.messages ?? [], stream.messages), [run, stream.messages]);
  const logs = useMemo(() => merge<RunLogLine>(run?.logs ?? [], stream.logs), [run, stream.logs]);

  const sessionCapable = useMemo(() => definition?.subType === "agent_session" || (definition?.steps ?? []).some((s) => {
    const activity = (s.activity as { uniqueIdentifier?: string } | undefined)?.uniqueIdentifier;
    return activity === "agent" && (s.input as { session?: unknown } | undefined)?.session === true;
  }), [definition]);

  const act = async (name: string, call: () => Promise<Run>, done: (r: Run) => void) => {
    setActing(name);
    try {
      done(await call());
    } catch (e) {
      toast.error(e);
    } finally {
      setActing(null);
    }
  };

  if (error != null && !run) {
    return (
      <div className="page">
        <LoadFailed error={error} onRetry={() => void load()} />
      </div>
    );
  }
  if (!run) return <Loading label="Loading the run…" />;

  const status = runStatus ?? run.status;
  const inProgress = ["queued", "running", "waiting", "compensating"].includes(status);
  const selectedStep = selected ? run.steps.find((s) => s.id === selected) ?? null : null;
  const pendingApprovals = approvals.filter((a) => a.status === "pending");
  const settledApprovals = approvals.filter((a) => a.status !== "pending");
  const prompt = typeof run.context?.prompt === "string" ? run.context.prompt : null;
  const attachments = Array.isArray(run.context?.attachments) ? (run.context.attachments as Record<string, unknown>[]) : [];
  const base = `/w/${encodeURIComponent(workspace)}`;

  return (
    <div className="page run-page">
      <header className="page-header">
        <div>
          <p className="muted breadcrumb">
            <Link to={`${base}/workflows/${encodeURIComponent(run.workflowName)}/runs`}>{run.workflowName}</Link> › run {run.number}
          </p>
          <h1 className="run-title">
            {run.displayId}
            <span role="status" aria-label={`Run status: ${statusLabel(status)}`}><StatusBadge status={status} /></span>
            {run.haltRequested && status !== "halted" && <span className="muted run-halting">halting…</span>}
          </h1>
          <p className="muted run-facts">
            {run.trigger.type} run{run.trigger.startedBy && <> by <ActorName id={run.trigger.startedBy} name={name} /></>} · version {run.workflowVersion}
            {" · "}created <Time value={run.createdAt} />
            {run.startedAt && <> · {finished ? "took" : "running for"} {formatDuration(run.startedAt, run.finishedAt, now)}</>}
            {run.trigger.parentRunId && <> · child of <Link to={`${base}/runs/${encodeURIComponent(run.trigger.parentRunId)}`}>{run.trigger.parentRunId}</Link></>}
            {" · "}<LiveIndicator connection={stream.connection} finished={finished} />
          </p>
        </div>
        <div className="page-actions">
          <CopyButton value={run.id} label="Copy run ID" what="the run ID" />
          {canOperate && (<>
            {inProgress && !run.haltRequested && (
              <Button busy={acting === "halt"} disabled={acting !== null}
                onClick={() => void act("halt", () => runsApi.halt(workspace, run.id), (r) => { setRun(r); toast.success(`Run ${r.displayId} halted.`); })}>Halt</Button>
            )}
            {status === "halted" && (
              <Button variant="primary" busy={acting === "resume"} disabled={acting !== null}
                onClick={() => void act("resume", () => runsApi.resume(workspace, run.id), (r) => { setRun(r); reopen(); toast.success(`Run ${r.displayId} resumed.`); })}>Resume</Button>
            )}
            {status === "failed" && (
              <Button variant="primary" busy={acting === "retry"} disabled={acting !== null}
                onClick={() => void act("retry", () => runsApi.retry(workspace, run.id), (r) => { setRun(r); reopen(); void load(); toast.success(`Retrying the failed steps of ${r.displayId}.`); })}>Retry failed steps</Button>
            )}
            {finished && (
              <Button busy={acting === "rerun"} disabled={acting !== null}
                onClick={() => void act("rerun", () => runsApi.rerun(workspace, run.id), (r) => { toast.success(`Run ${r.displayId} started.`); navigate(`${base}/runs/${encodeURIComponent(r.id)}`); })}>Rerun</Button>
            )}
          </>)}
        </div>
      </header>

      {error != null && <ProblemBanner error={error} onDismiss={() => setError(null)} />}
      {run.error && (
        <div className="problem" role="alert">
          <div className="problem-main">
            <strong className="problem-title">The run {status === "compensated" ? "was compensated" : "failed"}{run.error.type ? `: ${String(run.error.type)}` : ""}</strong>
            {run.error.message != null && <p className="problem-detail">{String(run.error.message)}</p>}
            {run.error.stepId != null && <p className="problem-detail">Step <code>{String(run.error.stepId)}</code></p>}
          </div>
        </div>
      )}

      {pendingApprovals.length > 0 && (
        <section className="run-section" aria-labelledby="run-approvals">
          <h2 id="run-approvals">Waiting for approval</h2>
          <div className="approval-list">
            {pendingApprovals.map((a) => (
              <ApprovalCard key={a.id} workspace={workspace} approval={a} canDecide={canDecide(a)}
                onDecided={(d) => { setApprovals((all) => all.map((x) => (x.id === d.id ? d : x))); toast.success(`Decision recorded for step ${d.stepId}${d.status === "pending" ? " (more approvals needed)" : ` (${d.status})`}.`); void load(); }} />
            ))}
          </div>
        </section>
      )}

      <div className="run-layout">
        <section className="run-section run-graph-section" aria-labelledby="run-steps">
          <h2 id="run-steps">Steps</h2>
          {definition == null ? <Loading label="Loading the graph…" /> : <RunGraph steps={steps} selected={selected} onSelect={setSelected} />}
          <StepList steps={steps} selected={selected} onSelect={setSelected} />
        </section>
        <aside className="run-section run-detail" aria-labelledby="run-detail">
          {selectedStep ? (
            <StepDetail step={selectedStep} status={statusOf(selectedStep.id, selectedStep.status)} now={now} logs={logs.filter((l) => l.stepId === selectedStep.id)}
              live={stream.live.filter((l) => l.stepId === selectedStep.id && !l.done).map((l) => l.text).join("")} onClose={() => setSelected(null)} />
          ) : (
            <RunSummaryPanel run={run} status={status} />
          )}
        </aside>
      </div>

      {(messages.length > 0 || stream.live.length > 0 || sessionCapable) && (
        <section className="run-section" aria-labelledby="run-conversation">
          <h2 id="run-conversation">Conversation</h2>
          <RunConversation messages={messages} live={stream.live} name={name} />
          {sessionCapable && canOperate && !finished && status !== "halted" && <PromptBox workspace={workspace} run={run.id} onSent={() => void load()} />}
        </section>
      )}

      <section className="run-section" aria-labelledby="run-timeline">
        <h2 id="run-timeline">Timeline</h2>
        <RunTimeline tasks={tasks} now={now} onSelect={setSelected} />
      </section>

      <div className="run-io">
        <section className="run-section" aria-labelledby="run-input">
          <h2 id="run-input">Input</h2>
          {prompt && <><h3 className="run-subheading">Prompt</h3><p className="run-prompt">{prompt}</p></>}
          {attachments.length > 0 && (
            <><h3 className="run-subheading">Attachments</h3>
              <ul className="run-attachments">
                {attachments.map((a, i) => <li key={i}>{String(a.name ?? a.storageId ?? a.url ?? `#${i + 1}`)}{a.contentType != null && <span className="muted"> ({String(a.contentType)})</span>}</li>)}
              </ul>
              <p><Link to={`${base}/files?run=${encodeURIComponent(run.id)}`}>The run's files</Link></p></>
          )}
          <pre className="code" aria-label="Run input">{json(run.input ?? {})}</pre>
        </section>
        <section className="run-section" aria-labelledby="run-output">
          <h2 id="run-output">Output</h2>
          {run.output === null || run.output === undefined
            ? <p className="muted">{finished ? "The run ended without an output." : "The output appears when the run ends."}</p>
            : <><pre className="code" aria-label="Run output">{json(run.output)}</pre><DownloadJson value={run.output} fileName={`${run.displayId}-output.json`} label="Download output JSON" /></>}
          {Object.keys(run.links ?? {}).length > 0 && (
            <><h3 className="run-subheading">Links</h3>
              <ul>{Object.entries(run.links).map(([name, url]) => <li key={name}><a href={url} target="_blank" rel="noreferrer noopener">{name}</a></li>)}</ul></>
          )}
        </section>
      </div>

      <section className="run-section" aria-labelledby="run-logs">
        <h2 id="run-logs">Logs</h2>
        <LogList logs={logs} />
      </section>

      {settledApprovals.length > 0 && (
        <section className="run-section" aria-labelledby="run-decided">
          <h2 id="run-decided">Decided approvals</h2>
          <div className="approval-list">
            {settledApprovals.map((a) => <ApprovalCard key={a.id} workspace={workspace} approval={a} canDecide={false} onDecided={() => undefined} />)}
          </div>
        </section>
      )}
    </div>
  );
}

/** A link that downloads a JSON value as a file (a Blob URL, released when the value changes or the page goes). */
function DownloadJson({ value, fileName, label }: { value: unknown; fileName: string; label: string }) {
  const href = useMemo(() => URL.createObjectURL(new Blob([json(value)], { type: "application/json" })), [value]);
  useEffect(() => () => URL.revokeObjectURL(href), [href]);
  return <p><a className="btn" href={href} download={fileName}>{label}</a></p>;
}

function merge<T extends { id: number }>(record: T[], streamed: T[]): T[] {
  const seen = new Set(record.map((m) => m.id));
  return [...record, ...streamed.filter((m) => !seen.has(m.id))].sort((a, b) => a.id - b.id);
}

function LiveIndicator({ connection, finished }: { connection: string; finished: boolean }) {
  if (finished || connection === "ended") return <span className="live live-ended">final</span>;
  switch (connection) {
    case "open": return <span className="live live-on"><span className="live-dot" aria-hidden="true" />live</span>;
    case "reconnecting": return <span className="live live-off">reconnecting…</span>;
    case "failed": return <span className="live live-off">live updates unavailable; reload to refresh</span>;
    default: return <span className="live live-off">connecting…</span>;
  }
}

function StepList({ steps, selected, onSelect }: { steps: ReturnType<typeof graphSteps>; selected: string | null; onSelect: (id: string) => void }) {
  return (
    <ul className="step-list" aria-label="Step states">
      {steps.map((s) => (
        <li key={s.id}>
          <button type="button" className={`step-chip${selected === s.id ? " step-chip-selected" : ""}`} aria-pressed={selected === s.id} onClick={() => onSelect(s.id)}
            aria-label={`${s.id}: ${statusLabel(s.status)}`}>
            <code>{s.id}</code> <StatusBadge status={s.status} />
          </button>
        </li>
      ))}
    </ul>
  );
}

function RunSummaryPanel({ run, status }: { run: Run; status: string }) {
  const u = run.usage;
  return (
    <div className="stack-tight">
      <h2 id="run-detail">Run</h2>
      <dl className="facts">
        <div><dt>Status</dt><dd><StatusBadge status={status} /></dd></div>
        <div><dt>Started</dt><dd><Time value={run.startedAt} /></dd></div>
        <div><dt>Finished</dt><dd><Time value={run.finishedAt} /></dd></div>
        <div><dt>Input tokens</dt><dd>{u.inputTokens.toLocaleString()}{u.cachedInputTokens > 0 && <span className="muted"> ({u.cachedInputTokens.toLocaleString()} cached)</span>}</dd></div>
        <div><dt>Output tokens</dt><dd>{u.outputTokens.toLocaleString()}</dd></div>
        <div><dt>Cost</dt><dd>{formatCost(u.costUsd)}</dd></div>
      </dl>
      <p className="muted">Select a step in the graph (click it, or focus it and press Enter) to see its attempts, output, error and logs.</p>
    </div>
  );
}

interface ToolCall { id?: string; name?: string; arguments?: unknown }
interface ToolResult { id?: string; result?: unknown }

function toolCallsOf(output: unknown): { call: ToolCall; result?: unknown }[] {
  const messages = (output as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return [];
  const results = new Map<string, unknown>();
  for (const m of messages as { toolResults?: ToolResult[] | null }[]) for (const r of m.toolResults ?? []) if (r.id) results.set(r.id, r.result);
  return (messages as { toolCalls?: ToolCall[] | null }[]).flatMap((m) => (m.toolCalls ?? []).map((call) => ({ call, result: call.id ? results.get(call.id) : undefined })));
}

function StepDetail({ step, status, now, logs, live, onClose }: {
  step: Run["steps"][number]; status: string; now: number; logs: RunLogLine[]; live: string; onClose: () => void;
}) {
  const tools = toolCallsOf(step.output);
  const output = step.output as Record<string, unknown> | null;
  const usage = output && typeof output === "object" ? (output.usage as Record<string, number> | undefined) : undefined;
  return (
    <div className="stack-tight">
      <div className="run-detail-header">
        <h2 id="run-detail">Step <code>{step.id}</code></h2>
        <Button variant="ghost" onClick={onClose} aria-label="Close the step's detail">×</Button>
      </div>
      <dl className="facts">
        <div><dt>Status</dt><dd><StatusBadge status={status} /></dd></div>
        <div><dt>Activity</dt><dd><code>{step.activity}</code></dd></div>
        <div><dt>Attempts</dt><dd>{step.attempts}{step.iteration > 1 && <span className="muted"> · pass {step.iteration}</span>}</dd></div>
        <div><dt>Started</dt><dd><Time value={step.startedAt} /></dd></div>
        <div><dt>Took</dt><dd>{formatDuration(step.startedAt, step.finishedAt, now)}</dd></div>
        {usage && <div><dt>Tokens</dt><dd>{usage.inputTokens ?? 0} in · {usage.outputTokens ?? 0} out{typeof output?.cost === "number" && <> · {formatCost(output.cost)}</>}</dd></div>}
      </dl>
      {step.error && (
        <div className="problem" role="alert">
          <div className="problem-main">
            <strong className="problem-title">{String(step.error.type ?? "error")}</strong>
            {step.error.message != null && <p className="problem-detail">{String(step.error.message)}</p>}
          </div>
        </div>
      )}
      {live && (
        <>
          <h3 className="run-subheading">Answer so far</h3>
          <p className="run-live-text" aria-live="polite">{live}<span className="caret" aria-hidden="true" /></p>
        </>
      )}
      {tools.length > 0 && (
        <>
          <h3 className="run-subheading">Tool calls</h3>
          <ol className="tool-calls" aria-label="Tool calls">
            {tools.map(({ call, result }, i) => (
              <li key={call.id ?? i}>
                <code className="strong">{call.name}</code>
                <pre className="code" aria-label={`Arguments of ${call.name ?? "the tool"}`}>{json(call.arguments ?? {})}</pre>
                {result !== undefined && <details><summary>Result</summary><pre className="code" aria-label={`Result of ${call.name ?? "the tool"}`}>{json(result)}</pre></details>}
              </li>
            ))}
          </ol>
        </>
      )}
      <h3 className="run-subheading">Output</h3>
      {step.output === null || step.output === undefined ? <p className="muted">None yet.</p> : <pre className="code run-step-output">{json(step.output)}</pre>}
      {logs.length > 0 && (<><h3 className="run-subheading">Logs</h3><LogList logs={logs} /></>)}
    </div>
  );
}

function LogList({ logs }: { logs: RunLogLine[] }) {
  if (logs.length === 0) return <p className="muted">No log lines. Steps log here as they work (an agent's tool calls, warnings, guardrails).</p>;
  return (
    <ol className="log-list" aria-label="Log lines">
      {logs.map((l) => (
        <li key={l.id} className={`log-line log-${l.level}`}>
          <span className="log-time"><Time value={l.createdAt} /></span>
          {l.stepId && <code className="log-step">{l.stepId}</code>}
          <span className="log-level">{l.level}</span>
          <span className="log-message">{l.message}</span>
        </li>
      ))}
    </ol>
  );
}
