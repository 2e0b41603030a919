import type { ButtonHTMLAttributes } from "react";
import { Spinner } from "./Spinner";

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: "primary" | "secondary" | "danger" | "ghost";
  busy?: boolean;
}

/** A button; `busy` disables it and shows a spinner while its action runs. */
export function Button({ variant = "secondary", busy = false, disabled, children, className, type = "button", ...rest }: ButtonProps) {
  return (
    <button {...rest} type={type} className={`btn btn-${variant} ${className ?? ""}`} disabled={disabled || busy} aria-busy={busy || undefined}>
      {busy && <Spinner size="small" label="" />}
      {children}
    </button>
  );
}
