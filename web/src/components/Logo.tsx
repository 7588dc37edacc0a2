/** The Nubes mark: a filled cloud in the brand gradient, and the product name beside it. */
import { useId } from "react";

export function LogoMark({ className = "size-7" }: { className?: string }) {
  const gradient = useId();
  return (
    <svg className={className} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <defs>
        <linearGradient id={gradient} x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#38bdf8" />
          <stop offset="1" stopColor="#4f46e5" />
        </linearGradient>
      </defs>
      <rect width="32" height="32" rx="8" fill={`url(#${gradient})`} />
      <path
        d="M10.5 22.5a4.25 4.25 0 0 1-.55-8.46 6.1 6.1 0 0 1 11.6-1.6 5.05 5.05 0 0 1 .2 10.06Z"
        fill="#fff"
      />
    </svg>
  );
}

export function Logo() {
  return (
    <span className="flex items-center gap-2.5">
      <LogoMark />
      <span className="text-lg font-semibold tracking-tight text-slate-900 dark:text-white">Nubes</span>
    </span>
  );
}
