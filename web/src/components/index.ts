// Cadre's component set: every page builds from these, so they look and behave alike.
export { Button } from "./Button";
export { CopyButton } from "./CopyButton";
export { Dialog } from "./Dialog";
export { FieldFrame, useField } from "./Field";
export { useUnsavedChanges } from "./UnsavedChanges";
export { useSubmission } from "./useSubmission";
export { EmptyState } from "./EmptyState";
export { HighlightedTextArea, type Highlight } from "./HighlightedTextArea";
export { Input } from "./Input";
export { JsonField, parseJson } from "./JsonField";
export { LoadFailed, ProblemBanner, ToastProvider, toProblem, useToast } from "./Problem";
export { Select } from "./Select";
export { Loading, Spinner } from "./Spinner";
export { Table, type Column } from "./Table";
export { Tabs } from "./Tabs";
export { TextArea } from "./TextArea";
export { ThemeToggle } from "./ThemeToggle";
export { Time } from "./Time";
