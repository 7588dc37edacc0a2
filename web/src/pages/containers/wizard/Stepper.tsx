/** The row of the wizard's four steps, the current one highlighted. */
import { STEPS, type Step } from "./model";

export function Stepper({ step }: { step: Step }) {
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
