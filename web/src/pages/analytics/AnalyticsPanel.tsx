import { lazy, Suspense, useEffect, useMemo, useState, type ReactNode } from "react";
import { Link, useSearchParams } from "react-router";
import { analyticsApi, type AnalyticsResponse, type AnalyticsSlice, type Granularity } from "../../api/analytics";
import { type Column, EmptyState, LoadFailed, Loading, Select, Table } from "../../components";
import { formatCompact, formatCount, formatDuration, formatRate, formatUsd } from "./format";

const AnalyticsCharts = lazy(() => import("./AnalyticsCharts"));

const dayChoices = [7, 30, 90, 365];
const granularities: { value: Granularity; label: string }[] = [
  { value: "daily", label: "Daily" },
  { value: "weekly", label: "Weekly" },
  { value: "monthly", label: "Monthly" },
];

function zones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
}

/** The window the address asks for: ?days=&granularity=&timeZone= (defaults 30, daily, the workspace's zone). */
export function useAnalyticsWindow() {
  const [params, setParams] = useSearchParams();
  const rawDays = Number(params.get("days") ?? "30");
  const days = Number.isInteger(rawDays) && rawDays >= 1 && rawDays <= 366 ? rawDays : 30;
  const rawGranularity = params.get("granularity");
  const granularity: Granularity = rawGranularity === "weekly" || rawGranularity === "monthly" ? rawGranularity : "daily";
  const timeZone = params.get("timeZone") ?? "";
  const set = (name: string, value: string, fallback: string) =>
    setParams((current) => {
      const next = new URLSearchParams(current);
      if (value === fallback) next.delete(name); else next.set(name, value);
      return next;
    }, { replace: true });
  return {
    days, granularity, timeZone,
    setDays: (value: number) => set("days", String(value), "30"),
    setGranularity: (value: Granularity) => set("granularity", value, "daily"),
    setTimeZone: (value: string) => set("timeZone", value, ""),
  };
}

/**
 * Analytics of a workflow, a persona or the workspace (docs/analytics.md): the window in the address, KPI cards,
 * runs, success rate and cost over time, where the cost went and, for a workspace, its top workflows.
 * `path` is the API endpoint to read (see `analyticsPaths`).
 */
export function AnalyticsPanel({ workspace, path, subject, emptyHint }: {
  workspace: string;
  path: string;
  /** What the figures are about, for the empty state: "this workflow", "this workspace". */
  subject: string;
  /** What to do to get figures, shown in the empty state. */
  emptyHint?: ReactNode;
}) {
  const range = useAnalyticsWindow();
  const { days, granularity, timeZone } = range;
  const [data, setData] = useState<AnalyticsResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [reload, setReload] = useState(0);
  const [workspaceZone, setWorkspaceZone] = useState<string | null>(null);
  const zoneList = useMemo(zones, []);

  useEffect(() => {
    const abort = new AbortController();
    analyticsApi.workspaceTimeZone(workspace, abort.signal).then(setWorkspaceZone).catch(() => { /* the default's name is only a label */ });
    return () => abort.abort();
  }, [workspace]);

  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    analyticsApi.read(path, { days, granularity, timeZone: timeZone || undefined }, abort.signal)
      .then((result) => { setData(result); setError(null); setLoading(false); })
      .catch((e: unknown) => { if (!abort.signal.aborted) { setError(e); setLoading(false); } });
    return () => abort.abort();
  }, [path, days, granularity, timeZone, reload]);

  const dayOptions = (dayChoices.includes(days) ? dayChoices : [...dayChoices, days].sort((a, b) => a - b))
    .map((d) => ({ value: String(d), label: d === 365 ? "Last 365 days" : `Last ${d} days` }));
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zoneOptions = [
    { value: "", label: `Workspace default${workspaceZone ? ` (${workspaceZone})` : ""}` },
    ...[...new Set([browserZone, "UTC", ...(timeZone ? [timeZone] : []), ...zoneList])].map((z) => ({ value: z, label: z === browserZone ? `${z} (this browser)` : z })),
  ];

  const k = data?.kpis;
  const empty = k != null && k.runs === 0 && k.modelCalls === 0 && k.approvals === 0;

  return (
    <div className="stack analytics">
      <div className="analytics-controls" role="group" aria-label="Analytics window">
        <Select label="Window" value={String(days)} options={dayOptions} onChange={(e) => range.setDays(Number(e.target.value))} />
        <Select label="Granularity" value={granularity} options={granularities} onChange={(e) => range.setGranularity(e.target.value as Granularity)} />
        <Select label="Time zone" value={timeZone} options={zoneOptions} onChange={(e) => range.setTimeZone(e.target.value)}
          hint="Where days, weeks and months begin." />
      </div>

      {error != null && (
        <LoadFailed error={error} onRetry={() => setReload((n) => n + 1)} />
      )}
      {error == null && loading && !data && <Loading label="Loading analytics…" />}

      {error == null && data && k && empty && (
        <EmptyState title={`No runs in the last ${days} days`}>
          <p>Analytics count runs of {subject} as they come to rest (succeeded, failed, compensated or halted), what their model calls cost, and how long approvals waited. There is nothing to count in this window yet.</p>
          {emptyHint}
        </EmptyState>
      )}

      {error == null && data && k && !empty && (
        <div className={`stack ${loading ? "is-refreshing" : ""}`} aria-busy={loading}>
          <p className="muted analytics-window" aria-live="polite">
            {new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: data.window.timeZone }).format(new Date(data.window.from))}
            {" – "}
            {new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: data.window.timeZone }).format(new Date(new Date(data.window.to).getTime() - 1))}
            {` · ${data.window.timeZone} · ${data.window.granularity}`}
          </p>
          <div className="kpis">
            <Kpi label="Runs" value={formatCount(k.runs)}
              detail={[`${formatCount(k.succeeded)} succeeded`, `${formatCount(k.failed)} failed`, k.compensated ? `${formatCount(k.compensated)} compensated` : "", k.halted ? `${formatCount(k.halted)} halted` : ""].filter(Boolean).join(" · ")} />
            <Kpi label="Success rate" value={formatRate(k.successRate)} detail="succeeded ÷ ended" tone={k.successRate == null ? undefined : k.successRate >= 0.95 ? "good" : k.successRate < 0.8 ? "bad" : undefined} />
            <Kpi label="Duration p50" value={formatDuration(k.p50DurationSeconds)} detail={`average ${formatDuration(k.averageDurationSeconds)}`} />
            <Kpi label="Duration p95" value={formatDuration(k.p95DurationSeconds)} detail="start to rest" />
            <Kpi label="Cost" value={formatUsd(k.costUsd)} detail={`${formatUsd(k.averageCostUsd)} a run`} />
            <Kpi label="Tokens" value={formatCompact(k.inputTokens + k.outputTokens)}
              detail={`${formatCompact(k.inputTokens)} in (${formatCompact(k.cachedInputTokens)} cached) · ${formatCompact(k.outputTokens)} out · ${formatCount(k.modelCalls)} calls`} />
            <Kpi label="Approvals" value={formatCount(k.approvals)}
              detail={k.approvals ? `waited ${formatDuration(k.averageApprovalWaitSeconds)} on average` : "none decided"} />
          </div>

          <Suspense fallback={<Loading label="Drawing the charts…" />}>
            <AnalyticsCharts series={data.series} granularity={data.window.granularity} />
          </Suspense>

          {data.top && <TopLists workspace={workspace} top={data.top} />}
          <Breakdowns workspace={workspace} data={data} />
        </div>
      )}
    </div>
  );
}

function Kpi({ label, value, detail, tone }: { label: string; value: string; detail?: string; tone?: "good" | "bad" }) {
  return (
    <div className={`kpi ${tone ? `kpi-${tone}` : ""}`} role="group" aria-label={label}>
      <div className="kpi-label">{label}</div>
      <div className="kpi-value">{value}</div>
      {detail && <div className="kpi-detail">{detail}</div>}
    </div>
  );
}

const personaLink = (workspace: string, name: string) => `/w/${encodeURIComponent(workspace)}/personas/${encodeURIComponent(name)}`;
const workflowLink = (workspace: string, name: string) => `/w/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(name)}`;

function Breakdowns({ workspace, data }: { workspace: string; data: AnalyticsResponse }) {
  const b = data.breakdown;
  const personaNames = new Map((b.byPersona ?? []).map((s) => [s.key, s.name]));
  const named = (s: AnalyticsSlice, link?: (name: string) => string) =>
    s.name ? (link ? <Link to={link(s.name)}>{s.name}</Link> : s.name) : <span className="muted" title={s.key}>{s.key} (deleted)</span>;
  const version = (s: AnalyticsSlice) => {
    // Under a workflow the key is personaId@version; under a persona, the version alone.
    const at = s.key.lastIndexOf("@");
    if (at < 0) return `Version ${s.key}`;
    const id = s.key.slice(0, at);
    const name = personaNames.get(id);
    return <>{name ? <Link to={personaLink(workspace, name)}>{name}</Link> : <span className="muted">{id}</span>} v{s.key.slice(at + 1)}</>;
  };
  const sections: { title: string; rows: AnalyticsSlice[] | null; label: (s: AnalyticsSlice) => ReactNode; runs: boolean }[] = [
    { title: "Cost by model", rows: b.byModel, label: (s) => <code>{s.key}</code>, runs: false },
    { title: "Cost by persona", rows: b.byPersona, label: (s) => named(s, (n) => personaLink(workspace, n)), runs: true },
    { title: "Cost by persona version", rows: b.byVersion, label: version, runs: true },
    { title: "Cost by workflow", rows: b.byWorkflow, label: (s) => named(s, (n) => workflowLink(workspace, n)), runs: true },
    { title: "Cost by step", rows: b.byStep, label: (s) => <code>{s.key}</code>, runs: false },
  ];
  return (
    <div className="breakdowns">
      {sections.filter((s) => s.rows != null).map((section) => (
        <section key={section.title} className="breakdown" aria-label={section.title}>
          <h3>{section.title}</h3>
          {section.rows!.length === 0
            ? <p className="muted">Nothing in this window.</p>
            : <Table caption={section.title} rows={section.rows!} rowKey={(s) => s.key} columns={breakdownColumns(section.label, section.runs)} />}
        </section>
      ))}
    </div>
  );
}

function breakdownColumns(label: (s: AnalyticsSlice) => ReactNode, runs: boolean): Column<AnalyticsSlice>[] {
  const columns: Column<AnalyticsSlice>[] = [
    { key: "name", header: "Name", cell: label },
    {
      key: "cost", header: "Cost", cell: (s) => (
        <div className="share">
          <span>{formatUsd(s.costUsd)}</span>
          <span className="share-bar" aria-hidden="true"><span style={{ width: `${Math.round((s.costShare ?? 0) * 100)}%` }} /></span>
          <span className="muted">{formatRate(s.costShare)}</span>
        </div>
      ),
    },
    { key: "calls", header: "Model calls", cell: (s) => formatCount(s.modelCalls) },
    { key: "tokens", header: "Tokens in / out", cell: (s) => `${formatCompact(s.inputTokens)} / ${formatCompact(s.outputTokens)}` },
  ];
  if (runs) {
    columns.push(
      { key: "runs", header: "Runs", cell: (s) => formatCount(s.runs) },
      { key: "rate", header: "Success", cell: (s) => formatRate(s.successRate) },
      { key: "duration", header: "Avg duration", cell: (s) => formatDuration(s.averageDurationSeconds) },
    );
  }
  return columns;
}

function TopLists({ workspace, top }: { workspace: string; top: NonNullable<AnalyticsResponse["top"]> }) {
  const lists: { title: string; rows: AnalyticsSlice[]; value: (s: AnalyticsSlice) => string }[] = [
    { title: "Top workflows by cost", rows: top.byCost, value: (s) => formatUsd(s.costUsd) },
    { title: "Top workflows by failures", rows: top.byFailures, value: (s) => `${formatCount(s.failed)} failed of ${formatCount(s.runs)}` },
    { title: "Top workflows by run time", rows: top.byDuration, value: (s) => `${formatDuration((s.averageDurationSeconds ?? 0) * s.runs)} in ${formatCount(s.runs)} runs` },
  ];
  return (
    <div className="top-lists">
      {lists.map((list) => (
        <section key={list.title} className="top-list" aria-label={list.title}>
          <h3>{list.title}</h3>
          {list.rows.length === 0 ? <p className="muted">Nothing in this window.</p> : (
            <ol>
              {list.rows.map((s) => (
                <li key={s.key}>
                  {s.name ? <Link to={workflowLink(workspace, s.name)}>{s.name}</Link> : <span className="muted">{s.key} (deleted)</span>}
                  <span className="muted">{list.value(s)}</span>
                </li>
              ))}
            </ol>
          )}
        </section>
      ))}
    </div>
  );
}
