/** The card of a settings page: the load error, a skeleton until the settings arrive, then the form (given the settings). */
import type { ReactNode } from "react";

import type { ApiError } from "../api/problem";
import { Card, Skeleton } from "./Card";
import { Alert } from "./Form";

export function SettingsCard<T>({
  title,
  settings,
  skeletonClass = "h-40",
  children,
}: {
  title: string;
  /** The settings query (`useRegistrationSettings()`, `useAdminLinkPolicy()`…). */
  settings: { data: T | undefined; error: ApiError | null; isFetching: boolean };
  /** The skeleton's height class. */
  skeletonClass?: string;
  /** The form, given the loaded settings. */
  children: (current: T) => ReactNode;
}) {
  const { data, error, isFetching } = settings;
  return (
    <div className="max-w-2xl">
      <Card title={title}>
        {error !== null && <Alert tone="danger">{error.message}</Alert>}
        {data === undefined && isFetching && <Skeleton className={`${skeletonClass} w-full`} />}
        {data !== undefined && children(data)}
      </Card>
    </div>
  );
}
