/** /admin/services: every registered service with its health; platform administrators register one by its URL. */
import { useState, type SubmitEvent } from "react";
import { Link } from "react-router";

import { registerService } from "../../../api/appServices";
import { useServices } from "../../../api/appServicesQueries";
import { useInvalidate } from "../../../api/queryClient";
import { appServiceKeys } from "../../../api/queryKeys";
import { useMe } from "../../../auth/session";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { Card } from "../../../components/Card";
import { DataTable, tdClass } from "../../../components/DataTable";
import { Alert, Field, inputClass } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useAction } from "../../../lib/useAction";
import { HealthBadge } from "../HealthBadge";

function RegisterForm() {
  const [url, setUrl] = useState("");
  const [registered, setRegistered] = useState<string | null>(null);
  const invalidate = useInvalidate();
  const { run, busy, error } = useAction(registerService, (service) => {
    setUrl("");
    setRegistered(service.name);
    void invalidate(appServiceKeys.all);
  });
  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setRegistered(null);
    await run(url.trim());
  };
  return (
    <Card title="Register a service">
      <form className="grid gap-4 sm:grid-cols-[1fr_auto] sm:items-start" aria-label="Register a service" onSubmit={(event) => void submit(event)}>
        <Field
          label="Base URL"
          hint={
            <>
              Nubes reads <code className="font-mono">&lt;URL&gt;/plugin/manifest</code> (its{" "}
              <a className="underline" href="/api/apps/manifest-schema" target="_blank" rel="noopener">
                schema
              </a>
              ) and checks <code className="font-mono">/health</code>; the service is refused, with the reason, when they do not answer well.
            </>
          }
          errors={error?.fieldMessages("base_url") ?? []}
        >
          {(control) => (
            <input
              {...control}
              className={inputClass}
              type="url"
              required
              maxLength={2048}
              placeholder="http://notes.internal:8080"
              value={url}
              onChange={(e) => {
                setUrl(e.target.value);
              }}
            />
          )}
        </Field>
        <button type="submit" className={`${buttonClass.primary} sm:mt-7`} disabled={busy}>
          {busy ? "Reading its manifest…" : "Register"}
        </button>
        {error !== null && error.fieldMessages("base_url").length === 0 && (
          <div className="sm:col-span-2">
            <Alert tone="danger" testId="register-error">
              {error.message}
            </Alert>
          </div>
        )}
        {registered !== null && (
          <div className="sm:col-span-2">
            <Alert tone="success">{registered} is registered. Every organization now has its admin group; its health shows below within a minute.</Alert>
          </div>
        )}
      </form>
    </Card>
  );
}

export function ServicesPage() {
  useDocumentTitle("Services");
  const me = useMe();
  const services = useServices();
  return (
    <>
      <PageHeader
        title="Services"
        description="Apps that run beside Nubes behind its gateway. Choose who in your organization may use each, and set it up for everyone."
      />
      <div className="space-y-6">
        {me.user.is_superadmin && <RegisterForm />}
        {services.error !== null && <Alert tone="danger">{services.error.message}</Alert>}
        <DataTable
          testId="services"
          columns={["Service", "Health", "Address", "Last error", { header: "Actions", srOnly: true }]}
          rows={services.data}
          loading={services.isLoading}
          empty={me.user.is_superadmin ? "No service is registered yet: give one's base URL above." : "No service is registered yet; a platform administrator registers them."}
          renderRow={(service) => (
            <tr key={service.id} data-testid="service-row">
              <td className={tdClass}>
                <span className="font-medium">{service.name}</span> <span className="font-mono text-xs text-slate-500">{service.slug}</span>
                {!service.enabled && (
                  <span className="ml-2">
                    <Badge>Disabled</Badge>
                  </span>
                )}
              </td>
              <td className={tdClass}>
                <HealthBadge status={service.status} checkedAt={service.last_checked_at} />
              </td>
              <td className={`${tdClass} font-mono text-xs`}>{service.base_url}</td>
              <td className={`${tdClass} max-w-xs truncate text-xs text-rose-700 dark:text-rose-300`} title={service.last_error}>
                {service.last_error || "—"}
              </td>
              <td className={`${tdClass} text-right`}>
                <Link to={`/admin/services/${service.id}`} className={buttonClass.small}>
                  Details
                </Link>
              </td>
            </tr>
          )}
        />
      </div>
    </>
  );
}
