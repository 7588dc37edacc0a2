/**
 * /containers/new: create a container in four steps — the egg, its variables (a form generated from the egg's
 * Laravel rules, checked as the server checks them), name, limits and cluster, then a review — and follow the
 * create job until the container is installed.
 */
import { useMemo, useState } from "react";
import { Link } from "react-router";

import { useClusters, useEggCategories, useEggs, useNodes } from "../../api/containerQueries";
import { createContainer, type Accepted, type ContainerCreate, type Egg } from "../../api/containers";
import { toApiError } from "../../api/problem";
import { useMe } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { Card } from "../../components/Card";
import { Alert } from "../../components/Form";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useAction } from "../../lib/useAction";
import { EggStep } from "./wizard/EggStep";
import { LimitsStep } from "./wizard/LimitsStep";
import { DEFAULT_SETTINGS, limitErrorsOf, variableErrors, type Settings, type Step } from "./wizard/model";
import { Progress } from "./wizard/Progress";
import { ReviewStep } from "./wizard/ReviewStep";
import { Stepper } from "./wizard/Stepper";
import { VariableInput } from "./wizard/VariableInput";

export function CreateContainerWizard() {
  useDocumentTitle("New container");
  const eggs = useEggs();
  const clusters = useClusters();
  const categories = useEggCategories();
  const me = useMe();
  // Only platform administrators see nodes; everyone else lets the server choose one.
  const canPickNode = me.user.is_superadmin;
  const nodes = useNodes(undefined, canPickNode);
  const [step, setStep] = useState<Step>(0);
  const [eggId, setEggId] = useState<string | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [settings, setSettings] = useState<Settings>(DEFAULT_SETTINGS);
  const [touched, setTouched] = useState(false);
  const [accepted, setAccepted] = useState<Accepted | null>(null);

  const egg = eggs.data?.find((item) => item.id === eggId);
  const clusterId = settings.clusterId !== "" ? settings.clusterId : (clusters.data?.[0]?.id ?? "");
  const editable = useMemo(() => egg?.variables.filter((variable) => variable.user_editable) ?? [], [egg]);
  const clientErrors = useMemo(() => (egg ? variableErrors(egg, values) : {}), [egg, values]);
  const variablesValid = Object.values(clientErrors).every((message) => message === null);
  const limitErrors = limitErrorsOf(settings);
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

  const { run, busy, error, setError } = useAction(async (body: ContainerCreate) => {
    try {
      return await createContainer(body);
    } catch (caught) {
      const refused = toApiError(caught);
      // A variable the server refused: back to that step, where the message sits under the variable.
      if (editable.some((variable) => refused.fieldMessages(variable.env_variable).length > 0)) setStep(1);
      throw refused;
    }
  }, setAccepted);

  async function create(): Promise<void> {
    if (egg === undefined) return;
    const environment: Record<string, string> = {};
    for (const variable of editable) environment[variable.env_variable] = values[variable.env_variable] ?? variable.default_value;
    const image = settings.image !== "" ? settings.image : undefined;
    const body: ContainerCreate = {
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
    };
    await run(body);
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
            <EggStep
              eggs={eggs}
              grouped={grouped}
              eggId={eggId}
              onPick={(item) => {
                setEggId(item.id);
                setValues(Object.fromEntries(item.variables.map((variable) => [variable.env_variable, variable.default_value])));
                setSetting("image", "");
                setError(null);
              }}
            />
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
            <LimitsStep
              egg={egg}
              settings={settings}
              setSettings={setSettings}
              clusterId={clusterId}
              clusters={clusters.data}
              nodes={canPickNode ? nodes.data : []}
              canPickNode={canPickNode}
              touched={touched}
              limitErrors={limitErrors}
              serverErrors={serverErrors}
            />
          )}
          {step === 3 && egg !== undefined && (
            <ReviewStep egg={egg} settings={settings} clusterId={clusterId} clusters={clusters.data} nodes={canPickNode ? nodes.data : []} editable={editable} values={values} />
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
