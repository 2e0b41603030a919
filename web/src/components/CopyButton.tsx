import { useState } from "react";
import { Button } from "./Button";

/**
 * Puts an ID on the clipboard and says so in a status line; where the browser refuses the clipboard (an insecure
 * origin), the value is shown to select instead. `what` names it in the status ("the run ID").
 */
export function CopyButton({ value, label, what, ariaLabel }: { value: string; label: string; what: string; ariaLabel?: string }) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("yes");
    } catch {
      setCopied("no");
    }
  };
  return (
    <>
      <Button onClick={() => void copy()} title={value} aria-label={ariaLabel}>{label}</Button>
      <span role="status" className="visually-hidden">{copied === "yes" ? `Copied ${value} to the clipboard.` : copied === "no" ? `The browser refused the clipboard; ${what} is ${value}.` : ""}</span>
      {copied === "no" && <code className="copy-fallback">{value}</code>}
    </>
  );
}
