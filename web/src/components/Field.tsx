import { useId, type ReactNode } from "react";

/**
 * The ids that tie a control to its label, hint and the API's messages for it, so a screen reader reads them with
 * the control; spread `controlProps` on the input, select or text area.
 */
export function useField(id: string | undefined, hint: string | undefined, errors: string[] | undefined) {
  const generated = useId();
  const inputId = id ?? generated;
  const describedBy = [hint && `${inputId}-hint`, errors?.length && `${inputId}-errors`].filter(Boolean).join(" ") || undefined;
  return { inputId, controlProps: { id: inputId, "aria-invalid": errors?.length ? true : undefined, "aria-describedby": describedBy } };
}

/** What every labelled control sits in: the label, the control, its hint and its messages. */
export function FieldFrame({ inputId, label, hint, errors, className, children }: {
  inputId: string;
  label: string;
  hint?: string;
  errors?: string[];
  className?: string;
  children: ReactNode;
}) {
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={inputId}>{label}</label>
      {children}
      {hint && <div id={`${inputId}-hint`} className="field-hint">{hint}</div>}
      {!!errors?.length && (
        <ul id={`${inputId}-errors`} className="field-errors">
          {errors.map((message) => <li key={message}>{message}</li>)}
        </ul>
      )}
    </div>
  );
}
