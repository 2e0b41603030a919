import { useCallback, useEffect, useState } from "react";
import { useSearchParams } from "react-router";

/**
 * A search box whose text is kept in the address (`?q=`) once the person pauses typing (300 ms), so a reload
 * or a shared link shows the same results; the box follows the address when it changes (back, a cleared search).
 * `write` puts the text into the address (an empty text removes the parameter).
 */
export function useAddressSearch(q: string, write: (text: string) => void): [string, (text: string) => void] {
  const [search, setSearch] = useState(q);
  useEffect(() => { setSearch(q); }, [q]);
  useEffect(() => {
    if (search === q) return;
    const timer = window.setTimeout(() => write(search), 300);
    return () => window.clearTimeout(timer);
  }, [search, q, write]);
  return [search, setSearch];
}

/** Sets one parameter of the address, keeping the others (an empty value removes it); replaces the history entry. */
export function useAddressParam(): (name: string, value: string) => void {
  const [, setParams] = useSearchParams();
  return useCallback((name: string, value: string) => {
    setParams((current) => {
      const next = new URLSearchParams(current);
      if (value) next.set(name, value); else next.delete(name);
      return next;
    }, { replace: true });
  }, [setParams]);
}
