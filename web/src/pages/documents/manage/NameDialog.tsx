/** The rename dialog of a type, correspondent or category: one Name field, saved by `save`. */
import { useState } from "react";

import { Field, inputClass } from "../../../components/Form";
import { FormDialog } from "../../../components/FormDialog";
import { useAction } from "../../../lib/useAction";

export function NameDialog({
  title,
  initial,
  maxLength,
  save,
  onSaved,
  onClose,
}: {
  title: string;
  initial: string;
  maxLength: number;
  save: (name: string) => Promise<unknown>;
  onSaved: (name: string) => void;
  onClose: () => void;
}) {
  const [name, setName] = useState(initial);
  const { run, busy, error } = useAction(save, (_, saved) => { onSaved(saved); });
  return (
    <FormDialog title={title} label={title} size="sm" busy={busy} error={error} placedFields={["name"]} submitLabel="Save" onSubmit={() => void run(name.trim())} onClose={onClose}>
      <Field label="Name" errors={error?.fieldMessages("name") ?? []}>
        {(control) => (
          <input {...control} data-autofocus className={inputClass} value={name} required maxLength={maxLength} onChange={(event) => { setName(event.target.value); }} />
        )}
      </Field>
    </FormDialog>
  );
}
