/** The end of a consent screen (an app's OAuth request, a sync client's sign-in): what went wrong, then refuse or allow. */
import type { ApiError } from "../api/problem";
import { buttonClass } from "./Button";
import { Alert } from "./Form";

export function ConsentActions({
  error,
  busy,
  refuseLabel,
  allowLabel,
  busyLabel,
  onAnswer,
}: {
  error: ApiError | null;
  busy: boolean;
  refuseLabel: string;
  allowLabel: string;
  /** What the allow button says while the answer is on its way ("Allowing…"). */
  busyLabel: string;
  onAnswer: (allow: boolean) => void;
}) {
  return (
    <>
      {error !== null && (
        <div className="mt-4 w-full text-left">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}
      <div className="mt-6 flex w-full flex-col-reverse gap-3 sm:flex-row sm:justify-center">
        <button
          type="button"
          className={buttonClass.secondary}
          disabled={busy}
          onClick={() => {
            onAnswer(false);
          }}
        >
          {refuseLabel}
        </button>
        <button
          type="button"
          className={buttonClass.primary}
          disabled={busy}
          onClick={() => {
            onAnswer(true);
          }}
        >
          {busy ? busyLabel : allowLabel}
        </button>
      </div>
    </>
  );
}
