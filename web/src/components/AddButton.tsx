/** The primary "New …" button of a page header: a plus sign and the label. */
import { buttonClass } from "./Button";
import { PlusIcon } from "./icons";

export function AddButton({ label, disabled = false, onClick }: { label: string; disabled?: boolean; onClick: () => void }) {
  return (
    <button type="button" className={buttonClass.primary} disabled={disabled} onClick={onClick}>
      <PlusIcon className="size-4" />
      {label}
    </button>
  );
}
