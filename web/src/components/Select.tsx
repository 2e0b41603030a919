import { useId, type SelectHTMLAttributes } from "react";

export interface SelectProps extends SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  options: { value: string; label: string }[];
  /** The API's messages for this field (a problem's `errors[field]`). */
  errors?: string[];
  hint?: string;
}

/** A labelled drop-down whose errors are read out with it. */
export function Select({ label, options, errors, hint, id, className, ...rest }: SelectProps) {
  const generated = useId();
  const inputId = id ?? generated;
  const describedBy = [hint && `${inputId}-hint`, errors?.length && `${inputId}-errors`].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={inputId}>{label}</label>
      <select {...rest} id={inputId} aria-invalid={errors?.length ? true : undefined} aria-describedby={describedBy}>
        {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
      {hint && <div id={`${inputId}-hint`} className="field-hint">{hint}</div>}
      {!!errors?.length && (
        <ul id={`${inputId}-errors`} className="field-errors">
          {errors.map((message) => <li key={message}>{message}</li>)}
        </ul>
      )}
    </div>
  );
}
