/** Label matchers as people type and read them: `key=value, key=value`. */

/** The matchers as `key=value` pairs joined by commas. */
export function formatMatchers(matchers: Record<string, string> | undefined): string {
  return Object.entries(matchers ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");
}
