import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api } from "../api/cadre";
import { ProblemError } from "../api/client";
import type { Me, Workspace } from "../api/types";

export type SessionState =
  | { status: "loading" }
  | { status: "error"; error: unknown }
  | { status: "setup" }
  | { status: "signedOut"; bySignOut?: boolean }
  | { status: "signedIn"; me: Me; workspaces: Workspace[] };

interface SessionContextValue {
  state: SessionState;
  /** Asks the server again who is signed in (after sign-in, setup, or a workspace change). */
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

async function load(): Promise<SessionState> {
  try {
    const me = await api.me();
    const workspaces = await api.workspaces();
    return { status: "signedIn", me, workspaces: workspaces.results };
  } catch (error) {
    if (!(error instanceof ProblemError) || error.status !== 401) return { status: "error", error };
  }
  // Nobody signed in: an empty instance waits for its first user instead.
  const setup = await api.setupStatus();
  return setup.required ? { status: "setup" } : { status: "signedOut" };
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: "loading" });

  const refresh = useCallback(async () => {
    try {
      setState(await load());
    } catch (error) {
      setState({ status: "error", error });
    }
  }, []);

  const signOut = useCallback(async () => {
    await api.logout();
    // Signing out leads to a plain sign-in page, not to one that returns to where the person was.
    setState({ status: "signedOut", bySignOut: true });
  }, []);

  useEffect(() => { void refresh(); }, [refresh]);

  const value = useMemo(() => ({ state, refresh, signOut }), [state, refresh, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession() {
  const context = useContext(SessionContext);
  if (!context) throw new Error("useSession needs a SessionProvider above it.");
  return context;
}

/** The signed-in state; only for components under RequireSignedIn. */
export function useSignedIn() {
  const { state, ...rest } = useSession();
  if (state.status !== "signedIn") throw new Error("useSignedIn outside a signed-in page.");
  return { ...state, ...rest };
}
