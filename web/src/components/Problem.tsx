import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { ProblemError, type Problem } from "../api/client";
import { Button } from "./Button";

/** Turns anything thrown into the problem to show. */
export function toProblem(error: unknown): Problem {
  if (error instanceof ProblemError) return error.problem;
  return { title: "Something went wrong", status: 0, detail: error instanceof Error ? error.message : String(error) };
}

/** A page or panel whose data could not be read: the API's problem, and a way to ask again. */
export function LoadFailed({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  return (
    <div className="stack">
      <ProblemBanner error={error} />
      <div><Button onClick={onRetry}>Try again</Button></div>
    </div>
  );
}

/** An error as the API explained it: title, detail, each field's messages, and the trace ID to report. */
export function ProblemBanner({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  const problem = toProblem(error);
  const fieldErrors = Object.entries(problem.errors ?? {});
  return (
    <div className="problem" role="alert">
      <div className="problem-main">
        <strong className="problem-title">{problem.title}</strong>
        {problem.status > 0 && <span className="problem-status"> ({problem.status})</span>}
        {problem.detail && <p className="problem-detail">{problem.detail}</p>}
        {fieldErrors.length > 0 && (
          <ul className="problem-errors">
            {fieldErrors.map(([field, messages]) => <li key={field}><code>{field}</code>: {messages.join(" ")}</li>)}
          </ul>
        )}
        {problem.traceId && <p className="problem-trace">Trace ID: <code>{problem.traceId}</code></p>}
      </div>
      {onDismiss && <button type="button" className="btn btn-ghost" aria-label="Dismiss" onClick={onDismiss}>×</button>}
    </div>
  );
}

interface Toast {
  id: number;
  kind: "success" | "error";
  message: ReactNode;
}

const ToastContext = createContext<{ success: (message: ReactNode) => void; error: (error: unknown) => void } | null>(null);

/** Short-lived notices for actions that finished elsewhere on the page; errors stay until dismissed. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const push = useCallback((kind: Toast["kind"], message: ReactNode) => {
    const id = Date.now() + Math.random();
    setToasts((all) => [...all, { id, kind, message }]);
    if (kind === "success") window.setTimeout(() => dismiss(id), 4000);
  }, [dismiss]);
  const value = useMemo(() => ({
    success: (message: ReactNode) => push("success", message),
    error: (error: unknown) => {
      const problem = toProblem(error);
      push("error", <><strong>{problem.title}</strong>{problem.detail && <> — {problem.detail}</>}</>);
    },
  }), [push]);

  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === "error" ? "alert" : "status"}>
            <span>{t.message}</span>
            <button type="button" className="btn btn-ghost" aria-label="Dismiss" onClick={() => dismiss(t.id)}>×</button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast() {
  const context = useContext(ToastContext);
  if (!context) throw new Error("useToast needs a ToastProvider above it.");
  return context;
}
