import { useCallback, useEffect, useRef, type ReactNode } from "react";
import { useBlocker, type BlockerFunction } from "react-router";
import { Button } from "./Button";
import { Dialog } from "./Dialog";

/**
 * Asks before unsaved changes are left behind. Closing or reloading the tab gets the browser's own
 * prompt; moving to another page of the UI (a link, the Back and Forward buttons, the workspace switcher)
 * is held by the router's blocker and asked about in `prompt`, which the page renders. A move that keeps
 * the page (only the query changes, as the persona editor's tabs do) is not asked about.
 *
 * `lost` names what would be lost ("the steps you added or changed"). `leaveUnasked` lets the page's own
 * next navigation through, for the one that follows a save in the same event, before `dirty` is re-rendered.
 */
export function useUnsavedChanges(dirty: boolean, lost: string): { prompt: ReactNode; leaveUnasked: () => void } {
  const unasked = useRef(false);
  const shouldBlock = useCallback<BlockerFunction>(({ currentLocation, nextLocation }) => {
    if (unasked.current) {
      unasked.current = false;
      return false;
    }
    return dirty && currentLocation.pathname !== nextLocation.pathname;
  }, [dirty]);
  const blocker = useBlocker(shouldBlock);

  useEffect(() => {
    if (!dirty) return;
    const beforeUnload = (event: BeforeUnloadEvent) => { event.preventDefault(); };
    window.addEventListener("beforeunload", beforeUnload);
    return () => window.removeEventListener("beforeunload", beforeUnload);
  }, [dirty]);

  const stay = () => { if (blocker.state === "blocked") blocker.reset(); };
  const leave = () => { if (blocker.state === "blocked") blocker.proceed(); };
  const prompt = (
    <Dialog open={blocker.state === "blocked"} title="Leave without saving?" onClose={stay}
      footer={<>
        <Button variant="primary" onClick={stay}>Stay</Button>
        <Button variant="danger" onClick={leave}>Leave without saving</Button>
      </>}>
      <p>You have unsaved changes: {lost}. Leaving this page loses them.</p>
    </Dialog>
  );
  return { prompt, leaveUnasked: () => { unasked.current = true; } };
}
