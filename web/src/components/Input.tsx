import type { InputHTMLAttributes } from "react";
import { FieldFrame, useField } from "./Field";

export interface InputProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  /** The API's messages for this field (a problem's `errors[field]`). */
  errors?: string[];
  hint?: string;
}

/** A labelled input whose errors are read out with it. */
export function Input({ label, errors, hint, id, className, ...rest }: InputProps) {
  const { inputId, controlProps } = useField(id, hint, errors);
  return (
    <FieldFrame inputId={inputId} label={label} hint={hint} errors={errors} className={className}>
      <input {...rest} {...controlProps} />
    </FieldFrame>
  );
}
