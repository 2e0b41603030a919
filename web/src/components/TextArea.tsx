import { useId, type TextareaHTMLAttributes } from "react";

export interface TextAreaProps extends TextareaHTMLAttributes<HTMLTextAreaElement> {
  label: string;
  /** The API's messages for this field (a problem's `errors[field]`). */
  errors?: string[];
  hint?: string;
}

/** A labelled multi-line input whose errors are read out with it. */
export function TextArea({ label, errors, hint, id, className, ...rest }: TextAreaProps) {
  const generated = useId();
  const inputId = id ?? generated;
  const describedBy = [hint && `${inputId}-hint`, errors?.length && `${inputId}-errors`].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={inputId}>{label}</label>
      <textarea {...rest} id={inputId} aria-invalid={errors?.length ? true : undefined} aria-describedby={describedBy} />
      {hint && <div id={`${inputId}-hint`} className="field-hint">{hint}</div>}
      {!!errors?.length && (
        <ul id={`${inputId}-errors`} className="field-errors">
          {errors.map((message) => <li key={message}>{message}</li>)}
        </ul>
      )}
    </div>
  );
}
