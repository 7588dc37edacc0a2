/** /admin/links (admin.settings): the organization's rules for public links — default and maximum expiry, password required. */
import { useQueryClient } from "@tanstack/react-query";
import { useState, type SubmitEvent } from "react";

import { useAdminLinkPolicy } from "../../../api/filesQueries";
import { filesKeys } from "../../../api/queryKeys";
import { setAdminLinkPolicy, type LinkPolicy } from "../../../api/sharing";
import { buttonClass } from "../../../components/Button";
import { Alert, TextField } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { SettingsCard } from "../../../components/SettingsCard";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useTask } from "../../../lib/useAction";

function days(value: string): number | null {
  return value.trim() === "" ? null : Number(value);
}

function PolicyForm({ saved, onSaved }: { saved: LinkPolicy; onSaved: (policy: LinkPolicy) => void }) {
  const [defaultDays, setDefaultDays] = useState(saved.default_expiry_days?.toString() ?? "");
  const [maxDays, setMaxDays] = useState(saved.max_expiry_days?.toString() ?? "");
  const [requirePassword, setRequirePassword] = useState(saved.require_password);
  const { run, busy, error } = useTask();
  const [done, setDone] = useState(false);

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setDone(false);
    await run(async () => {
      onSaved(await setAdminLinkPolicy({ default_expiry_days: days(defaultDays), max_expiry_days: days(maxDays), require_password: requirePassword }));
      setDone(true);
    });
  };

  return (
    <form
      className="space-y-5"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {done && <Alert tone="success">Saved. New and changed links follow these rules.</Alert>}
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          label="Default expiry (days)" optional hint="Given to a link made without an expiry. Empty: none."
          type="number"
          min={1}
          max={3650}
          value={defaultDays}
          onChange={setDefaultDays}
        />
        <TextField
          label="Maximum expiry (days)" optional hint="The longest any link may live. Empty: no limit."
          type="number"
          min={1}
          max={3650}
          value={maxDays}
          onChange={setMaxDays}
        />
      </div>
      <label className="flex cursor-pointer items-start gap-3">
        <input
          type="checkbox"
          role="switch"
          className="mt-0.5 size-4 shrink-0 accent-sky-600"
          checked={requirePassword}
          onChange={(event) => {
            setRequirePassword(event.target.checked);
          }}
        />
        <span>
          <span className="block text-sm font-medium text-slate-900 dark:text-white">Require a password on every link</span>
          <span className="block text-xs text-slate-500 dark:text-slate-400">Links without one cannot be created or kept.</span>
        </span>
      </label>
      <div className="flex justify-end border-t border-slate-100 pt-4 dark:border-slate-800">
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}

export function LinkPolicyPage() {
  useDocumentTitle("Link policy");
  const client = useQueryClient();
  return (
    <>
      <PageHeader title="Public links" description="Rules every public link of your organization follows." />
      <SettingsCard title="Link policy" settings={useAdminLinkPolicy()} skeletonClass="h-32">
        {(current) => (
          <PolicyForm
            saved={current}
            onSaved={(saved) => {
              client.setQueryData(filesKeys.adminLinkPolicy, saved);
              // What the link dialog offers follows the new rules.
              void client.invalidateQueries({ queryKey: filesKeys.linkPolicy });
            }}
          />
        )}
      </SettingsCard>
    </>
  );
}
