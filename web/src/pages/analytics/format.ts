// How insight pages write figures: money, rates, durations, counts and periods, in the reader's locale.
import type { Granularity } from "../../api/analytics";

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

export const formatCount = (value: number) => integer.format(value);

/** Large counts (tokens) shortened: 12.3K. */
export const formatCompact = (value: number) => (Math.abs(value) < 10_000 ? integer.format(value) : compact.format(value));

/** A 0–1 rate as a percentage; null (nothing to rate) as a dash. */
export const formatRate = (value: number | null | undefined) => (value == null ? "—" : percent.format(value));

/** US dollars: cents for sums of a dollar or more, more digits for the fractions model calls cost. */
export function formatUsd(value: number | null | undefined): string {
  if (value == null) return "—";
  const digits = value === 0 ? 2 : Math.abs(value) >= 1 ? 2 : Math.abs(value) >= 0.01 ? 4 : 6;
  return new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: digits }).format(value);
}

/** Seconds as the two largest units that matter: 850 ms, 12.4 s, 3 min 20 s, 2 h 5 min, 3 d 4 h. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min${Math.round(seconds % 60) ? ` ${Math.round(seconds % 60)} s` : ""}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
  const days = Math.floor(hours / 24);
  return `${days} d${hours % 24 ? ` ${hours % 24} h` : ""}`;
}

/** A period of a series by its first local date (yyyy-MM-dd): "Nov 24", "week of Nov 24", "Nov 2026". */
export function formatPeriod(date: string, granularity: Granularity, long = false): string {
  const [y, m, d] = date.split("-").map(Number);
  const day = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1));
  if (granularity === "monthly") return new Intl.DateTimeFormat(undefined, { month: long ? "long" : "short", year: "numeric", timeZone: "UTC" }).format(day);
  const text = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", ...(long ? { year: "numeric" } : {}), timeZone: "UTC" }).format(day);
  return granularity === "weekly" ? `week of ${text}` : text;
}
