// The analytics charts (Recharts), loaded only when a page shows them so the rest of the UI stays light.
// Colours are the theme's CSS variables, written into the SVG attributes, so both themes apply without a re-render.
// Each chart is a figure: the drawing is an image with a name that states what it shows, and a hidden table holds
// the same numbers for screen readers.
import type { ReactNode } from "react";
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { AnalyticsPoint, Granularity } from "../../api/analytics";
import { formatCount, formatPeriod, formatRate, formatUsd } from "./format";

const axis = { stroke: "var(--border)", tick: { fill: "var(--muted)", fontSize: 12 } };
const tooltip = {
  contentStyle: { background: "var(--surface)", border: "1px solid var(--border)", borderRadius: 8, color: "var(--text)" },
  labelStyle: { color: "var(--text)", fontWeight: 600 },
  itemStyle: { color: "var(--text)" },
  cursor: { fill: "var(--surface-2)", stroke: "var(--border)" },
};
const legend = { wrapperStyle: { color: "var(--text)", fontSize: 13 } };

const outcomes = [
  { key: "succeeded", label: "Succeeded", colour: "var(--success)" },
  { key: "failed", label: "Failed", colour: "var(--danger)" },
  { key: "compensated", label: "Compensated", colour: "var(--warning)" },
  { key: "halted", label: "Halted", colour: "var(--muted)" },
] as const;

function Figure({ title, summary, columns, rows, children }: {
  title: string;
  summary: string;
  columns: string[];
  rows: (string | number)[][];
  children: ReactNode;
}) {
  return (
    <figure className="chart-card">
      <figcaption className="chart-title">{title}</figcaption>
      <div className="chart-box" role="img" aria-label={`${title}: ${summary}`}>{children}</div>
      <table className="visually-hidden">
        <caption>{title}</caption>
        <thead><tr>{columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr></thead>
        <tbody>{rows.map((row, i) => <tr key={i}>{row.map((cell, j) => (j === 0 ? <th key={j} scope="row">{cell}</th> : <td key={j}>{cell}</td>))}</tr>)}</tbody>
      </table>
    </figure>
  );
}

export default function AnalyticsCharts({ series, granularity }: { series: AnalyticsPoint[]; granularity: Granularity }) {
  const data = series.map((p) => ({
    ...p,
    label: formatPeriod(p.date, granularity),
    successPercent: p.successRate == null ? null : Math.round(p.successRate * 1000) / 10,
  }));
  const period = (p: AnalyticsPoint) => formatPeriod(p.date, granularity, true);
  const used = outcomes.filter((o) => series.some((p) => p[o.key] > 0));
  const shown = used.length ? used : outcomes.slice(0, 2);
  const totals = Object.fromEntries(outcomes.map((o) => [o.key, series.reduce((sum, p) => sum + p[o.key], 0)]));
  const rated = series.filter((p) => p.successRate != null);
  const cost = series.reduce((sum, p) => sum + p.costUsd, 0);
  const costliest = series.reduce<AnalyticsPoint | null>((top, p) => (p.costUsd > (top?.costUsd ?? 0) ? p : top), null);
  const periods = `${series.length} ${granularity === "daily" ? "days" : granularity === "weekly" ? "weeks" : "months"}`;

  return (
    <div className="chart-grid">
      <Figure title="Runs over time"
        summary={`${periods}; ${outcomes.map((o) => `${formatCount(totals[o.key] ?? 0)} ${o.label.toLowerCase()}`).join(", ")}.`}
        columns={["Period", ...outcomes.map((o) => o.label)]}
        rows={series.map((p) => [period(p), ...outcomes.map((o) => p[o.key])])}>
        <ResponsiveContainer width="100%" height={240}>
          <BarChart data={data} accessibilityLayer={false} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" {...axis} minTickGap={12} />
            <YAxis allowDecimals={false} {...axis} />
            <Tooltip {...tooltip} />
            <Legend {...legend} />
            {shown.map((o) => <Bar key={o.key} dataKey={o.key} name={o.label} stackId="runs" fill={o.colour} isAnimationActive={false} />)}
          </BarChart>
        </ResponsiveContainer>
      </Figure>

      <Figure title="Success rate over time"
        summary={rated.length
          ? `from ${formatRate(rated[0]?.successRate)} to ${formatRate(rated[rated.length - 1]?.successRate)} over the ${rated.length} periods with ended runs.`
          : "no run ended in this window."}
        columns={["Period", "Success rate"]}
        rows={series.map((p) => [period(p), formatRate(p.successRate)])}>
        <ResponsiveContainer width="100%" height={240}>
          <LineChart data={data} accessibilityLayer={false} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" {...axis} minTickGap={12} />
            <YAxis domain={[0, 100]} unit="%" {...axis} />
            <Tooltip {...tooltip} formatter={(value) => [`${String(value)} %`, "Success rate"]} />
            <Line type="monotone" dataKey="successPercent" name="Success rate" stroke="var(--success)" strokeWidth={2}
              dot={{ r: 3, fill: "var(--success)", stroke: "var(--success)" }} connectNulls isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </Figure>

      <Figure title="Cost over time"
        summary={`${formatUsd(cost)} in all${costliest ? `; the most, ${formatUsd(costliest.costUsd)}, in ${period(costliest)}` : ""}.`}
        columns={["Period", "Cost (USD)", "Input tokens", "Output tokens"]}
        rows={series.map((p) => [period(p), formatUsd(p.costUsd), p.inputTokens, p.outputTokens])}>
        <ResponsiveContainer width="100%" height={240}>
          <AreaChart data={data} accessibilityLayer={false} margin={{ top: 8, right: 8, bottom: 0, left: -8 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" {...axis} minTickGap={12} />
            <YAxis {...axis} tickFormatter={(v: number) => formatUsd(v)} width={72} />
            <Tooltip {...tooltip} formatter={(value) => [formatUsd(Number(value)), "Cost"]} />
            <Area type="monotone" dataKey="costUsd" name="Cost" stroke="var(--accent)" fill="var(--accent-soft)" strokeWidth={2} isAnimationActive={false} />
          </AreaChart>
        </ResponsiveContainer>
      </Figure>
    </div>
  );
}
