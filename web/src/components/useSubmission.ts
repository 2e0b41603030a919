import { useCallback, useState } from "react";
import { ProblemError } from "../api/client";

export interface Submission {
  /** True while `run`'s action is under way (the submit button's `busy`). */
  busy: boolean;
  /** What the last run threw (the API's problem, most often); null once a run starts. */
  error: unknown;
  setError: (error: unknown) => void;
  /** The problem's messages for each field; empty for anything else. */
  fieldErrors: Record<string, string[]>;
  /** Runs `action`: busy while it goes, the previous error cleared first, what it throws kept in `error`. Resolves true when it succeeded. */
  run: (action: () => Promise<unknown>) => Promise<boolean>;
  /** Clears the error and the busy flag, for a dialog opening again. */
  reset: () => void;
}

/**
 * A form's submission: the busy flag, the API's error and its field messages. With `keepBusyOnSuccess`, a run that
 * succeeds leaves `busy` set, for a submission that leaves the page or closes its dialog, so the button cannot be pressed
 * again on the way out (`reset` clears it when the dialog opens again).
 */
export function useSubmission({ keepBusyOnSuccess = false }: { keepBusyOnSuccess?: boolean } = {}): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const run = useCallback(async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      if (!keepBusyOnSuccess) setBusy(false);
      return true;
    } catch (e) {
      setError(e);
      setBusy(false);
      return false;
    }
  }, [keepBusyOnSuccess]);

  const reset = useCallback(() => { setError(null); setBusy(false); }, []);
  const fieldErrors = error instanceof ProblemError ? error.problem.errors ?? {} : {};
  return { busy, error, setError, fieldErrors, run, reset };
}
