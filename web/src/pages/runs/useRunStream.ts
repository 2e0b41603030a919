// A run's server-sent events (GET …/runs/{run}/stream, docs/runs.md "Streaming") folded into what the run view shows:
// each step's latest state, the conversation, the model's text as it streams, the logs. The browser's EventSource
// sends the session cookie and, when it reconnects, the Last-Event-ID the server resumes after; events at or below
// the last ID seen are dropped anyway, so a reconnect or a re-opened stream never shows an event twice.
import { useCallback, useEffect, useReducer, useRef } from "react";
import { isFinished, runsApi, type RunLogLine, type RunMessage } from "../../api/runs";

/** The stream's event types (docs/runs.md); EventSource needs a listener per named type. */
const eventTypes = ["status", "step", "log", "message", "message_delta", "usage", "link", "approval", "loop", "prompt", "heartbeat"] as const;

/** Events after which the run's own record (outputs, usage, attempts, approvals) is read again. */
const changesTheRecord = new Set(["status", "step", "usage", "approval", "link", "loop"]);

export interface LiveText {
  stepId: string;
  attempt: number;
  text: string;
  /** The step's `message` came: the text is whole, and the conversation holds it. */
  done: boolean;
}

export interface StepState {
  status: string;
  attempt: number;
  eventId: number;
}

export interface StreamState {
  /** The highest event ID folded in. */
  lastId: number;
  connection: "connecting" | "open" | "reconnecting" | "ended" | "failed";
  runStatus: { status: string; eventId: number } | null;
  steps: Record<string, StepState>;
  messages: RunMessage[];
  live: LiveText[];
  logs: RunLogLine[];
}

interface RunEvent {
  id: number;
  type: string;
  data: Record<string, unknown>;
  at: string;
}

type Action =
  | { kind: "event"; event: RunEvent }
  | { kind: "connection"; connection: StreamState["connection"] }
  | { kind: "reset" };

const initial: StreamState = { lastId: 0, connection: "connecting", runStatus: null, steps: {}, messages: [], live: [], logs: [] };

const str = (value: unknown) => (typeof value === "string" ? value : null);
const num = (value: unknown, fallback = 0) => (typeof value === "number" ? value : fallback);

function fold(state: StreamState, event: RunEvent): StreamState {
  if (event.id <= state.lastId) return state;
  const next: StreamState = { ...state, lastId: event.id };
  const d = event.data;
  switch (event.type) {
    case "status": {
      const status = str(d.status);
      if (status) next.runStatus = { status, eventId: event.id };
      break;
    }
    case "step": {
      const stepId = str(d.stepId);
      const status = str(d.status);
      if (stepId && status) next.steps = { ...state.steps, [stepId]: { status, attempt: num(d.attempt, 1), eventId: event.id } };
      break;
    }
    case "message_delta": {
      const stepId = str(d.stepId) ?? "";
      const attempt = num(d.attempt, 1);
      const text = str(d.text) ?? "";
      const index = findOpen(state.live, stepId, attempt);
      next.live = index >= 0
        ? state.live.map((l, i) => (i === index ? { ...l, text: l.text + text } : l))
        : [...state.live, { stepId, attempt, text, done: false }];
      break;
    }
    case "message":
    case "prompt": {
      const role = event.type === "prompt" ? "user" : str(d.role);
      if (!role) break;
      const stepId = str(d.stepId);
      next.messages = [...state.messages, {
        id: event.id, stepId, role, text: str(d.text), by: str(d.by), end: d.end === true, createdAt: event.at,
      }];
      if (role === "assistant" && stepId) {
        // The whole answer arrived: the streamed text it was made of is done (the conversation shows it now).
        let index = -1;
        state.live.forEach((l, i) => { if (l.stepId === stepId && !l.done) index = i; });
        if (index >= 0) next.live = state.live.map((l, i) => (i === index ? { ...l, done: true } : l));
      }
      break;
    }
    case "log": {
      next.logs = [...state.logs, {
        id: event.id, stepId: str(d.stepId), level: str(d.level) ?? "info", message: str(d.message) ?? JSON.stringify(d), createdAt: event.at,
      }];
      break;
    }
  }
  return next;
}

function findOpen(live: LiveText[], stepId: string, attempt: number): number {
  for (let i = live.length - 1; i >= 0; i--) {
    const l = live[i];
    if (l && l.stepId === stepId && l.attempt === attempt && !l.done) return i;
  }
  return -1;
}

function reducer(state: StreamState, action: Action): StreamState {
  switch (action.kind) {
    case "event": return fold(state, action.event);
    case "connection": return state.connection === action.connection ? state : { ...state, connection: action.connection };
    case "reset": return initial;
  }
}

/**
 * Follows a run's events from the first. `onRecordChanged` is called (at most every quarter second) after events
 * that change the run's record, so the page reads it again. `reopen` follows again after the stream ended (a
 * failed run retried, a halted run resumed), from where it stopped.
 */
export function useRunStream(workspace: string, run: string, onRecordChanged: () => void) {
  const [state, dispatch] = useReducer(reducer, initial);
  const lastId = useRef(0);
  const status = useRef<string | null>(null);
  const source = useRef<EventSource | null>(null);
  const changed = useRef(onRecordChanged);
  const timer = useRef<number | undefined>(undefined);
  changed.current = onRecordChanged;

  const open = useCallback(() => {
    source.current?.close();
    dispatch({ kind: "connection", connection: "connecting" });
    const es = new EventSource(runsApi.streamUrl(workspace, run, lastId.current));
    source.current = es;
    const handle = (type: string) => (message: MessageEvent<string>) => {
      const id = Number(message.lastEventId);
      // A reconnect resumes after Last-Event-ID; anything at or below what was seen is a duplicate and dropped.
      if (!Number.isFinite(id) || id <= lastId.current) return;
      lastId.current = id;
      if (type === "heartbeat") return;
      let data: Record<string, unknown> = {};
      try { data = JSON.parse(message.data) as Record<string, unknown>; } catch { /* keep {} */ }
      if (type === "status" && typeof data.status === "string") status.current = data.status;
      dispatch({ kind: "event", event: { id, type, data, at: new Date().toISOString() } });
      if (changesTheRecord.has(type) && timer.current === undefined) {
        timer.current = window.setTimeout(() => { timer.current = undefined; changed.current(); }, 250);
      }
    };
    for (const type of eventTypes) es.addEventListener(type, handle(type) as EventListener);
    es.onopen = () => dispatch({ kind: "connection", connection: "open" });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        // Refused outright (signed out, run gone): EventSource gives up; the page still shows the record.
        dispatch({ kind: "connection", connection: "failed" });
        return;
      }
      if (status.current && isFinished(status.current)) {
        // The server ends the stream after the run's final status: stop, rather than let EventSource reconnect.
        es.close();
        dispatch({ kind: "connection", connection: "ended" });
        changed.current();
        return;
      }
      dispatch({ kind: "connection", connection: "reconnecting" });
    };
  }, [workspace, run]);

  useEffect(() => {
    lastId.current = 0;
    status.current = null;
    dispatch({ kind: "reset" });
    open();
    return () => {
      source.current?.close();
      source.current = null;
      window.clearTimeout(timer.current);
      timer.current = undefined;
    };
  }, [open]);

  const reopen = useCallback(() => {
    if (source.current && source.current.readyState !== EventSource.CLOSED) return;
    status.current = null;
    open();
  }, [open]);

  return { state, reopen };
}
