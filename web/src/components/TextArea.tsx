import type { TextareaHTMLAttributes } from "react";
import { FieldFrame, useField } from "./Field";

export interface TextAreaProps extends TextareaHTMLAttributes<HTMLTextAreaElement> {
  label: string;
  /** The API's messages for this field (a problem's `errors[field]`). */
  errors?: string[];
  hint?: string;
}

/** A labelled multi-line input whose errors are read out with it. */
export function TextArea({ label, errors, hint, id, className, ...rest }: TextAreaProps) {
  const { inputId, controlProps } = useField(id, hint, errors);
  return (
    <FieldFrame inputId={inputId} label={label} hint={hint} errors={errors} className={className}>
      <textarea {...rest} {...controlProps} />
    </FieldFrame>
  );
}
