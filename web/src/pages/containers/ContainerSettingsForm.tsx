/** The settings that change without recreating a container (`PATCH /api/containers/{id}`): its name and restart policy. */
import { useState } from "react";

import { updateContainer, type Container } from "../../api/containers";
import { buttonClass } from "../../components/Button";
import { Card } from "../../components/Card";
import { Alert, Field, inputClass } from "../../components/Form";
import { useAction } from "../../lib/useAction";

export function ContainerSettingsForm({ container, onSaved }: { container: Container; onSaved: () => void }) {
  const restart = container.restart;
  const [name, setName] = useState(container.name);
  const [mode, setMode] = useState<"never" | "on-crash">(restart?.mode ?? "never");
  const [maxRetries, setMaxRetries] = useState(String(restart?.max_retries ?? 3));
  const [saved, setSaved] = useState(false);
  const { run, busy, error } = useAction(updateContainer, () => {
    setSaved(true);
    onSaved();
  });

  async function save(): Promise<void> {
    setSaved(false);
    await run(container.id, {
      name: name.trim(),
      restart: {
        mode,
        max_retries: Number(maxRetries),
        window_seconds: restart?.window_seconds ?? 600,
        backoff_seconds: restart?.backoff_seconds ?? 5,
      },
    });
  }

  const fieldErrors = (field: string): string[] => error?.fieldMessages(field) ?? [];
  return (
    <Card title="Settings">
      <form
        aria-label="Container settings"
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <Field label="Name" errors={fieldErrors("name")}>
          {(control) => <input {...control} className={inputClass} value={name} maxLength={100} onChange={(e) => { setName(e.target.value); }} />}
        </Field>
        <Field label="Restart policy" hint="What happens when the container exits on its own with an error code." errors={fieldErrors("mode")}>
          {(control) => (
            <select {...control} className={inputClass} value={mode} onChange={(e) => { setMode(e.target.value === "on-crash" ? "on-crash" : "never"); }}>
              <option value="never">Never restart</option>
              <option value="on-crash">Restart on crash</option>
            </select>
          )}
        </Field>
        {mode === "on-crash" && (
          <Field label="Max restarts" hint={`Restarts allowed within ${Math.round((restart?.window_seconds ?? 600) / 60)} minutes; then it stays crashed.`} errors={fieldErrors("max_retries")}>
            {(control) => <input {...control} className={inputClass} type="number" min={1} max={100} value={maxRetries} onChange={(e) => { setMaxRetries(e.target.value); }} />}
          </Field>
        )}
        {error !== null && (
          <Alert tone="danger" testId="settings-error">
            {error.message}
          </Alert>
        )}
        {saved && <Alert tone="success">Saved.</Alert>}
        <div className="flex justify-end">
          <button type="submit" className={buttonClass.primary} disabled={busy}>
            {busy ? "Saving…" : "Save"}
          </button>
        </div>
      </form>
    </Card>
  );
}
