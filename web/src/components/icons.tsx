/** Small outline icons drawn inline (no icon font, no other origin), sized and colored by the caller. */
import type { ReactNode } from "react";

export interface IconProps {
  className?: string;
}

export type IconComponent = (props: IconProps) => ReactNode;

function Outline({ className = "size-5", children }: IconProps & { children: ReactNode }) {
  return (
    <svg
      className={className}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.75}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

export function CloudIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M7 18.5a4.5 4.5 0 0 1-.6-8.96 6 6 0 0 1 11.45-1.7A5.25 5.25 0 0 1 17.25 18.5Z" />
    </Outline>
  );
}

export function HomeIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M3.5 10.5 12 3.75l8.5 6.75" />
      <path d="M5.5 9v10.25h4.75V14.5h3.5v4.75h4.75V9" />
    </Outline>
  );
}

export function FolderIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M3.5 7.25A1.75 1.75 0 0 1 5.25 5.5h4l2 2.25h7.5a1.75 1.75 0 0 1 1.75 1.75v8.75A1.75 1.75 0 0 1 18.75 20H5.25a1.75 1.75 0 0 1-1.75-1.75Z" />
    </Outline>
  );
}

export function DocumentIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M14 3.5H7.25A1.75 1.75 0 0 0 5.5 5.25v13.5a1.75 1.75 0 0 0 1.75 1.75h9.5a1.75 1.75 0 0 0 1.75-1.75V8Z" />
      <path d="M14 3.5V8h4.5M8.75 12.5h6.5M8.75 16h4.5" />
    </Outline>
  );
}

export function AppsIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <rect x="4" y="4" width="6.5" height="6.5" rx="1.5" />
      <rect x="13.5" y="4" width="6.5" height="6.5" rx="1.5" />
      <rect x="4" y="13.5" width="6.5" height="6.5" rx="1.5" />
      <rect x="13.5" y="13.5" width="6.5" height="6.5" rx="1.5" />
    </Outline>
  );
}

export function ContainerIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M12 3.25 19.75 7.5v9L12 20.75 4.25 16.5v-9Z" />
      <path d="M4.5 7.6 12 11.75l7.5-4.15M12 11.75v8.75" />
    </Outline>
  );
}

export function CodeIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <rect x="3.25" y="4.5" width="17.5" height="15" rx="2" />
      <path d="m7.5 10 2.5 2.25-2.5 2.25M12.5 15h4" />
    </Outline>
  );
}

export function MailIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <rect x="3.25" y="5.5" width="17.5" height="13" rx="2" />
      <path d="m4 7 8 6 8-6" />
    </Outline>
  );
}

export function ChartIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M3.75 19.75h16.5" />
      <path d="m5 15 4.25-4.5 3.5 3 6.25-7" />
    </Outline>
  );
}

export function ShieldIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M12 3.25 19 6v5.5c0 4.25-2.9 7.6-7 9.25-4.1-1.65-7-5-7-9.25V6Z" />
      <path d="m9 12 2.1 2.1L15.25 10" />
    </Outline>
  );
}

export function PulseIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M3 12h4l2.25-5.5 4.5 11 2.25-5.5H21" />
    </Outline>
  );
}

export function MenuIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M4 7h16M4 12h16M4 17h16" />
    </Outline>
  );
}

export function CloseIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="m6 6 12 12M18 6 6 18" />
    </Outline>
  );
}

export function RefreshIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M19.5 12a7.5 7.5 0 0 1-13.06 5.03M4.5 12a7.5 7.5 0 0 1 13.06-5.03" />
      <path d="M17.75 3.5v3.75H14M6.25 20.5v-3.75H10" />
    </Outline>
  );
}

export function ArrowRightIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M5 12h14M13.5 6.5 19 12l-5.5 5.5" />
    </Outline>
  );
}

export function UserIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <circle cx="12" cy="8.5" r="3.75" />
      <path d="M4.75 20a7.25 7.25 0 0 1 14.5 0" />
    </Outline>
  );
}

export function SearchIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <circle cx="10.75" cy="10.75" r="6.25" />
      <path d="m15.5 15.5 4.75 4.75" />
    </Outline>
  );
}

export function PlusIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M12 5v14M5 12h14" />
    </Outline>
  );
}

export function DownloadIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M12 4v11M7.5 10.75 12 15.25l4.5-4.5M4.75 19.5h14.5" />
    </Outline>
  );
}

export function SignOutIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M14 4.5H6.75A1.75 1.75 0 0 0 5 6.25v11.5a1.75 1.75 0 0 0 1.75 1.75H14" />
      <path d="M10.5 12H20m-3.25-3.5L20.25 12l-3.5 3.5" />
    </Outline>
  );
}

export function KeyIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <circle cx="8.5" cy="15.5" r="4" />
      <path d="m11.4 12.6 8.1-8.1M16.5 7.5l2.5 2.5M14.25 9.75l2 2" />
    </Outline>
  );
}

export function DevicesIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <rect x="2.75" y="5" width="13.5" height="10" rx="1.5" />
      <path d="M6 18.5h7" />
      <rect x="17" y="8.5" width="4.25" height="10" rx="1" />
    </Outline>
  );
}

export function ListIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="M9 6.5h11M9 12h11M9 17.5h11" />
      <circle cx="4.75" cy="6.5" r="0.75" />
      <circle cx="4.75" cy="12" r="0.75" />
      <circle cx="4.75" cy="17.5" r="0.75" />
    </Outline>
  );
}

export function UsersIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <circle cx="9" cy="8.5" r="3.25" />
      <path d="M3 19.5a6 6 0 0 1 12 0" />
      <path d="M15.5 5.5a3.25 3.25 0 0 1 0 6.25M17.5 13.9a6 6 0 0 1 3.5 5.6" />
    </Outline>
  );
}

export function ChevronDownIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <path d="m6.5 9.5 5.5 5.5 5.5-5.5" />
    </Outline>
  );
}

export function LockIcon(props: IconProps) {
  return (
    <Outline {...props}>
      <rect x="5" y="10.5" width="14" height="10" rx="2" />
      <path d="M8 10.5V7.5a4 4 0 0 1 8 0v3" />
    </Outline>
  );
}
