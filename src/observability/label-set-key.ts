/** One string per label set, in `labelNames` order: how lazy metrics find the child already bound to it. */
export function labelSetKey<L extends string>(labelNames: readonly L[], labels: Readonly<Record<L, string>>): string {
  return labelNames.map((label) => labels[label]).join("\u0000");
}
