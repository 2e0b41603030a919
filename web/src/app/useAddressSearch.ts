import { useEffect, useState } from "react";

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
