/** The create/edit dialog: a titled modal holding a form, its error (the ones no field shows) and the submit button that says it is busy. */
import type { ReactNode } from "react";

import type { ApiError } from "../api/problem";
import { buttonClass } from "./Button";
import { Dialog } from "./Dialog";
import { Alert } from "./Form";

export function FormDialog({
  open = true,
  title,
  description,
  label,
  size,
  busy,
  error,
  placedFields = [],
  submitLabel,
  busyLabel = "Saving…",
  submitDisabled = false,
  footnote,
  onSubmit,
  onClose,
  children,
}: {
  /** Mount it when needed (with a key per item) and leave `open` true; or keep it mounted and toggle this. */
  open?: boolean;
  title: string;
  description?: ReactNode;
  /** The form's accessible name ("New category", "Edit egg"). */
  label: string;
  size?: "sm" | "md";
  busy: boolean;
  error: ApiError | null;
  /** Fields that show their own errors: when the error names one of them, the banner stays hidden. */
  placedFields?: readonly string[];
  submitLabel: string;
  busyLabel?: string;
  submitDisabled?: boolean;
  /** A line above the error and the buttons. */
  footnote?: ReactNode;
  onSubmit: () => void;
  onClose: () => void;
  children: ReactNode;
}) {
  const placed = error !== null && placedFields.some((field) => error.fieldMessages(field).length > 0);
  return (
    <Dialog open={open} title={title} description={description} onClose={onClose} size={size}>
      <form
        className="space-y-4"
        aria-label={label}
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit();
        }}
      >
        {children}
        {footnote}
        {error !== null && !placed && <Alert tone="danger">{error.message}</Alert>}
        <div className="flex justify-end">
          <button type="submit" className={buttonClass.primary} disabled={busy || submitDisabled}>
            {busy ? busyLabel : submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
