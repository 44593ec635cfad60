// The dashboard type from Grafana's own schema package, loosened only where JSON cannot follow
// TypeScript: a string enum such as ThresholdsMode accepts its values as plain literals
// ("absolute"), which is how they appear in a dashboard file. Everything else stays strict,
// unknown keys included.
import type { Dashboard } from '@grafana/schema';

type Literal<T> = T extends string
  ? T | `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends Array<infer Item>
      ? Array<Literal<Item>>
      : T extends object
        ? { [Key in keyof T]: Literal<T[Key]> }
        : T;

export type DashboardJson = Literal<Dashboard>;
