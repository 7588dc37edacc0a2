/**
 * A combobox that picks several items (a document's tags, its categories): the picked ones as chips, an input that
 * filters the rest as one types, arrow keys and Enter to pick, Backspace on an empty input to drop the last.
 */
import { useId, useState, type ReactNode } from "react";

import { inputClass } from "../../components/Form";

export interface PickerOption {
  id: string;
  /** What is shown and matched ("Finance / Taxes"). */
  label: string;
}

export function MultiPicker({
  id,
  label,
  options,
  selected,
  onChange,
  renderChip,
  placeholder,
  empty,
  disabled = false,
}: {
  /** The input's id (a `<Field>`'s label points at it). */
  id: string;
  /** The input's accessible name when no label points at it, and the list's. */
  label: string;
  options: readonly PickerOption[];
  selected: readonly string[];
  onChange: (ids: string[]) => void;
  /** A picked item as a chip, with the function that removes it. */
  renderChip: (option: PickerOption, remove: () => void) => ReactNode;
  placeholder: string;
  /** What the list says when nothing is left to pick. */
  empty: string;
  disabled?: boolean;
}) {
  const listId = useId();
  const [text, setText] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const picked = selected.map((value) => options.find((option) => option.id === value)).filter((option) => option !== undefined);
  const words = text.trim().toLocaleLowerCase();
  const matches = options.filter((option) => !selected.includes(option.id) && option.label.toLocaleLowerCase().includes(words));
  const activeIndex = Math.min(active, matches.length - 1);

  const pick = (option: PickerOption): void => {
    onChange([...selected, option.id]);
    setText("");
    setActive(0);
  };
  const remove = (value: string): void => {
    onChange(selected.filter((item) => item !== value));
  };

  return (
    <div className="relative">
      {picked.length > 0 && (
        <ul className="mb-2 flex flex-wrap gap-1.5" aria-label={`${label}: picked`}>
          {picked.map((option) => (
            <li key={option.id}>{renderChip(option, () => { remove(option.id); })}</li>
          ))}
        </ul>
      )}
      <input
        id={id}
        type="text"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={open && activeIndex >= 0 ? `${listId}-${activeIndex}` : undefined}
        className={inputClass}
        placeholder={placeholder}
        disabled={disabled}
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          setActive(0);
          setOpen(true);
        }}
        onFocus={() => { setOpen(true); }}
        onBlur={() => { setOpen(false); }}
        onKeyDown={(event) => {
          if (event.key === "ArrowDown" || event.key === "ArrowUp") {
            event.preventDefault();
            setOpen(true);
            const step = event.key === "ArrowDown" ? 1 : -1;
            setActive(matches.length === 0 ? 0 : (activeIndex + step + matches.length) % matches.length);
          } else if (event.key === "Enter") {
            const option = matches[activeIndex];
            if (open && option !== undefined) {
              event.preventDefault();
              pick(option);
            }
          } else if (event.key === "Escape") {
            if (open) event.stopPropagation();
            setOpen(false);
          } else if (event.key === "Backspace" && text === "" && selected.length > 0) {
            remove(selected[selected.length - 1] ?? "");
          }
        }}
      />
      {open && !disabled && (
        <ul
          id={listId}
          role="listbox"
          aria-label={label}
          className="absolute z-30 mt-1 max-h-56 w-full overflow-y-auto rounded-lg border border-slate-200 bg-white py-1 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900"
        >
          {matches.length === 0 && <li className="px-3 py-1.5 text-slate-500 dark:text-slate-400">{empty}</li>}
          {matches.map((option, index) => (
            <li
              key={option.id}
              id={`${listId}-${index}`}
              role="option"
              aria-selected={index === activeIndex}
              className={`cursor-pointer px-3 py-1.5 ${index === activeIndex ? "bg-sky-50 text-sky-900 dark:bg-sky-500/15 dark:text-sky-100" : "text-slate-700 dark:text-slate-200"}`}
              // mousedown, not click: the input keeps its focus (a click would blur it and close the list first).
              onMouseDown={(event) => {
                event.preventDefault();
                pick(option);
              }}
              onMouseEnter={() => { setActive(index); }}
            >
              {option.label}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
