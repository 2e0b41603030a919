import type { SelectHTMLAttributes } from "react";
import { FieldFrame, useField } from "./Field";

export interface SelectProps extends SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  options: { value: string; label: string }[];
  /** The API's messages for this field (a problem's `errors[field]`). */
  errors?: string[];
  hint?: string;
}

/** A labelled drop-down whose errors are read out with it. */
export function Select({ label, options, errors, hint, id, className, ...rest }: SelectProps) {
  const { inputId, controlProps } = useField(id, hint, errors);
  return (
    <FieldFrame inputId={inputId} label={label} hint={hint} errors={errors} className={className}>
      <select {...rest} {...controlProps}>
        {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
    </FieldFrame>
  );
}
