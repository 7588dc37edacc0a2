/**
 * /containers/new: create a container in four steps — the egg, its variables (a form generated from the egg's
 * Laravel rules, checked as the server checks them), name, limits and cluster, then a review — and follow the
 * create job until the container is installed.
 */
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link } from "react-router";

import { createContainer, getContainer, getJob, listClusters, listEggCategories, listEggs, listNodes, type Accepted, type Container, type Egg, type EggVariable, type Job } from "../../api/containers";
import { toApiError, type ApiError } from "../../api/problem";
import { useMe } from "../../auth/session";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Card } from "../../components/Card";
import { Alert, Field, inputClass } from "../../components/Form";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useResource } from "../../hooks/useResource";
import { checkValue, inputKind, parseRules } from "../../lib/eggRules";
import { STATE_TONES } from "./containerState";
import { JobStatusBadge } from "./containerUi";

const STEPS = ["Egg", "Variables", "Limits and placement", "Review"] as const;
type Step = 0 | 1 | 2 | 3;

interface Settings {
  name: string;
  clusterId: string;
  /** "" lets the server pick any node of the cluster with room. */
  nodeId: string;
  image: string;
  cpu: string;
  memory: string;
  disk: string;
  start: boolean;
  ports: string;
  restartMode: "never" | "on-crash";
  maxRetries: string;
}

const DEFAULT_SETTINGS: Settings = {
  name: "",
  clusterId: "",
  nodeId: "",
  image: "",
  cpu: "100",
  memory: "512",
  disk: "1024",
  start: true,
  ports: "1",
  restartMode: "never",
  maxRetries: "3",
};

function Stepper({ step }: { step: Step }) {
  return (
    <ol className="mb-6 flex flex-wrap gap-2 text-sm" aria-label="Steps">
      {STEPS.map((label, index) => (
        <li
          key={label}
          aria-current={index === step ? "step" : undefined}
          className={`flex items-center gap-2 rounded-full px-3 py-1 ring-1 ${
            index === step
              ? "bg-sky-600 text-white ring-sky-600 dark:bg-sky-500 dark:text-slate-950"
              : index < step
                ? "bg-sky-50 text-sky-800 ring-sky-200 dark:bg-sky-950 dark:text-sky-200 dark:ring-sky-800"
                : "text-slate-500 ring-slate-200 dark:text-slate-400 dark:ring-slate-700"
          }`}
        >
          <span className="font-semibold">{index + 1}</span> {label}
        </li>
      ))}
    </ol>
  );
}

/** The client-side error of each user-editable variable (null when it passes). */
function variableErrors(egg: Egg, values: Record<string, string>): Record<string, string | null> {
  const errors: Record<string, string | null> = {};
  for (const variable of egg.variables.filter((item) => item.user_editable)) {
    const message = checkValue(values[variable.env_variable] ?? variable.default_value, parseRules(variable.rules));
    errors[variable.env_variable] = message === null ? null : `${variable.env_variable} ${message}`;
  }
  return errors;
}

function VariableInput({ variable, value, onChange, errors }: { variable: EggVariable; value: string; onChange: (value: string) => void; errors: string[] }) {
  const kind = inputKind(parseRules(variable.rules));
  const hint = (
    <>
      {variable.description} <code className="font-mono">{variable.env_variable}</code> · <code className="font-mono">{variable.rules || "no rules"}</code>
    </>
  );
  if (kind.kind === "boolean") {
    return (
      <Field label={variable.name} hint={hint} errors={errors}>
        {(control) => (
          <select {...control} className={inputClass} value={value} onChange={(e) => { onChange(e.target.value); }}>
            <option value="1">true (1)</option>
            <option value="0">false (0)</option>
          </select>
        )}
      </Field>
    );
  }
  if (kind.kind === "choice") {
    return (
      <Field label={variable.name} hint={hint} errors={errors}>
        {(control) => (
          <select {...control} className={inputClass} value={value} onChange={(e) => { onChange(e.target.value); }}>
            {!kind.options.includes(value) && <option value={value}>{value === "" ? "(none)" : value}</option>}
            {kind.options.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        )}
      </Field>
    );
  }
  return (
    <Field label={variable.name} hint={hint} errors={errors}>
      {(control) => (
        <input
          {...control}
          className={inputClass}
          inputMode={kind.kind === "number" ? "numeric" : undefined}
          value={value}
          onChange={(e) => { onChange(e.target.value); }}
        />
      )}
    </Field>
  );
}

/** Follows the create job and the container until the job ends. */
function Progress({ accepted }: { accepted: Accepted }) {
  const [job, setJob] = useState<Job>(accepted.job);
  const [container, setContainer] = useState<Container>(accepted.container);
  const done = job.status === "succeeded" || job.status === "failed";
  useEffect(() => {
    if (done) return;
    const timer = window.setInterval(() => {
      void getJob(accepted.job.id).then(setJob, () => undefined);
      void getContainer(accepted.container.id).then(setContainer, () => undefined);
    }, 1000);
    return () => {
      window.clearInterval(timer);
    };
  }, [accepted, done]);
  useEffect(() => {
    if (done) void getContainer(accepted.container.id).then(setContainer, () => undefined);
  }, [accepted, done]);
  return (
    <Card title={done ? (job.status === "succeeded" ? "Created" : "Failed") : "Creating…"}>
      <div className="space-y-3 text-sm" data-testid="create-progress">
        <p className="flex flex-wrap items-center gap-2">
          Job <code className="font-mono text-xs">{job.action}</code> <JobStatusBadge status={job.status} /> · container{" "}
          <span className="font-medium">{container.name}</span> <Badge tone={STATE_TONES[container.state] ?? "neutral"}>{container.state.replace("_", " ")}</Badge>
        </p>
        {!done && <div className="h-1.5 w-full overflow-hidden rounded bg-slate-200 dark:bg-slate-800"><div className="h-full w-1/3 animate-pulse rounded bg-sky-500" /></div>}
        {job.output !== "" && <pre className="max-h-64 overflow-auto rounded-lg bg-slate-950 p-3 font-mono text-xs text-slate-100">{job.output}</pre>}
        {job.error !== "" && <Alert tone="danger">{job.error}</Alert>}
        <Link className={buttonClass.primary} to={`/containers/${container.id}`}>
          Open {container.name}
        </Link>
      </div>
    </Card>
  );
}

export function CreateContainerWizard() {
  useDocumentTitle("New container");
  const eggs = useResource(useCallback((signal: AbortSignal) => listEggs(signal), []));
  const clusters = useResource(useCallback((signal: AbortSignal) => listClusters(signal), []));
  const categories = useResource(useCallback((signal: AbortSignal) => listEggCategories(signal), []));
  const me = useMe();
  // Only platform administrators see nodes; everyone else lets the server choose one.
  const canPickNode = me.user.is_superadmin;
  const nodes = useResource(useCallback((signal: AbortSignal) => (canPickNode ? listNodes(signal) : Promise.resolve([])), [canPickNode]));
  const [step, setStep] = useState<Step>(0);
  const [eggId, setEggId] = useState<string | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [settings, setSettings] = useState<Settings>(DEFAULT_SETTINGS);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [accepted, setAccepted] = useState<Accepted | null>(null);

  const egg = eggs.data?.find((item) => item.id === eggId);
  const clusterId = settings.clusterId !== "" ? settings.clusterId : (clusters.data?.[0]?.id ?? "");
  const editable = useMemo(() => egg?.variables.filter((variable) => variable.user_editable) ?? [], [egg]);
  const clientErrors = useMemo(() => (egg ? variableErrors(egg, values) : {}), [egg, values]);
  const variablesValid = Object.values(clientErrors).every((message) => message === null);
  const limitErrors = {
    name: settings.name.trim() === "" ? "Give the container a name." : /^[\w .@-]+$/u.test(settings.name.trim()) ? null : "Letters, digits, spaces and . @ - _ only.",
    cpu: Number(settings.cpu) >= 1 ? null : "At least 1 (% of one core).",
    memory: Number(settings.memory) >= 4 ? null : "At least 4 MiB.",
    disk: Number(settings.disk) >= 1 ? null : "At least 1 MiB.",
    ports: Number.isInteger(Number(settings.ports)) && Number(settings.ports) >= 1 && Number(settings.ports) <= 20 ? null : "From 1 to 20 ports.",
    maxRetries:
      settings.restartMode === "never" || (Number.isInteger(Number(settings.maxRetries)) && Number(settings.maxRetries) >= 1 && Number(settings.maxRetries) <= 100)
        ? null
        : "From 1 to 100 restarts.",
  };
  const limitsValid = Object.values(limitErrors).every((message) => message === null) && clusterId !== "";

  const grouped = useMemo(() => {
    const groups = new Map<string, Egg[]>();
    for (const item of eggs.data ?? []) {
      const key = item.category_id ?? "";
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    const names = new Map((categories.data ?? []).map((category) => [category.id, category.name]));
    const named = [...groups.entries()].map(([id, items]) => ({ id, name: id === "" ? "Uncategorized" : (names.get(id) ?? "Other"), items }));
    // Named categories alphabetically, the uncategorized eggs last.
    return named.sort((a, b) => Number(a.id === "") - Number(b.id === "") || a.name.localeCompare(b.name));
  }, [eggs.data, categories.data]);

  const setSetting = <K extends keyof Settings>(key: K, value: Settings[K]): void => {
    setSettings((previous) => ({ ...previous, [key]: value }));
  };

  const serverErrors = (field: string): string[] => error?.fieldMessages(field) ?? [];

  async function create(): Promise<void> {
    if (egg === undefined) return;
    setBusy(true);
    setError(null);
    try {
      const environment: Record<string, string> = {};
      for (const variable of editable) environment[variable.env_variable] = values[variable.env_variable] ?? variable.default_value;
      const image = settings.image !== "" ? settings.image : undefined;
      setAccepted(
        await createContainer({
          name: settings.name.trim(),
          egg_id: egg.id,
          cluster_id: clusterId,
          ...(settings.nodeId !== "" ? { node_id: settings.nodeId } : {}),
          environment,
          ...(image !== undefined ? { image } : {}),
          limits: { cpu: Number(settings.cpu), memory_mb: Number(settings.memory), disk_mb: Number(settings.disk), pids: 256 },
          start: settings.start,
          allocations: Number(settings.ports),
          restart: { mode: settings.restartMode, max_retries: settings.restartMode === "on-crash" ? Number(settings.maxRetries) : 3, window_seconds: 600, backoff_seconds: 5 },
        }),
      );
    } catch (caught) {
      const apiError = toApiError(caught);
      setError(apiError);
      // A variable the server refused: back to that step, where the message sits under the variable.
      if (editable.some((variable) => apiError.fieldMessages(variable.env_variable).length > 0)) setStep(1);
    } finally {
      setBusy(false);
    }
  }

  if (accepted !== null) {
    return (
      <div className="space-y-6">
        <PageHeader title="New container" description="The create job installs the container on its node (and starts it, if asked); its output shows here." />
        <Progress accepted={accepted} />
      </div>
    );
  }

  const next = (
    <div className="mt-6 flex justify-between gap-3">
      <button type="button" className={buttonClass.secondary} disabled={step === 0} onClick={() => { setStep((step - 1) as Step); }}>
        Back
      </button>
      {step < 3 ? (
        <button
          type="button"
          className={buttonClass.primary}
          disabled={(step === 0 && egg === undefined) || (step === 1 && touched && !variablesValid) || (step === 2 && touched && !limitsValid)}
          onClick={() => {
            setTouched(true);
            if (step === 1 && !variablesValid) return;
            if (step === 2 && !limitsValid) return;
            setTouched(false);
            setStep((step + 1) as Step);
          }}
        >
          Next
        </button>
      ) : (
        <button type="button" className={buttonClass.primary} disabled={busy || !variablesValid || !limitsValid} onClick={() => void create()}>
          {busy ? "Creating…" : "Create container"}
        </button>
      )}
    </div>
  );

  return (
    <div className="space-y-6">
      <PageHeader
        title="New container"
        description="Pick an egg, fill in its variables, choose limits and a cluster; Nubes places it on a node with room and installs it."
        actions={
          <Link to="/containers" className={buttonClass.secondary}>
            Cancel
          </Link>
        }
      />
      <Stepper step={step} />
      <form aria-label="New container" onSubmit={(event) => { event.preventDefault(); }}>
        <Card>
          {step === 0 && (
            <div className="space-y-5">
              {eggs.error !== null && <Alert tone="danger">{eggs.error.message}</Alert>}
              {eggs.data?.length === 0 && <Alert tone="info">No eggs yet: a platform administrator imports Pterodactyl eggs under Admin → Eggs.</Alert>}
              {grouped.map(({ id: category, name: categoryName, items }) => (
                <fieldset key={category || "none"}>
                  {(grouped.length > 1 || category !== "") && <legend className="mb-2 text-xs font-semibold tracking-wide text-slate-500 uppercase">{categoryName}</legend>}
                  <div className="grid gap-3 sm:grid-cols-2">
                    {items.map((item) => (
                      <label
                        key={item.id}
                        className={`cursor-pointer rounded-xl border p-4 transition-colors ${
                          item.id === eggId ? "border-sky-500 bg-sky-50 ring-2 ring-sky-500/30 dark:bg-sky-950/50" : "border-slate-200 hover:border-slate-300 dark:border-slate-700"
                        }`}
                      >
                        <input
                          type="radio"
                          name="egg"
                          className="sr-only"
                          checked={item.id === eggId}
                          onChange={() => {
                            setEggId(item.id);
                            setValues(Object.fromEntries(item.variables.map((variable) => [variable.env_variable, variable.default_value])));
                            setSetting("image", "");
                            setError(null);
                          }}
                        />
                        <span className="block font-medium text-slate-900 dark:text-white">{item.name}</span>
                        <span className="mt-1 block text-sm text-slate-600 dark:text-slate-400">{item.description || "No description."}</span>
                        <span className="mt-2 block text-xs text-slate-500">
                          {item.variables.filter((variable) => variable.user_editable).length} variables · {item.images.length} image(s) · by {item.author}
                        </span>
                      </label>
                    ))}
                  </div>
                </fieldset>
              ))}
            </div>
          )}
          {step === 1 && egg !== undefined && (
            <div className="grid gap-4 sm:grid-cols-2">
              {editable.length === 0 && <p className="text-sm text-slate-600">This egg has no variables to set.</p>}
              {editable.map((variable) => {
                const client = touched || (values[variable.env_variable] ?? variable.default_value) !== variable.default_value ? clientErrors[variable.env_variable] : null;
                const messages = [...(client ? [client] : []), ...serverErrors(variable.env_variable).filter((message) => message !== client)];
                return (
                  <VariableInput
                    key={variable.env_variable}
                    variable={variable}
                    value={values[variable.env_variable] ?? variable.default_value}
                    errors={messages}
                    onChange={(value) => {
                      setValues((previous) => ({ ...previous, [variable.env_variable]: value }));
                    }}
                  />
                );
              })}
            </div>
          )}
          {step === 2 && egg !== undefined && (
            <div className="grid gap-4 sm:grid-cols-2">
              <Field label="Name" errors={[...(touched && limitErrors.name ? [limitErrors.name] : []), ...serverErrors("name")]}>
                {(control) => <input {...control} className={inputClass} value={settings.name} maxLength={100} onChange={(e) => { setSetting("name", e.target.value); }} />}
              </Field>
              <Field label="Cluster" hint="A node of this cluster with enough free capacity and a free port is chosen." errors={serverErrors("cluster_id")}>
                {(control) => (
                  <select
                    {...control}
                    className={inputClass}
                    value={clusterId}
                    onChange={(e) => {
                      setSettings((previous) => ({ ...previous, clusterId: e.target.value, nodeId: "" }));
                    }}
                  >
                    {clusters.data?.map((item) => (
                      <option key={item.id} value={item.id}>
                        {item.name}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              {canPickNode && (
                <Field label="Node" hint="Any node of the cluster with room, or this one." errors={serverErrors("node_id")}>
                  {(control) => (
                    <select {...control} className={inputClass} value={settings.nodeId} onChange={(e) => { setSetting("nodeId", e.target.value); }}>
                      <option value="">Any node with room</option>
                      {nodes.data
                        ?.filter((node) => node.cluster_id === clusterId && node.status !== "revoked")
                        .map((node) => (
                          <option key={node.id} value={node.id}>
                            {node.name} ({node.status})
                          </option>
                        ))}
                    </select>
                  )}
                </Field>
              )}
              <Field label="CPU (% of one core)" errors={[...(touched && limitErrors.cpu ? [limitErrors.cpu] : []), ...serverErrors("cpu")]}>
                {(control) => <input {...control} className={inputClass} type="number" min={1} value={settings.cpu} onChange={(e) => { setSetting("cpu", e.target.value); }} />}
              </Field>
              <Field label="Memory (MiB)" errors={[...(touched && limitErrors.memory ? [limitErrors.memory] : []), ...serverErrors("memory_mb")]}>
                {(control) => <input {...control} className={inputClass} type="number" min={4} value={settings.memory} onChange={(e) => { setSetting("memory", e.target.value); }} />}
              </Field>
              <Field label="Disk (MiB)" errors={[...(touched && limitErrors.disk ? [limitErrors.disk] : []), ...serverErrors("disk_mb")]}>
                {(control) => <input {...control} className={inputClass} type="number" min={1} value={settings.disk} onChange={(e) => { setSetting("disk", e.target.value); }} />}
              </Field>
              <Field label="Image">
                {(control) => (
                  <select {...control} className={inputClass} value={settings.image} onChange={(e) => { setSetting("image", e.target.value); }}>
                    {egg.images.map((image, index) => (
                      <option key={image} value={index === 0 ? "" : image}>
                        {image}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field label="Ports" hint="How many ip:port allocations to bind (1 to 20); the lowest is SERVER_PORT." errors={[...(touched && limitErrors.ports ? [limitErrors.ports] : []), ...serverErrors("allocations")]}>
                {(control) => <input {...control} className={inputClass} type="number" min={1} max={20} value={settings.ports} onChange={(e) => { setSetting("ports", e.target.value); }} />}
              </Field>
              <Field label="Restart policy" hint="What happens when the container exits on its own with an error code." errors={serverErrors("mode")}>
                {(control) => (
                  <select
                    {...control}
                    className={inputClass}
                    value={settings.restartMode}
                    onChange={(e) => { setSetting("restartMode", e.target.value === "on-crash" ? "on-crash" : "never"); }}
                  >
                    <option value="never">Never restart</option>
                    <option value="on-crash">Restart on crash</option>
                  </select>
                )}
              </Field>
              {settings.restartMode === "on-crash" && (
                <Field
                  label="Max restarts"
                  hint="Restarts allowed within 10 minutes; then it stays crashed."
                  errors={[...(touched && limitErrors.maxRetries ? [limitErrors.maxRetries] : []), ...serverErrors("max_retries")]}
                >
                  {(control) => <input {...control} className={inputClass} type="number" min={1} max={100} value={settings.maxRetries} onChange={(e) => { setSetting("maxRetries", e.target.value); }} />}
                </Field>
              )}
              <label className="flex items-center gap-2 text-sm text-slate-700 sm:col-span-2 dark:text-slate-300">
                <input type="checkbox" checked={settings.start} onChange={(e) => { setSetting("start", e.target.checked); }} /> Start it once installed
              </label>
            </div>
          )}
          {step === 3 && egg !== undefined && (
            <dl className="grid gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]" data-testid="review">
              <dt className="text-slate-500">Egg</dt>
              <dd className="font-medium">{egg.name}</dd>
              <dt className="text-slate-500">Name</dt>
              <dd className="font-medium">{settings.name}</dd>
              <dt className="text-slate-500">Cluster</dt>
              <dd>
                {clusters.data?.find((item) => item.id === clusterId)?.name ?? clusterId}
                {settings.nodeId !== "" && ` · node ${nodes.data?.find((node) => node.id === settings.nodeId)?.name ?? settings.nodeId}`}
              </dd>
              <dt className="text-slate-500">Limits</dt>
              <dd>
                {settings.cpu}% CPU · {settings.memory} MiB memory · {settings.disk} MiB disk · {settings.ports} port(s)
              </dd>
              <dt className="text-slate-500">Restart</dt>
              <dd>{settings.restartMode === "never" ? "Never" : `On crash, at most ${settings.maxRetries} times in 10 minutes`}</dd>
              <dt className="text-slate-500">Variables</dt>
              <dd className="font-mono text-xs">
                {editable.map((variable) => (
                  <div key={variable.env_variable}>
                    {variable.env_variable}={values[variable.env_variable] ?? variable.default_value}
                  </div>
                ))}
              </dd>
              <dt className="text-slate-500">Then</dt>
              <dd>{settings.start ? "Install, then start" : "Install only"}</dd>
            </dl>
          )}
          {error !== null && (
            <div className="mt-4">
              <Alert tone="danger" testId="create-error">
                {error.message}
              </Alert>
            </div>
          )}
          {next}
        </Card>
      </form>
    </div>
  );
}
