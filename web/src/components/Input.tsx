import { useId, type InputHTMLAttributes } from "react";

export interface InputProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  /** The API's messages for this field (a problem's `errors[field]`). */
  errors?: string[];
  hint?: string;
}

/** A labelled input whose errors are read out with it. */
export function Input({ label, errors, hint, id, className, ...rest }: InputProps) {
  const generated = useId();
  const inputId = id ?? generated;
  const describedBy = [hint && `${inputId}-hint`, errors?.length && `${inputId}-errors`].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={inputId}>{label}</label>
      <input {...rest} id={inputId} aria-invalid={errors?.length ? true : undefined} aria-describedby={describedBy} />
      {hint && <div id={`${inputId}-hint`} className="field-hint">{hint}</div>}
      {!!errors?.length && (
        <ul id={`${inputId}-errors`} className="field-errors">
          {errors.map((message) => <li key={message}>{message}</li>)}
        </ul>
      )}
    </div>
  );
}
